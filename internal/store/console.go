package store

import "time"

// ConnectionQuery narrows a page of connections for the console. Empty
// fields match everything.
type ConnectionQuery struct {
	TenantID string
	Provider string
	Status   Status
	// ExpiresBefore keeps grants whose absolute or idle lifetime ends
	// before it; zero keeps every grant.
	ExpiresBefore time.Time
	// Search matches a connection id exactly or an account email by
	// case-insensitive prefix.
	Search string
}

// ConnectionCount is how many connections one provider has in one status.
type ConnectionCount struct {
	Provider string
	Status   Status
	Count    int
}

// ConsoleSession is one signed-in console browser. ID is the SHA-256 of
// the random value in the browser's cookie, so the stored row cannot be
// used to sign in. Admin sessions see every tenant; a tenant session has
// TenantID set and sees that tenant alone.
type ConsoleSession struct {
	ID        []byte
	TenantID  string
	Admin     bool
	ExpiresAt time.Time
	CreatedAt time.Time
}

// EventCount is how many events of one kind were recorded in one hour.
type EventCount struct {
	Hour  time.Time // the start of the hour, UTC
	Kind  string
	Count int
}

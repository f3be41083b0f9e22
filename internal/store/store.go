package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// Sentinel errors every backend returns, wrapped, so callers can branch with
// [errors.Is].
var (
	// ErrNotFound: no row has that key (or it belongs to another tenant).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a row with that unique key exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the row changed since it was read (version mismatch) or
	// a lease is held by someone else.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database could not be reached (down, restarting,
	// or the connection to it refused); the same call may succeed later.
	ErrUnavailable = errors.New("database unavailable")
)

// Unavailable reports whether err, returned by a Store, says the database
// could not be reached rather than anything about the data: ErrUnavailable,
// or a connection lost in the middle of an operation (the driver's bad
// connection, an unexpected EOF, a network error, a driver error that
// says it never reached the server). Apply it to store
// errors only: a network error from elsewhere says nothing about the
// database.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	// A driver error that failed before reaching the server, such as pgx's
	// "conn closed" on a connection the server dropped.
	r, ok := errors.AsType[interface {
		error
		SafeToRetry() bool
	}](err)
	return ok && r.SafeToRetry()
}

// Status is a connection's lifecycle state.
type Status string

const (
	// StatusActive: grantd can obtain access tokens.
	StatusActive Status = "active"
	// StatusNeedsReauth: the grant is gone (invalid_grant after re-reading,
	// or expired); the tenant must consent again.
	StatusNeedsReauth Status = "needs_reauth"
	// StatusRevoked: the tenant or operator disconnected it.
	StatusRevoked Status = "revoked"
)

// Sealed is a ciphertext produced by the vault. Stores keep it as opaque
// bytes; only the vault opens it.
type Sealed []byte

// Tenant is a customer of the application (an MSP).
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// APIKey is a tenant's credential for the HTTP API. Only a hash of the key
// is stored; the key itself is shown once at creation.
type APIKey struct {
	ID       string
	TenantID string
	Hash     []byte // SHA-256 of the full key
	Prefix   string // the first characters, to recognise a key in lists
	// Name is the tenant's label for the key ("billing job", "ci").
	Name      string
	CreatedAt time.Time
	// LastUsedAt is when the key last authenticated a request, written at
	// most about once a minute; zero: never.
	LastUsedAt time.Time
	// ExpiresAt is when the key stops working; zero: never.
	ExpiresAt time.Time
}

// AllTenants is the entry of [Integration.Tenants] that lets every tenant
// use an operator integration.
const AllTenants = "*"

// Integration is one OAuth client registered with a provider. TenantID is
// empty for an operator-owned integration, which the tenants named by
// Tenants may use.
type Integration struct {
	ID           string
	TenantID     string
	Provider     string
	Name         string
	ClientID     string
	ClientSecret Sealed // AAD "integration:<id>:client_secret"
	RedirectURI  string // exact; its path is the integration's own callback
	Scopes       []string
	Audience     string
	// PartnerToken is the partner's long-lived refresh token of a
	// partner_refresh_bearer provider (Daxko, seeds/004), sent as bearer to
	// the token endpoint for every client-scoped connection; empty for
	// other grants. AAD "integration:<id>:partner_token".
	PartnerToken Sealed
	// IsDefault makes it the integration a tenant's connect uses when it
	// names only the provider; a tenant has at most one default per
	// provider, and one that is not default never takes over.
	IsDefault bool
	// TenantsListed says that Tenants decides which tenants may use this
	// operator integration: those it names, or every tenant when it holds
	// [AllTenants]. When false the provider's grant decides: every tenant
	// for a delegated (authorization_code) integration, none for an
	// operator credential (client credentials, a partner token). A
	// tenant's own integration ignores both.
	TenantsListed bool
	Tenants       []string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// LastError is the vendor's scrubbed reason for refusing the
	// integration's client credentials at the token endpoint, and BrokenAt
	// when it first did; both are empty while the credentials work (the
	// next token issued clears them).
	LastError string
	BrokenAt  time.Time
}

// ConnectLink is what POST /v1/connect-sessions creates: a page URL a tenant's
// user opens to see the integration and press its button. It carries no
// OAuth state yet. The link token is stored hashed.
type ConnectLink struct {
	ID            string
	TokenHash     []byte
	TenantID      string
	IntegrationID string
	ReturnTo      string // already checked against the allow-list
	ConnectionID  string // set when reauthorizing an existing connection
	// AllowAccountChange lets a reauthorization come back with another
	// vendor account than the connection's.
	AllowAccountChange bool
	ExpiresAt          time.Time
	CreatedAt          time.Time
	// UsedAt is when the link produced a connection; a used link is spent.
	UsedAt time.Time
	// EndUser and Tags are the application's, copied to the session and
	// the connection.
	EndUser EndUser
	Tags    []string
}

// EndUser is the application's user a connection is for, as the
// application names them. grantd only stores and returns it.
type EndUser struct {
	ID          string
	Email       string
	DisplayName string
}

// ConnectSession is one authorization in flight (after the button is
// pressed). It is single use: [Store.ConsumeConnectSession] deletes it.
type ConnectSession struct {
	ID            string
	StateHash     []byte // SHA-256 of state; state itself is never stored
	BrowserHash   []byte // SHA-256 of the HttpOnly browser-binding cookie
	TenantID      string
	IntegrationID string
	Provider      string
	Issuer        string // what the request was sent to (RFC 9700 §4.4.2)
	AuthorizeURL  string
	TokenURL      string
	RedirectURI   string
	Audience      string
	Scopes        []string
	Nonce         Sealed // AAD "connect_session:<id>:nonce"
	Verifier      Sealed // AAD "connect_session:<id>:verifier"
	ReturnTo      string
	ConnectionID  string // reauthorization target, if any
	// LinkID is the connect link the session was started from, spent when
	// the session produces a connection.
	LinkID string
	// AllowAccountChange is the link's: see [ConnectLink].
	AllowAccountChange bool
	ExpiresAt          time.Time
	CreatedAt          time.Time
	// EndUser and Tags are the link's.
	EndUser EndUser
	Tags    []string
}

// Connection is one live grant. Sealed fields are bound to the row with AAD
// "connection:<id>:<field>".
type Connection struct {
	ID            string
	TenantID      string
	IntegrationID string
	Provider      string
	Status        Status
	Subject       string // id_token sub (the partner user), if any
	Email         string
	Scopes        []string // as granted (RFC 6749 §5.1)
	// RequestedScopes are the scopes the authorization asked for; Scopes
	// may lack some (openid, offline_access) that the token response does
	// not list.
	RequestedScopes []string
	TokenType       string
	// EndUser and Tags are the connect link's (the application's names).
	EndUser EndUser
	Tags    []string

	AccessToken  Sealed
	RefreshToken Sealed
	IDToken      Sealed

	AccessExpiresAt      time.Time // zero: unknown
	RefreshExpiresAt     time.Time // absolute lifetime end; zero: none
	RefreshIdleExpiresAt time.Time // inactivity lifetime end; zero: none
	LastRefreshAt        time.Time
	ConnectedAt          time.Time

	// Version increases by one on every write; UpdateConnection refuses a
	// stale writer.
	Version int64
	// LeaseOwner and LeaseExpiresAt name the process refreshing the grant.
	LeaseOwner     string
	LeaseExpiresAt time.Time

	// RefreshAttempt, RefreshStartedAt and RefreshReplays are the refresh
	// journal, written before a refresh request that may consume the
	// refresh token leaves and cleared when its outcome is stored.
	// RefreshAttempt names the request in flight ("" when none);
	// RefreshStartedAt is when the current refresh token was first sent;
	// RefreshReplays counts how often it was sent again after an answer was
	// lost. A non-empty RefreshAttempt with no live lease is a refresh whose
	// answer nobody stored; the broker schedules such a row at once.
	RefreshAttempt   string
	RefreshStartedAt time.Time
	RefreshReplays   int
	// ObservedRotation is what the provider did with the refresh token at
	// this grant's last refresh: RotationUnknown before the first refresh
	// of a consent, then RotationRotates or RotationKept. For a provider
	// that may rotate, a grant seen to keep its token consumes nothing
	// when refreshed, so a lost answer is safe to retry.
	ObservedRotation ObservedRotation

	// FailureCount, NextAttemptAt and LastError track transient refresh
	// failures, which never change Status.
	FailureCount  int
	NextAttemptAt time.Time
	LastError     string

	// NextRefreshAt is when the connection must next be refreshed (or
	// looked at: a grant past its absolute lifetime is marked
	// needs_reauth); zero means it is not scheduled and never needs a
	// refresh. The broker computes it on every write (access expiry less
	// the expiry margin, or the idle deadline less the idle margin,
	// whichever is first, pushed back by a pending backoff); the store only
	// persists it and claims the connections it makes due (see ClaimDue).
	NextRefreshAt time.Time

	// ReauthNoticeAt is when the next reauth_due notice about the end of
	// RefreshExpiresAt falls due; zero means no notice was sent for this
	// grant yet, so the first falls due at the first threshold. The broker
	// moves it forward, version-checked, each time it sends one, so a
	// notice is sent once across replicas (see DueForReauthNotice).
	ReauthNoticeAt time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// ObservedRotation records whether a grant's refresh token was replaced at
// its last refresh.
type ObservedRotation string

const (
	// RotationUnknown: not refreshed since consent.
	RotationUnknown ObservedRotation = ""
	// RotationRotates: the last refresh returned a new refresh token.
	RotationRotates ObservedRotation = "rotates"
	// RotationKept: the last refresh kept the refresh token.
	RotationKept ObservedRotation = "kept"
)

// Event is an entry in a connection's history (connected, refreshed,
// needs_reauth, …).
type Event struct {
	ID           int64
	TenantID     string
	ConnectionID string
	// IntegrationID and Provider are the connection's, recorded with the
	// event so that they outlive a deleted connection.
	IntegrationID string
	Provider      string
	Kind          string
	Detail        string
	CreatedAt     time.Time
	// EndUser and Tags are the connection's when the event happened, for
	// webhooks. They are not stored with the event: a delivery rebuilt
	// from the events table after a crash goes without them.
	EndUser EndUser
	Tags    []string
}

// DeliveryState is where a webhook delivery stands in the outbox.
type DeliveryState string

const (
	// DeliveryPending: not delivered yet; due at NextAttemptAt.
	DeliveryPending DeliveryState = "pending"
	// DeliveryDelivered: the receiver answered 2xx.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailed: refused for good (a 3xx or 4xx) or out of attempts.
	DeliveryFailed DeliveryState = "failed"
)

// Delivery is one event on its way to one webhook endpoint, kept in the
// durable outbox until it is delivered or fails (see package notify). It
// holds no secret: Payload is the token-free JSON body and Endpoint a
// stable key derived from the endpoint's URL, never its signing secret.
type Delivery struct {
	// ID is the Grantd-Delivery header value, the same on every attempt.
	ID string
	// TenantID is the tenant whose event it carries, "" for an
	// operator-level event.
	TenantID string
	// Endpoint is the key of the endpoint it goes to.
	Endpoint string
	// EventID is the payload's event id, shared by the deliveries of one
	// event to several endpoints.
	EventID   string
	EventType string
	// Payload is the exact body posted (and signed).
	Payload []byte
	State   DeliveryState
	// Attempts counts the claims made for it, each of which may have
	// posted once.
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	// LeaseOwner and LeaseExpiresAt name the sender posting it now, so
	// that two replicas never post it at the same time.
	LeaseOwner     string
	LeaseExpiresAt time.Time
	CreatedAt      time.Time
	// FinishedAt is when it was delivered or failed; zero while pending.
	FinishedAt time.Time
}

// OrgMapping links a provider-side account (a Pax8 company) to the tenant's
// own organisation id.
type OrgMapping struct {
	TenantID     string
	ConnectionID string
	ExternalID   string // e.g. the Pax8 company id
	ExternalName string
	OrgID        string
	UpdatedAt    time.Time
}

// Organization is one of a tenant's own organisations (a customer record in
// the tenant's PSA or billing system), the target of an [OrgMapping].
type Organization struct {
	TenantID string
	ID       string
	Name     string
}

// MappingLink is what POST /v1/connections/{id}/mapping-links creates: a
// short-lived page URL on which a tenant's user maps the connection's
// companies. The link token is stored hashed.
type MappingLink struct {
	ID           string
	TokenHash    []byte
	TenantID     string
	ConnectionID string
	ExpiresAt    time.Time
	CreatedAt    time.Time
}

// DeliveryFilter narrows ListDeliveries. Empty fields match everything,
// except that TenantID is always matched when AllTenants is false.
type DeliveryFilter struct {
	TenantID   string
	AllTenants bool
	State      DeliveryState
	Endpoint   string
	// After is the keyset cursor: only deliveries whose ID sorts after it.
	After string
	// Limit caps the result (default and maximum 500).
	Limit int
}

// IdempotencyState is where an [IdempotencyKey]'s request stands.
type IdempotencyState string

// Idempotency key states.
const (
	// IdempotencyInFlight: a process holds the lease and is sending, or
	// about to send, the request.
	IdempotencyInFlight IdempotencyState = "in_flight"
	// IdempotencyDone: the answer (Status, Body) is recorded.
	IdempotencyDone IdempotencyState = "done"
)

// IdempotencyKey is one tenant's Idempotency-Key for a write action: the
// hash of the request it was first used with and, once done, the answer.
// Keys are scoped by TenantID: two tenants may use the same Key.
type IdempotencyKey struct {
	TenantID    string
	Key         string
	RequestHash []byte
	State       IdempotencyState
	// Owner holds the lease on an in-flight key until LeaseExpiresAt.
	Owner          string
	LeaseExpiresAt time.Time
	// SentAt is when the request was first sent to the provider (zero:
	// never), so a successor knows it must look before sending again.
	SentAt time.Time
	// Status and Body are the recorded answer of a done key.
	Status int
	Body   []byte
	// ResourceID is the provider's id of what the write created or
	// changed ("" for none); one tenant's keys never share one.
	ResourceID string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// ConnectionFilter narrows ListConnections. Empty fields match everything.
type ConnectionFilter struct {
	TenantID string
	Status   Status
	// EndUserID matches EndUser.ID exactly.
	EndUserID string
	// Tag matches connections whose Tags include it.
	Tag string
	// Limit, when positive, returns at most this many.
	Limit int
}

// Store is grantd's persistence. Every method is safe for concurrent use.
// Times are stored and returned in UTC with at least microsecond precision.
// Tenant scoping is the caller's job (the broker checks TenantID), except
// where a method takes a tenant id.
type Store interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)

	// DeleteTenant removes the tenant and every row it owns: API keys,
	// integrations, connect links and sessions, connections (with their
	// sealed tokens and org mappings), organisations and mapping links, in
	// one transaction. Events stay as history. It returns ErrNotFound for
	// an unknown tenant.
	DeleteTenant(ctx context.Context, id string) error

	CreateAPIKey(ctx context.Context, k APIKey) error
	// GetAPIKeyByHash returns ErrNotFound for an unknown hash. Expiry is
	// the caller's check.
	GetAPIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// ListAPIKeys returns the tenant's keys, oldest first.
	ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error)
	// DeleteAPIKey removes the tenant's key id; ErrNotFound when the
	// tenant has no such key (another tenant's key included).
	DeleteAPIKey(ctx context.Context, tenantID, id string) error
	// TouchAPIKey sets key id's LastUsedAt to now when it is zero or
	// before notBefore, so a caller bounds the writes (now minus a minute:
	// at most one a minute). Touching an unknown key is not an error.
	TouchAPIKey(ctx context.Context, id string, now, notBefore time.Time) error

	CreateIntegration(ctx context.Context, in Integration) error
	GetIntegration(ctx context.Context, id string) (Integration, error)
	// ListIntegrations returns the tenant's integrations and the operator's
	// (TenantID ""), ordered by CreatedAt.
	ListIntegrations(ctx context.Context, tenantID string) ([]Integration, error)
	UpdateIntegration(ctx context.Context, id string, update func(Integration) (Integration, error)) error
	// DeleteIntegration removes the integration, or returns [ErrNotFound].
	// It refuses with [ErrConflict] while connections use it.
	DeleteIntegration(ctx context.Context, id string) error

	CreateConnectLink(ctx context.Context, l ConnectLink) error
	GetConnectLinkByTokenHash(ctx context.Context, hash []byte) (ConnectLink, error)
	// SpendConnectLink sets link id's UsedAt to now if it is unused, and
	// returns ErrConflict when it was already spent (of two concurrent
	// callers exactly one succeeds) and ErrNotFound for an unknown id.
	SpendConnectLink(ctx context.Context, id string, now time.Time) error
	// CountConnectLinks returns how many of the tenant's connect links
	// created at or after since are stored, and the creation time of the
	// oldest of them (zero when there is none).
	CountConnectLinks(ctx context.Context, tenantID string, since time.Time) (n int, oldest time.Time, err error)

	CreateConnectSession(ctx context.Context, s ConnectSession) error
	// ConsumeConnectSession atomically deletes and returns the session with
	// that state hash. A second call returns ErrNotFound. Expiry is the
	// caller's check.
	ConsumeConnectSession(ctx context.Context, stateHash []byte) (ConnectSession, error)
	// DeleteExpired removes connect sessions and links that expired before
	// now and returns how many rows went. A connect link is kept for at
	// least an hour after its creation, so that CountConnectLinks can
	// count an hour's links whatever their lifetime.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)

	// CreateConnection stores c with Version 1.
	CreateConnection(ctx context.Context, c Connection) error
	GetConnection(ctx context.Context, id string) (Connection, error)
	// ListConnections returns the connections matching f, oldest first.
	ListConnections(ctx context.Context, f ConnectionFilter) ([]Connection, error)
	// UpdateConnection reads the row, calls update and writes the result
	// with Version+1 in one transaction, and returns the row as written.
	// It returns ErrConflict when the row's version changed between read
	// and write or update returns a different Version (a stale snapshot),
	// and whatever update returns, unchanged, when update fails; either way
	// nothing is written. ID, TenantID and CreatedAt cannot change. update
	// runs inside the transaction and must not call the store (on SQLite,
	// with one write connection, it would deadlock).
	UpdateConnection(ctx context.Context, id string, update func(Connection) (Connection, error)) (Connection, error)
	// AcquireLease sets the lease to owner until the given time when no
	// other owner holds an unexpired lease (now decides expiry). It returns
	// the row as it is after the attempt and whether the lease is owner's.
	// It does not change Version.
	AcquireLease(ctx context.Context, id, owner string, now, until time.Time) (Connection, bool, error)
	// ReleaseLease clears owner's lease; a lease held by another owner is
	// left alone.
	ReleaseLease(ctx context.Context, id, owner string) error
	// JournalRefresh records, before a refresh request leaves, that the
	// request named attempt is about to send refreshToken: it sets
	// RefreshAttempt and, when no attempt was journaled, RefreshStartedAt
	// to now and RefreshReplays to 0, else adds one to RefreshReplays. It
	// also makes the row due at now (NextRefreshAt), so that if its answer
	// is never stored, ClaimDue finds it as soon as the lease lapses. It
	// writes only while owner holds an unexpired lease and the row still
	// holds refreshToken, returning [ErrConflict] otherwise, and like the
	// lease it does not change Version. It returns the row as written.
	JournalRefresh(ctx context.Context, id, owner, attempt string, refreshToken Sealed, now time.Time) (Connection, error)
	// ClaimDue leases to owner until the given time, in one conditional
	// write, up to limit active connections whose NextRefreshAt is set and
	// not after now and on which no lease is live at now (a lease is live
	// while its LeaseExpiresAt is after now, whoever holds it, owner
	// included: a row owner already holds is being worked on). That
	// includes a refresh whose answer nobody stored (RefreshAttempt set,
	// lease lapsed) once it is due. It returns the claimed rows as written,
	// soonest NextRefreshAt first, then by ID; two concurrent claimers
	// never get the same row. Like AcquireLease it does not change
	// Version. A limit of zero or less claims nothing; an empty owner, or
	// until not after now, is an error.
	ClaimDue(ctx context.Context, owner string, now, until time.Time, limit int) ([]Connection, error)
	// NextRefreshDue returns the earliest NextRefreshAt among active
	// connections that have one and on which no lease is live at now, or
	// the zero time when there is none: when ClaimDue will next find work,
	// unless a write moves a row earlier or a live lease lapses first (a
	// scheduler waiting for it should also wake at least once per lease
	// duration, to take over rows whose holder died).
	NextRefreshDue(ctx context.Context, now time.Time) (time.Time, error)
	// DueForReauthNotice lists active connections whose absolute lifetime
	// (RefreshExpiresAt) ends after now and no later than before, and whose
	// ReauthNoticeAt is zero or not after now, soonest end first. A limit
	// of zero or less means no limit.
	DueForReauthNotice(ctx context.Context, now, before time.Time, limit int) ([]Connection, error)
	// DeleteConnection removes the connection, its sealed tokens and its
	// org mappings; its events stay as history. It returns ErrNotFound
	// when there was nothing to delete.
	DeleteConnection(ctx context.Context, id string) error

	// AddEvent appends e to its connection's history and returns the ID
	// the database gave it (e.ID is ignored).
	AddEvent(ctx context.Context, e Event) (int64, error)
	// ListEvents returns the connection's events, newest first; a limit of
	// zero or less means all.
	ListEvents(ctx context.Context, connectionID string, limit int) ([]Event, error)
	// EventsSince returns the events of every connection created at or
	// after since with an ID above afterID, in ID order, at most limit
	// (zero or less: all). Paging: pass the last ID seen as afterID.
	EventsSince(ctx context.Context, since time.Time, afterID int64, limit int) ([]Event, error)

	// EnqueueDeliveries adds ds to the webhook outbox in one transaction,
	// as pending with no attempt and no lease (their State, Attempts,
	// LeaseOwner, LeaseExpiresAt and FinishedAt are ignored). A zero
	// CreatedAt is the current time and a zero NextAttemptAt is CreatedAt.
	// A delivery whose ID is already stored is skipped, so enqueueing the
	// same deterministic IDs again is harmless; it returns how many were
	// added.
	EnqueueDeliveries(ctx context.Context, ds []Delivery) (int, error)
	// ClaimDeliveries leases up to limit pending deliveries to owner until
	// the given time, in one conditional write: those for one of endpoints
	// whose NextAttemptAt is not after now and that no other owner holds
	// an unexpired lease on (now decides expiry). Each claim adds one to
	// Attempts. It returns the claimed rows as written, due first; two
	// concurrent claimers never get the same row. A limit of zero or less,
	// or no endpoints, claims nothing.
	ClaimDeliveries(ctx context.Context, owner string, endpoints []string, now, until time.Time, limit int) ([]Delivery, error)
	// MarkDelivered records that delivery id reached its receiver at now:
	// state delivered, lease cleared. Whoever holds the lease, a delivery
	// that was delivered stays so, and marking it again changes nothing.
	// It returns ErrNotFound for an unknown id.
	MarkDelivered(ctx context.Context, id string, now time.Time) error
	// RetryDelivery puts owner's pending delivery back as due at next with
	// lastError, releasing the lease. It returns ErrConflict when owner
	// does not hold the lease (it lapsed and another took it, or the
	// delivery is finished) and ErrNotFound for an unknown id.
	RetryDelivery(ctx context.Context, id, owner string, next time.Time, lastError string) error
	// FailDelivery marks owner's pending delivery failed at now with
	// lastError, releasing the lease; errors as RetryDelivery.
	FailDelivery(ctx context.Context, id, owner string, now time.Time, lastError string) error
	// GetDelivery returns the delivery with that id.
	GetDelivery(ctx context.Context, id string) (Delivery, error)
	// CountDeliveries returns the number of deliveries in state.
	CountDeliveries(ctx context.Context, state DeliveryState) (int, error)
	// ListDeliveries returns the deliveries matching f in ID order.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// RedeliverDelivery makes delivery id pending and due at now, with its
	// attempts reset, whatever its state; a leased one keeps its lease. It
	// returns the delivery as stored, or [ErrNotFound].
	RedeliverDelivery(ctx context.Context, id string, now time.Time) (Delivery, error)
	// CountConnections returns the number of connections by provider and
	// status.
	CountConnections(ctx context.Context, tenantID string) ([]ConnectionCount, error)
	// PruneDeliveries deletes deliveries finished (delivered or failed)
	// before before, and pending ones created before it that no unexpired
	// lease holds (an endpoint no longer configured anywhere), and returns
	// how many rows went.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)

	BillingStore

	PutOrgMapping(ctx context.Context, m OrgMapping) error
	DeleteOrgMapping(ctx context.Context, connectionID, externalID string) error
	ListOrgMappings(ctx context.Context, connectionID string) ([]OrgMapping, error)

	// PutOrganizations replaces the tenant's organisations with orgs (whose
	// TenantID is ignored) in one transaction. IDs must be unique within
	// orgs (ErrAlreadyExists otherwise, and nothing changes).
	PutOrganizations(ctx context.Context, tenantID string, orgs []Organization) error
	// ListOrganizations returns the tenant's organisations ordered by ID.
	ListOrganizations(ctx context.Context, tenantID string) ([]Organization, error)

	CreateMappingLink(ctx context.Context, l MappingLink) error
	// GetMappingLinkByTokenHash returns ErrNotFound for an unknown hash.
	// Expiry is the caller's check; DeleteExpired removes expired links.
	GetMappingLinkByTokenHash(ctx context.Context, hash []byte) (MappingLink, error)

	// BeginIdempotency looks up k's (TenantID, Key) at now, first deleting
	// it if it expired (ExpiresAt not after now). When there is none, it
	// stores k as in flight, leased to k.Owner until k.LeaseExpiresAt
	// (k.State, SentAt, Status, Body and ResourceID are ignored; a zero
	// CreatedAt is now), and returns it with started true. When an
	// in-flight key's lease has lapsed at now, it leases it to k.Owner
	// (keeping its RequestHash and SentAt) and returns it with started
	// true. Otherwise it returns the stored key, done or leased by
	// another, with started false. Comparing request hashes is the
	// caller's job. Of concurrent callers, at most one starts.
	BeginIdempotency(ctx context.Context, k IdempotencyKey, now time.Time) (_ IdempotencyKey, started bool, _ error)
	// MarkIdempotencySent sets the in-flight key's SentAt to now unless it
	// is set. It returns ErrConflict when the key is not in flight for owner
	// (another took it over, or it is done) and ErrNotFound for an unknown
	// key.
	MarkIdempotencySent(ctx context.Context, tenantID, key, owner string, now time.Time) error
	// RenewIdempotency extends owner's lease on the in-flight key to
	// until, for an attempt that runs longer than its lease. It returns
	// ErrConflict when the key is not in flight for owner and ErrNotFound
	// for an unknown key.
	RenewIdempotency(ctx context.Context, tenantID, key, owner string, until time.Time) error
	// CompleteIdempotency records the answer of owner's in-flight key:
	// state done, lease cleared. It returns ErrConflict when the key is
	// not in flight for owner (its lease lapsed and another took it over,
	// or it is done), ErrNotFound for an unknown key, and ErrAlreadyExists when
	// resourceID is not empty and another of the tenant's keys recorded
	// it; in every error case nothing changes.
	CompleteIdempotency(ctx context.Context, tenantID, key, owner string, status int, body []byte, resourceID string) error
	// ReleaseIdempotency gives up owner's in-flight key. With keep unset
	// it deletes the key (the request changed nothing: a new attempt may
	// start from scratch); with keep set it keeps the key in flight, with
	// its SentAt, and clears the lease so that the next caller takes it
	// over at once (the answer was lost: the successor must look before
	// sending again). Another owner's key or a done key is left alone.
	ReleaseIdempotency(ctx context.Context, tenantID, key, owner string, keep bool) error
	// PurgeIdempotency deletes keys that expired (ExpiresAt not after
	// now), except in-flight keys whose lease is live, and returns how
	// many rows went.
	PurgeIdempotency(ctx context.Context, now time.Time) (int, error)

	// Meta stores small operator values such as the vault key fingerprint.
	GetMeta(ctx context.Context, key string) (string, error)
	PutMeta(ctx context.Context, key, value string) error
	// ListMeta returns the values whose keys start with prefix, by key.
	// The prefix is matched literally and case-sensitively (no character
	// in it is a wildcard); an empty prefix lists every value. It returns
	// an empty map, not an error, when no key matches.
	ListMeta(ctx context.Context, prefix string) (map[string]string, error)

	Close() error
}

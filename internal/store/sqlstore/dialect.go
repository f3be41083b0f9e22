package sqlstore

import (
	"time"
)

// dialect holds what genuinely differs between the two engines. Queries
// themselves are shared and use $N placeholders, which both drivers accept.
type dialect struct {
	// name is "sqlite" or "postgres".
	name string
	// migrations is the directory of the embedded migrations.
	migrations string
	// forUpdate is appended to a SELECT inside a write transaction to lock
	// the row (PostgreSQL); SQLite's BEGIN IMMEDIATE already holds the
	// database write lock.
	forUpdate string
	// migrationLock, when not empty, is run first in the migration
	// transaction and serialises migrators across processes.
	migrationLock string
	// singleWriter is set when a process has one write connection
	// (SQLite), which a claim should not take only to find nothing due.
	singleWriter bool
	// dueIndex follows "FROM connections" in the refresh schedule's
	// queries. SQLite, without statistics, estimates an equality on status
	// as more selective than the partial index's range and would read
	// every active row through connections_reauth_due and sort them;
	// INDEXED BY makes it read connections_refresh_due (which on SQLite
	// covers the claim's conditions), or fail loudly if a schema change
	// ever makes that impossible.
	dueIndex string
	// unixMicros selects INTEGER unix microseconds (SQLite) instead of
	// native TIMESTAMPTZ values (PostgreSQL).
	unixMicros bool
}

var (
	sqliteDialect = dialect{
		name:         "sqlite",
		migrations:   "migrations/sqlite",
		singleWriter: true,
		dueIndex:     " INDEXED BY connections_refresh_due",
		unixMicros:   true,
	}
	postgresDialect = dialect{
		name:       "postgres",
		migrations: "migrations/postgres",
		forUpdate:  " FOR UPDATE",
		// An arbitrary constant naming grantd's migrations; the lock is
		// released when the transaction ends.
		migrationLock: "SELECT pg_advisory_xact_lock(7240117119)",
	}
)

// timeArg encodes t as a query argument: NULL for the zero time, otherwise
// UTC truncated to the microsecond.
func (d dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if d.unixMicros {
		return t.UnixMicro()
	}
	return t
}

// normTime returns t as the store keeps it: zero, or UTC truncated to the
// microsecond.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

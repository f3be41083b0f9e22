package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// The refresh schedule (migration 009): every active connection carries
// next_refresh_at, and schedulers claim the due ones through the partial
// index connections_refresh_due (next_refresh_at, id, …) WHERE status =
// 'active', whose order is the claim's. The status is written as a
// literal, not a parameter, so that both planners can prove the index's
// condition from the query's.

// claimable selects active rows due at $1 that no live lease holds. A
// lease is live while lease_expires_at is after $1, so a row leased until
// T is claimable at T.
const claimable = `status = 'active' AND next_refresh_at <= $1 AND ` + leaseFree

// leaseFree holds when no lease is live at $1.
const leaseFree = `(lease_owner = '' OR lease_expires_at IS NULL OR lease_expires_at <= $1)`

// ClaimDue leases up to limit due connections to owner until the given
// time in one UPDATE … RETURNING, soonest first. As in ClaimDeliveries,
// the rows are picked once in a materialized CTE (as a plain IN (subquery)
// PostgreSQL may rescan it per updated row and apply its LIMIT per rescan),
// on PostgreSQL FOR UPDATE SKIP LOCKED, so concurrent claimers take
// disjoint rows instead of queueing. On SQLite the statement runs under
// the database write lock, after a read on the read pool has checked that
// something is due, which spares the process's one write connection when
// several schedulers wake for the same rows. Neither Version nor UpdatedAt
// changes.
func (db *DB) ClaimDue(ctx context.Context, owner string, now, until time.Time, limit int) ([]store.Connection, error) {
	if owner == "" {
		return nil, errors.New("claim due connections: empty owner")
	}
	if !until.After(now) {
		return nil, fmt.Errorf("claim due connections: lease end %v is not after now %v", until, now)
	}
	if limit <= 0 {
		return nil, nil
	}
	nowArg := db.d.timeArg(now)
	if db.d.singleWriter {
		var one int
		err := db.r.QueryRowContext(ctx, `SELECT 1 FROM connections`+db.d.dueIndex+` WHERE `+claimable+` LIMIT 1`,
			nowArg).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("claim due connections: %w", err)
		}
	}
	rows, err := db.w.QueryContext(ctx, claimDueSQL(db.d), nowArg, owner, db.d.timeArg(until), limit)
	cs, err := collectConnections("claim due connections", rows, err)
	if err != nil {
		return nil, err
	}
	// RETURNING follows no ORDER BY.
	slices.SortFunc(cs, func(a, b store.Connection) int {
		if c := a.NextRefreshAt.Compare(b.NextRefreshAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return cs, nil
}

// claimDueSQL is ClaimDue's statement in dialect d: $1 now, $2 owner, $3
// the lease end, $4 the limit. The rows the CTE picks cannot change before
// the UPDATE (PostgreSQL holds their row locks, rechecked against the
// latest versions; SQLite holds the write lock), so the outer WHERE only
// repeats the lease condition as a guard. Repeating status there would
// let SQLite find the rows through connections_reauth_due (status, …),
// reading every active row, instead of by primary key.
func claimDueSQL(d dialect) string {
	lock := ""
	if d.forUpdate != "" {
		lock = d.forUpdate + " SKIP LOCKED"
	}
	return `WITH due AS MATERIALIZED (
		SELECT id FROM connections` + d.dueIndex + ` WHERE ` + claimable + `
		ORDER BY next_refresh_at, id LIMIT $4` + lock + `)
	UPDATE connections SET lease_owner = $2, lease_expires_at = $3
	WHERE id IN (SELECT id FROM due) AND ` + leaseFree + `
	RETURNING ` + connectionCols
}

// NextRefreshDue returns the smallest next_refresh_at of the active rows
// that no live lease holds, reading connections_refresh_due in order from
// its start and stopping at the first row without a live lease.
func (db *DB) NextRefreshDue(ctx context.Context, now time.Time) (time.Time, error) {
	var next time.Time
	err := db.r.QueryRowContext(ctx, nextRefreshDueSQL(db.d), db.d.timeArg(now)).Scan(timeCol{&next})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("next refresh due: %w", err)
	}
	return next, nil
}

// nextRefreshDueSQL is NextRefreshDue's query in dialect d ($1 now).
func nextRefreshDueSQL(d dialect) string {
	return `SELECT next_refresh_at FROM connections` + d.dueIndex + `
	WHERE status = 'active' AND next_refresh_at IS NOT NULL AND ` + leaseFree + `
	ORDER BY next_refresh_at, id LIMIT 1`
}

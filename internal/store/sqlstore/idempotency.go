package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/grantd/grantd/internal/store"
)

const idempotencyCols = `tenant_id, idem_key, request_hash, state, lease_owner, lease_expires_at,
	sent_at, status, body, resource_id, created_at, expires_at`

func scanIdempotency(row interface{ Scan(...any) error }) (store.IdempotencyKey, error) {
	var k store.IdempotencyKey
	var state string
	err := row.Scan(&k.TenantID, &k.Key, &k.RequestHash, &state, &k.Owner, timeCol{&k.LeaseExpiresAt},
		timeCol{&k.SentAt}, &k.Status, &k.Body, &k.ResourceID, timeCol{&k.CreatedAt}, timeCol{&k.ExpiresAt})
	k.State = store.IdempotencyState(state)
	return k, err
}

// BeginIdempotency implements [store.Store]. The lookup, the expiry and
// the insert or takeover run in one write transaction, under the row lock
// on PostgreSQL and the database write lock on SQLite; a concurrent insert
// of the same key loses on the primary key and reads the winner's row.
func (db *DB) BeginIdempotency(ctx context.Context, k store.IdempotencyKey, now time.Time) (store.IdempotencyKey, bool, error) {
	what := "begin idempotency key of tenant " + k.TenantID
	var out store.IdempotencyKey
	var started bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2 AND expires_at <= $3`,
			k.TenantID, k.Key, db.d.timeArg(now)); err != nil {
			return err
		}
		cur, err := scanIdempotency(tx.QueryRowContext(ctx,
			`SELECT `+idempotencyCols+` FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2`+db.d.forUpdate,
			k.TenantID, k.Key))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out = k
			out.State, out.SentAt, out.Status, out.Body, out.ResourceID = store.IdempotencyInFlight, time.Time{}, 0, nil, ""
			out.CreatedAt = normTime(k.CreatedAt)
			if out.CreatedAt.IsZero() {
				out.CreatedAt = normTime(now)
			}
			out.LeaseExpiresAt, out.ExpiresAt = normTime(k.LeaseExpiresAt), normTime(k.ExpiresAt)
			_, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (`+idempotencyCols+`)
VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, NULL, '', $7, $8)`,
				out.TenantID, out.Key, out.RequestHash, string(out.State), out.Owner, db.d.timeArg(out.LeaseExpiresAt),
				db.d.timeArg(out.CreatedAt), db.d.timeArg(out.ExpiresAt))
			if err != nil {
				return err
			}
			started = true
			return nil
		case err != nil:
			return err
		}
		out = cur
		if cur.State != store.IdempotencyInFlight || cur.LeaseExpiresAt.After(now) {
			return nil
		}
		out.Owner, out.LeaseExpiresAt = k.Owner, normTime(k.LeaseExpiresAt)
		if _, err := tx.ExecContext(ctx,
			`UPDATE idempotency_keys SET lease_owner = $3, lease_expires_at = $4 WHERE tenant_id = $1 AND idem_key = $2`,
			k.TenantID, k.Key, out.Owner, db.d.timeArg(out.LeaseExpiresAt)); err != nil {
			return err
		}
		started = true
		return nil
	})
	if err != nil {
		if isUnique(err) {
			// Another transaction inserted the key first (PostgreSQL,
			// where the SELECT could not lock a row that did not exist):
			// it holds it.
			cur, rerr := scanIdempotency(db.w.QueryRowContext(ctx,
				`SELECT `+idempotencyCols+` FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2`, k.TenantID, k.Key))
			if rerr != nil {
				return store.IdempotencyKey{}, false, readErr(what, rerr)
			}
			return cur, false, nil
		}
		return store.IdempotencyKey{}, false, fmt.Errorf("%s: %w", what, err)
	}
	return out, started, nil
}

// ownedUpdate runs an UPDATE of the in-flight key owned by owner and maps
// no row changed to ErrNotFound or ErrConflict.
func (db *DB) ownedUpdate(ctx context.Context, op, tenantID, key string, q string, args ...any) error {
	res, err := db.w.ExecContext(ctx, q, args...)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("%s: %w", op, store.ErrAlreadyExists)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var one int
	err = db.r.QueryRowContext(ctx, `SELECT 1 FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2`, tenantID, key).Scan(&one)
	if err != nil {
		return readErr(op, err)
	}
	return fmt.Errorf("%s: %w", op, store.ErrConflict)
}

// MarkIdempotencySent implements [store.Store].
func (db *DB) MarkIdempotencySent(ctx context.Context, tenantID, key, owner string, now time.Time) error {
	return db.ownedUpdate(ctx, "mark idempotency key sent", tenantID, key,
		`UPDATE idempotency_keys SET sent_at = COALESCE(sent_at, $4)
WHERE tenant_id = $1 AND idem_key = $2 AND lease_owner = $3 AND state = 'in_flight'`,
		tenantID, key, owner, db.d.timeArg(now))
}

// RenewIdempotency implements [store.Store].
func (db *DB) RenewIdempotency(ctx context.Context, tenantID, key, owner string, until time.Time) error {
	return db.ownedUpdate(ctx, "renew idempotency key", tenantID, key,
		`UPDATE idempotency_keys SET lease_expires_at = $4
WHERE tenant_id = $1 AND idem_key = $2 AND lease_owner = $3 AND state = 'in_flight'`,
		tenantID, key, owner, db.d.timeArg(until))
}

// CompleteIdempotency implements [store.Store].
func (db *DB) CompleteIdempotency(ctx context.Context, tenantID, key, owner string, status int, body []byte, resourceID string) error {
	return db.ownedUpdate(ctx, "complete idempotency key", tenantID, key,
		`UPDATE idempotency_keys SET state = 'done', status = $4, body = $5, resource_id = $6,
	lease_owner = '', lease_expires_at = NULL
WHERE tenant_id = $1 AND idem_key = $2 AND lease_owner = $3 AND state = 'in_flight'`,
		tenantID, key, owner, status, body, resourceID)
}

// ReleaseIdempotency implements [store.Store].
func (db *DB) ReleaseIdempotency(ctx context.Context, tenantID, key, owner string, keep bool) error {
	q := `DELETE FROM idempotency_keys`
	if keep {
		q = `UPDATE idempotency_keys SET lease_owner = '', lease_expires_at = NULL`
	}
	_, err := db.w.ExecContext(ctx, q+`
WHERE tenant_id = $1 AND idem_key = $2 AND lease_owner = $3 AND state = 'in_flight'`,
		tenantID, key, owner)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotency implements [store.Store].
func (db *DB) PurgeIdempotency(ctx context.Context, now time.Time) (int, error) {
	t := db.d.timeArg(now)
	res, err := db.w.ExecContext(ctx,
		`DELETE FROM idempotency_keys WHERE expires_at <= $1
	AND (state = 'done' OR lease_expires_at IS NULL OR lease_expires_at <= $1)`, t)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/grantd/grantd/internal/store"
)

const connectionCols = `id, tenant_id, integration_id, provider, status, subject, email,
	scopes, token_type, access_token, refresh_token, id_token, access_expires_at,
	refresh_expires_at, refresh_idle_expires_at, last_refresh_at, connected_at, version,
	lease_owner, lease_expires_at, failure_count, next_attempt_at, last_error,
	created_at, updated_at, reauth_notice_at, refresh_attempt, refresh_started_at,
	refresh_replays, observed_rotation, next_refresh_at, end_user_id, end_user_email,
	end_user_name, tags, requested_scopes`

func scanConnection(s scanner) (store.Connection, error) {
	var c store.Connection
	var status, rotation string
	err := s.Scan(&c.ID, &c.TenantID, &c.IntegrationID, &c.Provider, &status, &c.Subject,
		&c.Email, listCol{&c.Scopes}, &c.TokenType,
		bytesCol[store.Sealed]{&c.AccessToken}, bytesCol[store.Sealed]{&c.RefreshToken},
		bytesCol[store.Sealed]{&c.IDToken}, timeCol{&c.AccessExpiresAt},
		timeCol{&c.RefreshExpiresAt}, timeCol{&c.RefreshIdleExpiresAt},
		timeCol{&c.LastRefreshAt}, timeCol{&c.ConnectedAt}, &c.Version, &c.LeaseOwner,
		timeCol{&c.LeaseExpiresAt}, &c.FailureCount, timeCol{&c.NextAttemptAt},
		&c.LastError, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, timeCol{&c.ReauthNoticeAt},
		&c.RefreshAttempt, timeCol{&c.RefreshStartedAt}, &c.RefreshReplays, &rotation,
		timeCol{&c.NextRefreshAt}, &c.EndUser.ID, &c.EndUser.Email, &c.EndUser.DisplayName,
		listCol{&c.Tags}, listCol{&c.RequestedScopes})
	c.Status = store.Status(status)
	c.ObservedRotation = store.ObservedRotation(rotation)
	return c, err
}

// collectConnections scans every row and closes rows.
func collectConnections(op string, rows *sql.Rows, err error) ([]store.Connection, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var cs []store.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return cs, nil
}

// CreateConnection stores c with Version 1, whatever c.Version says. A
// zero CreatedAt is set to the current time.
func (db *DB) CreateConnection(ctx context.Context, c store.Connection) error {
	d := db.d
	_, err := db.w.ExecContext(ctx, `INSERT INTO connections (`+connectionCols+`)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
	1, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35)`,
		c.ID, c.TenantID, c.IntegrationID, c.Provider, string(c.Status), c.Subject, c.Email,
		listArg(c.Scopes), c.TokenType, bytesArg(c.AccessToken), bytesArg(c.RefreshToken),
		bytesArg(c.IDToken), d.timeArg(c.AccessExpiresAt), d.timeArg(c.RefreshExpiresAt),
		d.timeArg(c.RefreshIdleExpiresAt), d.timeArg(c.LastRefreshAt),
		d.timeArg(c.ConnectedAt), c.LeaseOwner, d.timeArg(c.LeaseExpiresAt),
		c.FailureCount, d.timeArg(c.NextAttemptAt), c.LastError,
		d.timeArg(db.createdAt(c.CreatedAt)), d.timeArg(c.UpdatedAt), d.timeArg(c.ReauthNoticeAt),
		c.RefreshAttempt, d.timeArg(c.RefreshStartedAt), c.RefreshReplays, string(c.ObservedRotation),
		d.timeArg(c.NextRefreshAt), c.EndUser.ID, c.EndUser.Email, c.EndUser.DisplayName,
		listArg(c.Tags), listArg(c.RequestedScopes))
	if err != nil {
		return insertErr("connection "+c.ID, err)
	}
	return nil
}

// GetConnection returns the connection with that id or [store.ErrNotFound].
func (db *DB) GetConnection(ctx context.Context, id string) (store.Connection, error) {
	stmt, err := db.readStmt(ctx, `SELECT `+connectionCols+` FROM connections WHERE id = $1`)
	if err != nil {
		return store.Connection{}, fmt.Errorf("get connection %s: %w", id, err)
	}
	c, err := scanConnection(stmt.QueryRowContext(ctx, id))
	if err != nil {
		return store.Connection{}, readErr("get connection "+id, err)
	}
	return c, nil
}

// ListConnections returns the connections matching f, ordered by
// CreatedAt, then ID.
func (db *DB) ListConnections(ctx context.Context, f store.ConnectionFilter) ([]store.Connection, error) {
	q := `SELECT ` + connectionCols + ` FROM connections
	WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR end_user_id = $3)
	ORDER BY created_at, id`
	if f.Limit > 0 && f.Tag == "" {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	rows, err := db.r.QueryContext(ctx, q, f.TenantID, string(f.Status), f.EndUserID)
	cs, err := collectConnections("list connections", rows, err)
	if err != nil || f.Tag == "" {
		return cs, err
	}
	// Tags are a short JSON list per row: matched here rather than with
	// each engine's JSON functions.
	out := cs[:0]
	for _, c := range cs {
		if slices.Contains(c.Tags, f.Tag) && (f.Limit <= 0 || len(out) < f.Limit) {
			out = append(out, c)
		}
	}
	return out, nil
}

// UpdateConnection reads the row (locking it), calls update, and writes
// the result with Version+1 in one transaction, returning the row as
// written. update cannot change ID, TenantID or CreatedAt, which are kept.
// A result whose Version differs from the one update was given was built
// from another snapshot, so it is refused with [store.ErrConflict], as is a
// row whose version moved between read and write. UpdatedAt is set to the
// current time unless update changed it. When update fails, nothing is
// written and its error is returned unchanged. update must not call the
// store: on SQLite the transaction holds the process's only write
// connection.
func (db *DB) UpdateConnection(ctx context.Context, id string, update func(store.Connection) (store.Connection, error)) (store.Connection, error) {
	var out store.Connection
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanConnection(tx.QueryRowContext(ctx,
			`SELECT `+connectionCols+` FROM connections WHERE id = $1`+db.d.forUpdate, id))
		if err != nil {
			return readErr("update connection "+id, err)
		}
		next, err := update(old)
		if err != nil {
			return err
		}
		if next.Version != old.Version {
			return fmt.Errorf("update connection %s: version %d is stale, row is at %d: %w",
				id, next.Version, old.Version, store.ErrConflict)
		}
		next.ID, next.TenantID, next.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		if next.UpdatedAt.Equal(old.UpdatedAt) {
			next.UpdatedAt = db.now()
		}
		d := db.d
		out, err = scanConnection(tx.QueryRowContext(ctx, `UPDATE connections SET
	integration_id = $3, provider = $4, status = $5, subject = $6, email = $7, scopes = $8,
	token_type = $9, access_token = $10, refresh_token = $11, id_token = $12,
	access_expires_at = $13, refresh_expires_at = $14, refresh_idle_expires_at = $15,
	last_refresh_at = $16, connected_at = $17, lease_owner = $18, lease_expires_at = $19,
	failure_count = $20, next_attempt_at = $21, last_error = $22, updated_at = $23,
	reauth_notice_at = $24, refresh_attempt = $25, refresh_started_at = $26,
	refresh_replays = $27, observed_rotation = $28, next_refresh_at = $29,
	end_user_id = $30, end_user_email = $31, end_user_name = $32, tags = $33,
	requested_scopes = $34, version = version + 1
	WHERE id = $1 AND version = $2 RETURNING `+connectionCols,
			id, old.Version, next.IntegrationID, next.Provider, string(next.Status),
			next.Subject, next.Email, listArg(next.Scopes), next.TokenType,
			bytesArg(next.AccessToken), bytesArg(next.RefreshToken), bytesArg(next.IDToken),
			d.timeArg(next.AccessExpiresAt), d.timeArg(next.RefreshExpiresAt),
			d.timeArg(next.RefreshIdleExpiresAt), d.timeArg(next.LastRefreshAt),
			d.timeArg(next.ConnectedAt), next.LeaseOwner, d.timeArg(next.LeaseExpiresAt),
			next.FailureCount, d.timeArg(next.NextAttemptAt), next.LastError,
			d.timeArg(next.UpdatedAt), d.timeArg(next.ReauthNoticeAt), next.RefreshAttempt,
			d.timeArg(next.RefreshStartedAt), next.RefreshReplays, string(next.ObservedRotation),
			d.timeArg(next.NextRefreshAt), next.EndUser.ID, next.EndUser.Email,
			next.EndUser.DisplayName, listArg(next.Tags), listArg(next.RequestedScopes)))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("update connection %s: version %d changed: %w",
				id, old.Version, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("update connection %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return store.Connection{}, err
	}
	return out, nil
}

// AcquireLease gives the lease to owner until the given time when it is
// free, already owner's, or expired at now, in one conditional UPDATE. It
// returns the row after the attempt and whether owner holds the lease. It
// does not change Version.
func (db *DB) AcquireLease(ctx context.Context, id, owner string, now, until time.Time) (store.Connection, bool, error) {
	if owner == "" {
		return store.Connection{}, false, fmt.Errorf("acquire lease on %s: empty owner", id)
	}
	c, err := scanConnection(db.w.QueryRowContext(ctx, `UPDATE connections
	SET lease_owner = $2, lease_expires_at = $3
	WHERE id = $1 AND (lease_owner = '' OR lease_owner = $2 OR lease_expires_at < $4)
	RETURNING `+connectionCols,
		id, owner, db.d.timeArg(until), db.d.timeArg(now)))
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Connection{}, false, fmt.Errorf("acquire lease on %s: %w", id, err)
	}
	// Held by someone else, or no such row.
	c, err = db.GetConnection(ctx, id)
	if err != nil {
		return store.Connection{}, false, fmt.Errorf("acquire lease: %w", err)
	}
	return c, false, nil
}

// ReleaseLease clears owner's lease; a lease held by another owner is left
// alone. It returns [store.ErrNotFound] when the connection does not exist.
func (db *DB) ReleaseLease(ctx context.Context, id, owner string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE connections
	SET lease_owner = '', lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2`, id, owner)
	if err != nil {
		return fmt.Errorf("release lease on %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		if err != nil {
			return fmt.Errorf("release lease on %s: %w", id, err)
		}
		return nil
	}
	var one int
	err = db.r.QueryRowContext(ctx, `SELECT 1 FROM connections WHERE id = $1`, id).Scan(&one)
	if err != nil {
		return readErr("release lease on "+id, err)
	}
	return nil
}

// JournalRefresh writes the refresh journal for attempt in one conditional
// UPDATE that requires owner's live lease and the refresh token about to
// be sent; it does not change Version.
func (db *DB) JournalRefresh(ctx context.Context, id, owner, attempt string, refreshToken store.Sealed, now time.Time) (store.Connection, error) {
	if owner == "" || attempt == "" {
		return store.Connection{}, fmt.Errorf("journal refresh of %s: empty owner or attempt", id)
	}
	c, err := scanConnection(db.w.QueryRowContext(ctx, `UPDATE connections SET
	refresh_started_at = CASE WHEN refresh_attempt = '' THEN $4 ELSE refresh_started_at END,
	refresh_replays = CASE WHEN refresh_attempt = '' THEN 0 ELSE refresh_replays + 1 END,
	next_refresh_at = $4,
	refresh_attempt = $3
	WHERE id = $1 AND lease_owner = $2 AND lease_expires_at > $4 AND refresh_token = $5
	RETURNING `+connectionCols,
		id, owner, attempt, db.d.timeArg(now), bytesArg(refreshToken)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Connection{}, fmt.Errorf("journal refresh of %s: lease lost or grant replaced: %w", id, store.ErrConflict)
	}
	if err != nil {
		return store.Connection{}, fmt.Errorf("journal refresh of %s: %w", id, err)
	}
	return c, nil
}

// DueForReauthNotice lists active connections whose absolute lifetime ends
// in (now, before] and whose next reauth notice is due (reauth_notice_at
// NULL or not after now), soonest end first. Every row it returns needs a
// notice, so notified rows never crowd out the others. A limit of zero or
// less means no limit.
func (db *DB) DueForReauthNotice(ctx context.Context, now, before time.Time, limit int) ([]store.Connection, error) {
	q := `SELECT ` + connectionCols + ` FROM connections
	WHERE status = $1 AND refresh_expires_at > $2 AND refresh_expires_at <= $3
	AND (reauth_notice_at IS NULL OR reauth_notice_at <= $2)
	ORDER BY refresh_expires_at, id`
	args := []any{string(store.StatusActive), db.d.timeArg(now), db.d.timeArg(before)}
	rows, err := db.queryLimit(ctx, q, limit, args...)
	return collectConnections("due for reauth notice", rows, err)
}

// DeleteConnection removes the connection and its org mappings, or returns
// [store.ErrNotFound]. Its events stay as history.
func (db *DB) DeleteConnection(ctx context.Context, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM connections WHERE id = $1`, id)
	return mustAffect("delete connection "+id, res, err)
}

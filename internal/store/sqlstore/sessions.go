package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// CreateConnectLink stores l. Its ID and TokenHash are both unique.
func (db *DB) CreateConnectLink(ctx context.Context, l store.ConnectLink) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO connect_links (id, token_hash, tenant_id,
	integration_id, return_to, connection_id, expires_at, created_at, used_at, allow_account_change,
	end_user_id, end_user_email, end_user_name, tags)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		l.ID, []byte(l.TokenHash), l.TenantID, l.IntegrationID, l.ReturnTo, l.ConnectionID,
		db.d.timeArg(l.ExpiresAt), db.d.timeArg(db.createdAt(l.CreatedAt)), db.d.timeArg(l.UsedAt),
		l.AllowAccountChange, l.EndUser.ID, l.EndUser.Email, l.EndUser.DisplayName, listArg(l.Tags))
	if err != nil {
		return insertErr("connect link "+l.ID, err)
	}
	return nil
}

// GetConnectLinkByTokenHash returns the link with that token hash or
// [store.ErrNotFound]. Expiry is the caller's check.
func (db *DB) GetConnectLinkByTokenHash(ctx context.Context, hash []byte) (store.ConnectLink, error) {
	var l store.ConnectLink
	err := db.r.QueryRowContext(ctx, `SELECT id, token_hash, tenant_id, integration_id,
	return_to, connection_id, expires_at, created_at, used_at, allow_account_change,
	end_user_id, end_user_email, end_user_name, tags
	FROM connect_links WHERE token_hash = $1`, hash).
		Scan(&l.ID, bytesCol[[]byte]{&l.TokenHash}, &l.TenantID, &l.IntegrationID, &l.ReturnTo,
			&l.ConnectionID, timeCol{&l.ExpiresAt}, timeCol{&l.CreatedAt}, timeCol{&l.UsedAt},
			boolCol{&l.AllowAccountChange}, &l.EndUser.ID, &l.EndUser.Email, &l.EndUser.DisplayName,
			listCol{&l.Tags})
	if err != nil {
		return store.ConnectLink{}, readErr("get connect link by token hash", err)
	}
	return l, nil
}

// SpendConnectLink marks link id used at now in one conditional write, so
// of several concurrent callers exactly one succeeds; the others get
// [store.ErrConflict]. An unknown id is [store.ErrNotFound].
func (db *DB) SpendConnectLink(ctx context.Context, id string, now time.Time) error {
	res, err := db.w.ExecContext(ctx,
		`UPDATE connect_links SET used_at = $2 WHERE id = $1 AND used_at IS NULL`,
		id, db.d.timeArg(normTime(now)))
	if err != nil {
		return fmt.Errorf("spend connect link %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("spend connect link %s: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	var one int
	err = db.w.QueryRowContext(ctx, `SELECT 1 FROM connect_links WHERE id = $1`, id).Scan(&one)
	if err != nil {
		return readErr("spend connect link "+id, err)
	}
	return fmt.Errorf("spend connect link %s: already used: %w", id, store.ErrConflict)
}

// CountConnectLinks counts the tenant's stored links created at or after
// since and finds the oldest.
func (db *DB) CountConnectLinks(ctx context.Context, tenantID string, since time.Time) (int, time.Time, error) {
	var n int
	var oldest time.Time
	err := db.r.QueryRowContext(ctx,
		`SELECT COUNT(*), MIN(created_at) FROM connect_links WHERE tenant_id = $1 AND created_at >= $2`,
		tenantID, db.d.timeArg(normTime(since))).Scan(&n, timeCol{&oldest})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count connect links: %w", err)
	}
	return n, oldest, nil
}

const sessionCols = `id, state_hash, browser_hash, tenant_id, integration_id, provider,
	issuer, authorize_url, token_url, redirect_uri, audience, scopes, nonce, verifier,
	return_to, connection_id, expires_at, created_at, link_id, allow_account_change,
	end_user_id, end_user_email, end_user_name, tags`

// CreateConnectSession stores s. Its ID and StateHash are both unique.
func (db *DB) CreateConnectSession(ctx context.Context, s store.ConnectSession) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO connect_sessions (`+sessionCols+`)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`,
		s.ID, []byte(s.StateHash), bytesArg(s.BrowserHash), s.TenantID, s.IntegrationID,
		s.Provider, s.Issuer, s.AuthorizeURL, s.TokenURL, s.RedirectURI, s.Audience,
		listArg(s.Scopes), bytesArg(s.Nonce), bytesArg(s.Verifier), s.ReturnTo,
		s.ConnectionID, db.d.timeArg(s.ExpiresAt), db.d.timeArg(db.createdAt(s.CreatedAt)),
		s.LinkID, s.AllowAccountChange, s.EndUser.ID, s.EndUser.Email, s.EndUser.DisplayName,
		listArg(s.Tags))
	if err != nil {
		return insertErr("connect session "+s.ID, err)
	}
	return nil
}

// ConsumeConnectSession deletes and returns the session with that state
// hash in one statement (DELETE … RETURNING), so of several concurrent
// callers exactly one gets it; the others get [store.ErrNotFound].
func (db *DB) ConsumeConnectSession(ctx context.Context, stateHash []byte) (store.ConnectSession, error) {
	var s store.ConnectSession
	err := db.w.QueryRowContext(ctx,
		`DELETE FROM connect_sessions WHERE state_hash = $1 RETURNING `+sessionCols, stateHash).
		Scan(&s.ID, bytesCol[[]byte]{&s.StateHash}, bytesCol[[]byte]{&s.BrowserHash},
			&s.TenantID, &s.IntegrationID, &s.Provider, &s.Issuer, &s.AuthorizeURL,
			&s.TokenURL, &s.RedirectURI, &s.Audience, listCol{&s.Scopes},
			bytesCol[store.Sealed]{&s.Nonce}, bytesCol[store.Sealed]{&s.Verifier},
			&s.ReturnTo, &s.ConnectionID, timeCol{&s.ExpiresAt}, timeCol{&s.CreatedAt},
			&s.LinkID, boolCol{&s.AllowAccountChange}, &s.EndUser.ID, &s.EndUser.Email,
			&s.EndUser.DisplayName, listCol{&s.Tags})
	if err != nil {
		return store.ConnectSession{}, readErr("consume connect session", err)
	}
	return s, nil
}

// DeleteExpired removes connect sessions, connect links and mapping links
// whose ExpiresAt is before now, in one transaction, and returns how many
// rows went. A connect link also stays until an hour after its creation,
// for CountConnectLinks.
func (db *DB) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	var total int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"connect_sessions", "connect_links", "mapping_links"} {
			q, args := `DELETE FROM `+table+` WHERE expires_at < $1`, []any{db.d.timeArg(now)}
			if table == "connect_links" {
				q += ` AND created_at < $2`
				args = append(args, db.d.timeArg(normTime(now.Add(-time.Hour))))
			}
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("delete expired %s: %w", table, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("delete expired %s: %w", table, err)
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(total), nil
}

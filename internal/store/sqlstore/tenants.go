package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// createdAt returns t, or the current time when t is zero, as stored.
func (db *DB) createdAt(t time.Time) time.Time {
	if t.IsZero() {
		return normTime(db.now())
	}
	return normTime(t)
}

// CreateTenant stores t. A zero CreatedAt is set to the current time.
func (db *DB) CreateTenant(ctx context.Context, t store.Tenant) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)`,
		t.ID, t.Name, db.d.timeArg(db.createdAt(t.CreatedAt)))
	if err != nil {
		return insertErr("tenant "+t.ID, err)
	}
	return nil
}

// GetTenant returns the tenant with that id or [store.ErrNotFound].
func (db *DB) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	var t store.Tenant
	err := db.r.QueryRowContext(ctx,
		`SELECT id, name, created_at FROM tenants WHERE id = $1`, id).
		Scan(&t.ID, &t.Name, timeCol{&t.CreatedAt})
	if err != nil {
		return store.Tenant{}, readErr("get tenant "+id, err)
	}
	return t, nil
}

// ListTenants returns every tenant ordered by CreatedAt, then ID.
func (db *DB) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT id, name, created_at FROM tenants ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var ts []store.Tenant
	for rows.Next() {
		var t store.Tenant
		if err := rows.Scan(&t.ID, &t.Name, timeCol{&t.CreatedAt}); err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

// DeleteTenant removes the tenant and every row it owns in one
// transaction; its events stay as history.
func (db *DB) DeleteTenant(ctx context.Context, id string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// Children first: org mappings and mapping links refer to
		// connections.
		for _, table := range []string{"org_mappings", "mapping_links", "organizations",
			"connections", "connect_sessions", "connect_links", "integrations", "api_keys", "idempotency_keys"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1`, id); err != nil {
				return fmt.Errorf("delete tenant %s: %s: %w", id, table, err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM tenants WHERE id = $1`, id)
		return mustAffect("delete tenant "+id, res, err)
	})
}

const apiKeyCols = `id, tenant_id, hash, prefix, created_at, name, last_used_at, expires_at`

func scanAPIKey(s scanner) (store.APIKey, error) {
	var k store.APIKey
	err := s.Scan(&k.ID, &k.TenantID, bytesCol[[]byte]{&k.Hash}, &k.Prefix, timeCol{&k.CreatedAt},
		&k.Name, timeCol{&k.LastUsedAt}, timeCol{&k.ExpiresAt})
	return k, err
}

// CreateAPIKey stores k. Its ID and Hash are both unique.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO api_keys (`+apiKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.TenantID, []byte(k.Hash), k.Prefix, db.d.timeArg(db.createdAt(k.CreatedAt)),
		k.Name, db.d.timeArg(k.LastUsedAt), db.d.timeArg(k.ExpiresAt))
	if err != nil {
		return insertErr("api key "+k.ID, err)
	}
	return nil
}

// GetAPIKeyByHash returns the key with that hash or [store.ErrNotFound].
func (db *DB) GetAPIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	stmt, err := db.readStmt(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("get api key by hash: %w", err)
	}
	k, err := scanAPIKey(stmt.QueryRowContext(ctx, hash))
	if err != nil {
		return store.APIKey{}, readErr("get api key by hash", err)
	}
	return k, nil
}

// ListAPIKeys returns the tenant's keys ordered by CreatedAt, then ID.
func (db *DB) ListAPIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var ks []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return ks, nil
}

// DeleteAPIKey removes the tenant's key id or returns [store.ErrNotFound].
func (db *DB) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM api_keys WHERE id = $1 AND tenant_id = $2`, id, tenantID)
	return mustAffect("delete api key "+id, res, err)
}

// TouchAPIKey sets LastUsedAt to now when it is NULL or before notBefore.
func (db *DB) TouchAPIKey(ctx context.Context, id string, now, notBefore time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2
	WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)`,
		id, db.d.timeArg(normTime(now)), db.d.timeArg(normTime(notBefore)))
	if err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

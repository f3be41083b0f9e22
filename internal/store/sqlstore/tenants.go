package sqlstore

import (
	"context"
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

// CreateAPIKey stores k. Its ID and Hash are both unique.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO api_keys (id, tenant_id, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.TenantID, []byte(k.Hash), k.Prefix, db.d.timeArg(db.createdAt(k.CreatedAt)))
	if err != nil {
		return insertErr("api key "+k.ID, err)
	}
	return nil
}

// GetAPIKeyByHash returns the key with that hash or [store.ErrNotFound].
func (db *DB) GetAPIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	var k store.APIKey
	stmt, err := db.readStmt(ctx, `SELECT id, tenant_id, hash, prefix, created_at FROM api_keys WHERE hash = $1`)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("get api key by hash: %w", err)
	}
	err = stmt.QueryRowContext(ctx, hash).Scan(&k.ID, &k.TenantID, bytesCol[[]byte]{&k.Hash}, &k.Prefix, timeCol{&k.CreatedAt})
	if err != nil {
		return store.APIKey{}, readErr("get api key by hash", err)
	}
	return k, nil
}

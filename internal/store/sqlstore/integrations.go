package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/grantd/grantd/internal/store"
)

const integrationCols = `id, tenant_id, provider, name, client_id, client_secret,
	redirect_uri, scopes, audience, is_default, created_at, updated_at, partner_token, tenants, last_error, broken_at`

func scanIntegration(s scanner) (store.Integration, error) {
	var in store.Integration
	err := s.Scan(&in.ID, &in.TenantID, &in.Provider, &in.Name, &in.ClientID,
		bytesCol[store.Sealed]{&in.ClientSecret}, &in.RedirectURI, listCol{&in.Scopes},
		&in.Audience, boolCol{&in.IsDefault}, timeCol{&in.CreatedAt}, timeCol{&in.UpdatedAt},
		bytesCol[store.Sealed]{&in.PartnerToken}, tenantsCol{&in}, &in.LastError, timeCol{&in.BrokenAt})
	return in, err
}

// tenantsArg stores an integration's tenant list: NULL when it is not
// listed (the grant's default applies), else JSON text, "[]" included.
func tenantsArg(in store.Integration) any {
	if !in.TenantsListed {
		return nil
	}
	return listArg(in.Tenants)
}

// tenantsCol scans the tenants column into TenantsListed and Tenants.
type tenantsCol struct{ in *store.Integration }

func (c tenantsCol) Scan(v any) error {
	c.in.TenantsListed = v != nil
	return listCol{&c.in.Tenants}.Scan(v)
}

// CreateIntegration stores in. A zero CreatedAt is set to the current time.
func (db *DB) CreateIntegration(ctx context.Context, in store.Integration) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO integrations (`+integrationCols+`)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		in.ID, in.TenantID, in.Provider, in.Name, in.ClientID, bytesArg(in.ClientSecret),
		in.RedirectURI, listArg(in.Scopes), in.Audience, in.IsDefault,
		db.d.timeArg(db.createdAt(in.CreatedAt)), db.d.timeArg(in.UpdatedAt), bytesArg(in.PartnerToken), tenantsArg(in),
		in.LastError, db.d.timeArg(in.BrokenAt))
	if err != nil {
		return insertErr("integration "+in.ID, err)
	}
	return nil
}

// GetIntegration returns the integration with that id or
// [store.ErrNotFound].
func (db *DB) GetIntegration(ctx context.Context, id string) (store.Integration, error) {
	in, err := scanIntegration(db.r.QueryRowContext(ctx,
		`SELECT `+integrationCols+` FROM integrations WHERE id = $1`, id))
	if err != nil {
		return store.Integration{}, readErr("get integration "+id, err)
	}
	return in, nil
}

// ListIntegrations returns the tenant's integrations and the operator's,
// ordered by CreatedAt, then ID.
func (db *DB) ListIntegrations(ctx context.Context, tenantID string) ([]store.Integration, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+integrationCols+` FROM integrations
	WHERE tenant_id = $1 OR tenant_id = '' ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	defer rows.Close()
	var ins []store.Integration
	for rows.Next() {
		in, err := scanIntegration(rows)
		if err != nil {
			return nil, fmt.Errorf("list integrations: %w", err)
		}
		ins = append(ins, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	return ins, nil
}

// UpdateIntegration reads the integration, calls update and writes its
// result in one transaction. update cannot change ID, TenantID or
// CreatedAt; UpdatedAt is set to the current time unless update changed
// it. When update fails, nothing is written and its error is returned
// unchanged. update must not call the store.
func (db *DB) UpdateIntegration(ctx context.Context, id string, update func(store.Integration) (store.Integration, error)) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanIntegration(tx.QueryRowContext(ctx,
			`SELECT `+integrationCols+` FROM integrations WHERE id = $1`+db.d.forUpdate, id))
		if err != nil {
			return readErr("update integration "+id, err)
		}
		next, err := update(old)
		if err != nil {
			return err
		}
		next.ID, next.TenantID, next.CreatedAt = old.ID, old.TenantID, old.CreatedAt
		if next.UpdatedAt.Equal(old.UpdatedAt) {
			next.UpdatedAt = db.now()
		}
		_, err = tx.ExecContext(ctx, `UPDATE integrations SET provider = $2, name = $3,
	client_id = $4, client_secret = $5, redirect_uri = $6, scopes = $7, audience = $8,
	is_default = $9, updated_at = $10, partner_token = $11, tenants = $12, last_error = $13, broken_at = $14
	WHERE id = $1`,
			id, next.Provider, next.Name, next.ClientID, bytesArg(next.ClientSecret),
			next.RedirectURI, listArg(next.Scopes), next.Audience, next.IsDefault,
			db.d.timeArg(next.UpdatedAt), bytesArg(next.PartnerToken), tenantsArg(next), next.LastError, db.d.timeArg(next.BrokenAt))
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("update integration %s: %w", id, store.ErrAlreadyExists)
			}
			return fmt.Errorf("update integration %s: %w", id, err)
		}
		return nil
	})
}

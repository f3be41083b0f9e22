package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/grantd/grantd/internal/store"
)

// PutOrganizations replaces the tenant's organisations with orgs in one
// transaction: a duplicate ID in orgs returns [store.ErrAlreadyExists] and
// leaves the previous set in place.
func (db *DB) PutOrganizations(ctx context.Context, tenantID string, orgs []store.Organization) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM organizations WHERE tenant_id = $1`, tenantID); err != nil {
			return fmt.Errorf("put organizations of tenant %s: %w", tenantID, err)
		}
		if len(orgs) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO organizations (tenant_id, id, name) VALUES ($1, $2, $3)`)
		if err != nil {
			return fmt.Errorf("put organizations of tenant %s: %w", tenantID, err)
		}
		defer stmt.Close()
		for _, o := range orgs {
			if _, err := stmt.ExecContext(ctx, tenantID, o.ID, o.Name); err != nil {
				return insertErr(fmt.Sprintf("organization %s of tenant %s", o.ID, tenantID), err)
			}
		}
		return nil
	})
}

// ListOrganizations returns the tenant's organisations ordered by ID.
func (db *DB) ListOrganizations(ctx context.Context, tenantID string) ([]store.Organization, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT tenant_id, id, name FROM organizations WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list organizations of tenant %s: %w", tenantID, err)
	}
	defer rows.Close()
	var out []store.Organization
	for rows.Next() {
		var o store.Organization
		if err := rows.Scan(&o.TenantID, &o.ID, &o.Name); err != nil {
			return nil, fmt.Errorf("list organizations of tenant %s: %w", tenantID, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list organizations of tenant %s: %w", tenantID, err)
	}
	return out, nil
}

// CreateMappingLink stores l. Its ID and TokenHash are both unique, and its
// connection must exist ([store.ErrNotFound] otherwise).
func (db *DB) CreateMappingLink(ctx context.Context, l store.MappingLink) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO mapping_links (id, token_hash, tenant_id,
	connection_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		l.ID, l.TokenHash, l.TenantID, l.ConnectionID,
		db.d.timeArg(l.ExpiresAt), db.d.timeArg(db.createdAt(l.CreatedAt)))
	if isForeignKey(err) {
		return fmt.Errorf("create mapping link %s: connection %s %w", l.ID, l.ConnectionID, store.ErrNotFound)
	}
	if err != nil {
		return insertErr("mapping link "+l.ID, err)
	}
	return nil
}

// GetMappingLinkByTokenHash returns the link with that token hash or
// [store.ErrNotFound]. Expiry is the caller's check.
func (db *DB) GetMappingLinkByTokenHash(ctx context.Context, hash []byte) (store.MappingLink, error) {
	var l store.MappingLink
	err := db.r.QueryRowContext(ctx, `SELECT id, token_hash, tenant_id, connection_id,
	expires_at, created_at FROM mapping_links WHERE token_hash = $1`, hash).
		Scan(&l.ID, bytesCol[[]byte]{&l.TokenHash}, &l.TenantID, &l.ConnectionID,
			timeCol{&l.ExpiresAt}, timeCol{&l.CreatedAt})
	if err != nil {
		return store.MappingLink{}, readErr("get mapping link by token hash", err)
	}
	return l, nil
}

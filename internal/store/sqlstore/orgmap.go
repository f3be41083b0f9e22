package sqlstore

import (
	"context"
	"fmt"

	"github.com/grantd/grantd/internal/store"
)

// PutOrgMapping inserts m or replaces the mapping with the same
// ConnectionID and ExternalID. The connection must exist
// ([store.ErrNotFound] otherwise). A zero UpdatedAt is set to the current
// time.
func (db *DB) PutOrgMapping(ctx context.Context, m store.OrgMapping) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO org_mappings (tenant_id, connection_id,
	external_id, external_name, org_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
	ON CONFLICT (connection_id, external_id) DO UPDATE SET tenant_id = excluded.tenant_id,
	external_name = excluded.external_name, org_id = excluded.org_id,
	updated_at = excluded.updated_at`,
		m.TenantID, m.ConnectionID, m.ExternalID, m.ExternalName, m.OrgID,
		db.d.timeArg(db.createdAt(m.UpdatedAt)))
	if isForeignKey(err) {
		return fmt.Errorf("put org mapping %s on connection %s: connection %w",
			m.ExternalID, m.ConnectionID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("put org mapping %s on connection %s: %w", m.ExternalID, m.ConnectionID, err)
	}
	return nil
}

// DeleteOrgMapping removes one mapping or returns [store.ErrNotFound].
func (db *DB) DeleteOrgMapping(ctx context.Context, connectionID, externalID string) error {
	res, err := db.w.ExecContext(ctx,
		`DELETE FROM org_mappings WHERE connection_id = $1 AND external_id = $2`,
		connectionID, externalID)
	return mustAffect(fmt.Sprintf("delete org mapping %s on connection %s", externalID, connectionID), res, err)
}

// ListOrgMappings returns the connection's mappings ordered by ExternalID.
func (db *DB) ListOrgMappings(ctx context.Context, connectionID string) ([]store.OrgMapping, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT tenant_id, connection_id, external_id,
	external_name, org_id, updated_at FROM org_mappings WHERE connection_id = $1
	ORDER BY external_id`, connectionID)
	if err != nil {
		return nil, fmt.Errorf("list org mappings for connection %s: %w", connectionID, err)
	}
	defer rows.Close()
	var ms []store.OrgMapping
	for rows.Next() {
		var m store.OrgMapping
		if err := rows.Scan(&m.TenantID, &m.ConnectionID, &m.ExternalID, &m.ExternalName,
			&m.OrgID, timeCol{&m.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("list org mappings for connection %s: %w", connectionID, err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list org mappings for connection %s: %w", connectionID, err)
	}
	return ms, nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/grantd/grantd/internal/store"
)

// PutBilling replaces the tenant's billing lines for period in one
// transaction: a repeated Line returns [store.ErrAlreadyExists] and leaves
// the previous lines in place.
func (db *DB) PutBilling(ctx context.Context, tenantID, period string, lines []store.BillingLine) error {
	op := fmt.Sprintf("put billing of tenant %s for %s", tenantID, period)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM billing_lines WHERE tenant_id = $1 AND period = $2`,
			tenantID, period); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if len(lines) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO billing_lines (tenant_id, period, line,
		org_id, product, quantity, unit_price) VALUES ($1, $2, $3, $4, $5, $6, $7)`)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		defer stmt.Close()
		for _, l := range lines {
			if _, err := stmt.ExecContext(ctx, tenantID, period, l.Line, l.OrgID, l.Product,
				l.Quantity, l.UnitPrice); err != nil {
				return insertErr(fmt.Sprintf("%s: line %d", op, l.Line), err)
			}
		}
		return nil
	})
}

// ListBilling returns the tenant's billing lines for period by Line.
func (db *DB) ListBilling(ctx context.Context, tenantID, period string) ([]store.BillingLine, error) {
	op := fmt.Sprintf("list billing of tenant %s for %s", tenantID, period)
	rows, err := db.r.QueryContext(ctx, `SELECT tenant_id, period, line, org_id, product, quantity,
	unit_price FROM billing_lines WHERE tenant_id = $1 AND period = $2 ORDER BY line`, tenantID, period)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []store.BillingLine
	for rows.Next() {
		var l store.BillingLine
		if err := rows.Scan(&l.TenantID, &l.Period, &l.Line, &l.OrgID, &l.Product, &l.Quantity, &l.UnitPrice); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// PutProductMapping inserts m or replaces the mapping with the same
// ConnectionID and ProductKey. The connection must exist
// ([store.ErrNotFound] otherwise). A zero UpdatedAt is the current time.
func (db *DB) PutProductMapping(ctx context.Context, m store.ProductMapping) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO product_mappings (tenant_id, connection_id,
	product_key, external_id, external_name, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
	ON CONFLICT (connection_id, product_key) DO UPDATE SET tenant_id = excluded.tenant_id,
	external_id = excluded.external_id, external_name = excluded.external_name,
	updated_at = excluded.updated_at`,
		m.TenantID, m.ConnectionID, m.ProductKey, m.ExternalID, m.ExternalName,
		db.d.timeArg(db.createdAt(m.UpdatedAt)))
	if isForeignKey(err) {
		return fmt.Errorf("put product mapping %s on connection %s: connection %w",
			m.ProductKey, m.ConnectionID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("put product mapping %s on connection %s: %w", m.ProductKey, m.ConnectionID, err)
	}
	return nil
}

// DeleteProductMapping removes one mapping or returns [store.ErrNotFound].
func (db *DB) DeleteProductMapping(ctx context.Context, connectionID, productKey string) error {
	res, err := db.w.ExecContext(ctx,
		`DELETE FROM product_mappings WHERE connection_id = $1 AND product_key = $2`,
		connectionID, productKey)
	return mustAffect(fmt.Sprintf("delete product mapping %s on connection %s", productKey, connectionID), res, err)
}

// ListProductMappings returns the connection's mappings by ProductKey.
func (db *DB) ListProductMappings(ctx context.Context, connectionID string) ([]store.ProductMapping, error) {
	op := "list product mappings for connection " + connectionID
	rows, err := db.r.QueryContext(ctx, `SELECT tenant_id, connection_id, product_key, external_id,
	external_name, updated_at FROM product_mappings WHERE connection_id = $1 ORDER BY product_key`, connectionID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var ms []store.ProductMapping
	for rows.Next() {
		var m store.ProductMapping
		if err := rows.Scan(&m.TenantID, &m.ConnectionID, &m.ProductKey, &m.ExternalID,
			&m.ExternalName, timeCol{&m.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return ms, nil
}

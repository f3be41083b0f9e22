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

// DeleteIntegration removes the integration with its pending connect links
// and sessions, or returns [store.ErrNotFound]. While connections use it,
// it deletes nothing and returns [store.ErrConflict]: the caller revokes
// and deletes them first.
func (db *DB) DeleteIntegration(ctx context.Context, id string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx,
			`SELECT count(*) FROM connections WHERE integration_id = $1`, id).Scan(&n); err != nil {
			return fmt.Errorf("delete integration %s: %w", id, err)
		}
		if n > 0 {
			return fmt.Errorf("delete integration %s: %d connections use it: %w", id, n, store.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM integrations WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete integration %s: %w", id, err)
		}
		if k, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete integration %s: %w", id, err)
		} else if k == 0 {
			return fmt.Errorf("delete integration %s: %w", id, store.ErrNotFound)
		}
		for _, table := range []string{"connect_links", "connect_sessions"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE integration_id = $1`, id); err != nil {
				return fmt.Errorf("delete integration %s: %s: %w", id, table, err)
			}
		}
		return nil
	})
}

// maxListDeliveries is the default and largest page of ListDeliveries.
const maxListDeliveries = 500

// ListDeliveries returns the deliveries matching f in ID order, at most
// f.Limit (default and maximum 500).
func (db *DB) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	limit := f.Limit
	if limit <= 0 || limit > maxListDeliveries {
		limit = maxListDeliveries
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries
	WHERE ($1 OR tenant_id = $2) AND ($3 = '' OR state = $3) AND ($4 = '' OR endpoint = $4)
	AND id > $5 ORDER BY id LIMIT $6`,
		f.AllTenants, f.TenantID, string(f.State), f.Endpoint, f.After, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// RedeliverDelivery makes delivery id pending and due at now with its
// attempts reset; a delivery that is leased keeps its lease, so a sender
// posting it now is not doubled by another.
func (db *DB) RedeliverDelivery(ctx context.Context, id string, now time.Time) (store.Delivery, error) {
	d, err := scanDelivery(db.w.QueryRowContext(ctx, `UPDATE webhook_deliveries
	SET state = $2, attempts = 0, next_attempt_at = $3, finished_at = NULL
	WHERE id = $1 RETURNING `+deliveryCols,
		id, string(store.DeliveryPending), db.d.timeArg(normTime(now))))
	if err != nil {
		return store.Delivery{}, readErr("redeliver "+id, err)
	}
	return d, nil
}

// CheckSchema reports whether the database answers and has every embedded
// migration applied: nil when it is ready to serve, otherwise an error
// naming what is missing (for /readyz).
func (db *DB) CheckSchema(ctx context.Context) error {
	ms, err := loadMigrations(db.d.migrations)
	if err != nil {
		return err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	var applied []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied = append(applied, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	var missing []string
	for _, m := range ms {
		if !slices.Contains(applied, m.version) {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", errSchemaBehind, strings.Join(missing, ", "))
	}
	return nil
}

var errSchemaBehind = errors.New("migrations not applied")

// IsSchemaBehind reports whether err, from [DB.CheckSchema], says the
// database answers but lacks migrations this binary embeds.
func IsSchemaBehind(err error) bool { return errors.Is(err, errSchemaBehind) }

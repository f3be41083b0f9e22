package sqlstore

import (
	"context"
	"fmt"

	"github.com/grantd/grantd/internal/store"
)

// AddEvent appends e to its connection's history. The ID is assigned by the
// database (e.ID is ignored); a zero CreatedAt is set to the current time.
func (db *DB) AddEvent(ctx context.Context, e store.Event) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO events (tenant_id, connection_id, kind,
	detail, created_at) VALUES ($1, $2, $3, $4, $5)`,
		e.TenantID, e.ConnectionID, e.Kind, e.Detail, db.d.timeArg(db.createdAt(e.CreatedAt)))
	if err != nil {
		return fmt.Errorf("add event %s for connection %s: %w", e.Kind, e.ConnectionID, err)
	}
	return nil
}

// ListEvents returns the connection's most recent events, newest first
// (by ID, which follows insertion order). A limit of zero or less means no
// limit.
func (db *DB) ListEvents(ctx context.Context, connectionID string, limit int) ([]store.Event, error) {
	q := `SELECT id, tenant_id, connection_id, kind, detail, created_at FROM events
	WHERE connection_id = $1 ORDER BY id DESC`
	args := []any{connectionID}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list events for connection %s: %w", connectionID, err)
	}
	defer rows.Close()
	var es []store.Event
	for rows.Next() {
		var e store.Event
		if err := rows.Scan(&e.ID, &e.TenantID, &e.ConnectionID, &e.Kind, &e.Detail,
			timeCol{&e.CreatedAt}); err != nil {
			return nil, fmt.Errorf("list events for connection %s: %w", connectionID, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events for connection %s: %w", connectionID, err)
	}
	return es, nil
}

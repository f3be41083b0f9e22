package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// AddEvent appends e to its connection's history and returns its ID,
// assigned by the database (e.ID is ignored); a zero CreatedAt is set to
// the current time.
func (db *DB) AddEvent(ctx context.Context, e store.Event) (int64, error) {
	var id int64
	err := db.w.QueryRowContext(ctx, `INSERT INTO events (tenant_id, connection_id, kind,
	detail, created_at, integration_id, provider) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		e.TenantID, e.ConnectionID, e.Kind, e.Detail, db.d.timeArg(db.createdAt(e.CreatedAt)),
		e.IntegrationID, e.Provider).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("add event %s for connection %s: %w", e.Kind, e.ConnectionID, err)
	}
	return id, nil
}

// EventsSince returns the events created at or after since with an ID
// above afterID, in ID order, at most limit (zero or less: all).
func (db *DB) EventsSince(ctx context.Context, since time.Time, afterID int64, limit int) ([]store.Event, error) {
	q := `SELECT id, tenant_id, connection_id, kind, detail, created_at, integration_id, provider FROM events
	WHERE created_at >= $1 AND id > $2 ORDER BY id`
	args := []any{db.d.timeArg(since), afterID}
	rows, err := db.queryLimit(ctx, q, limit, args...)
	return collectEvents("events since", rows, err)
}

// ListEvents returns the connection's most recent events, newest first
// (by ID, which follows insertion order). A limit of zero or less means no
// limit.
func (db *DB) ListEvents(ctx context.Context, connectionID string, limit int) ([]store.Event, error) {
	q := `SELECT id, tenant_id, connection_id, kind, detail, created_at, integration_id, provider FROM events
	WHERE connection_id = $1 ORDER BY id DESC`
	args := []any{connectionID}
	rows, err := db.queryLimit(ctx, q, limit, args...)
	return collectEvents("list events for connection "+connectionID, rows, err)
}

// collectEvents scans every row and closes rows.
func collectEvents(op string, rows *sql.Rows, err error) ([]store.Event, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var es []store.Event
	for rows.Next() {
		var e store.Event
		if err := rows.Scan(&e.ID, &e.TenantID, &e.ConnectionID, &e.Kind, &e.Detail,
			timeCol{&e.CreatedAt}, &e.IntegrationID, &e.Provider); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return es, nil
}

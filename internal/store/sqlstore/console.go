package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// The console's reads and its sessions (migration 012). These methods are
// not part of [store.Store]: the console declares the interface it needs.

// MaxPage bounds one page of ListConnectionsPage and ListDeliveries.
const MaxPage = 500

// ListConnectionsPage returns up to limit connections matching q whose id
// sorts after after (empty: from the start), ordered by id: keyset
// pagination, which reads the same few index entries at any depth
// (connections_tenant_page within a tenant, the primary key across
// tenants). Pass the last id of one page as after to get the next.
func (db *DB) ListConnectionsPage(ctx context.Context, q store.ConnectionQuery, after string, limit int) ([]store.Connection, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	where, args := db.connectionWhere(q)
	args = append(args, after)
	where = append(where, "id > $"+strconv.Itoa(len(args)))
	args = append(args, limit)
	query := `SELECT ` + connectionCols + ` FROM connections WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id LIMIT $` + strconv.Itoa(len(args))
	rows, err := db.r.QueryContext(ctx, query, args...)
	return collectConnections("list connections page", rows, err)
}

// connectionWhere returns the conditions and arguments of q; it always
// has at least one condition.
func (db *DB) connectionWhere(q store.ConnectionQuery) ([]string, []any) {
	where := []string{"1 = 1"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if q.TenantID != "" {
		add("tenant_id = $?", q.TenantID)
	}
	if q.Provider != "" {
		add("provider = $?", q.Provider)
	}
	if q.Status != "" {
		add("status = $?", string(q.Status))
	}
	if !q.ExpiresBefore.IsZero() {
		add("(refresh_expires_at < $? OR refresh_idle_expires_at < $?)", db.d.timeArg(q.ExpiresBefore))
	}
	if s := strings.TrimSpace(q.Search); s != "" {
		// The range lets connections_email find the prefix; LIKE keeps
		// the match exact whatever the collation.
		low := strings.ToLower(s)
		args = append(args, s, low, low+"\U0010FFFF", likePrefix(low))
		n := len(args)
		where = append(where, fmt.Sprintf(`(id = $%d OR (LOWER(email) >= $%d AND LOWER(email) < $%d AND LOWER(email) LIKE $%d ESCAPE '\'))`, n-3, n-2, n-1, n))
	}
	return where, args
}

// likePrefix escapes the LIKE wildcards of s and appends %.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// CountConnections returns the tenant's connections (every tenant's when
// tenantID is empty) counted by provider and status, ordered by both.
func (db *DB) CountConnections(ctx context.Context, tenantID string) ([]store.ConnectionCount, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT provider, status, COUNT(*) FROM connections
	WHERE ($1 = '' OR tenant_id = $1) GROUP BY provider, status ORDER BY provider, status`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("count connections: %w", err)
	}
	defer rows.Close()
	var out []store.ConnectionCount
	for rows.Next() {
		var c store.ConnectionCount
		var st string
		if err := rows.Scan(&c.Provider, &st, &c.Count); err != nil {
			return nil, fmt.Errorf("count connections: %w", err)
		}
		c.Status = store.Status(st)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count connections: %w", err)
	}
	return out, nil
}

// ExpiringGrants returns up to limit active connections of the tenant
// (every tenant's when tenantID is empty) whose absolute lifetime ends
// after now and before before, soonest first.
func (db *DB) ExpiringGrants(ctx context.Context, tenantID string, now, before time.Time, limit int) ([]store.Connection, error) {
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+connectionCols+` FROM connections
	WHERE status = 'active' AND refresh_expires_at > $1 AND refresh_expires_at < $2
	AND ($3 = '' OR tenant_id = $3) ORDER BY refresh_expires_at, id LIMIT $4`,
		db.d.timeArg(now), db.d.timeArg(before), tenantID, limit)
	return collectConnections("expiring grants", rows, err)
}

// HourlyEvents counts the events of the given kinds created at or after
// since, of the tenant (every tenant's when tenantID is empty), by hour
// (UTC) and kind, oldest hour first. The database does the counting, so
// the cost follows the number of buckets, not of events read back.
func (db *DB) HourlyEvents(ctx context.Context, tenantID string, since time.Time, kinds []string) ([]store.EventCount, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	args := []any{db.d.timeArg(since), tenantID}
	ph := make([]string, len(kinds))
	for i, k := range kinds {
		args = append(args, k)
		ph[i] = "$" + strconv.Itoa(len(args))
	}
	// The one genuinely different part: the hour of a time column.
	hour := "date_trunc('hour', created_at AT TIME ZONE 'UTC')"
	if db.d.unixMicros {
		hour = "(created_at / 3600000000 * 3600000000)"
	}
	q := `SELECT ` + hour + ` AS h, kind, COUNT(*) FROM events
	WHERE created_at >= $1 AND ($2 = '' OR tenant_id = $2) AND kind IN (` + strings.Join(ph, ", ") + `)
	GROUP BY h, kind ORDER BY h, kind`
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("hourly events: %w", err)
	}
	defer rows.Close()
	var out []store.EventCount
	for rows.Next() {
		var c store.EventCount
		if err := rows.Scan(timeCol{&c.Hour}, &c.Kind, &c.Count); err != nil {
			return nil, fmt.Errorf("hourly events: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hourly events: %w", err)
	}
	return out, nil
}

// CreateConsoleSession stores s.
func (db *DB) CreateConsoleSession(ctx context.Context, s store.ConsoleSession) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO console_sessions (id, tenant_id, admin, expires_at, created_at)
	VALUES ($1, $2, $3, $4, $5)`, s.ID, s.TenantID, s.Admin, db.d.timeArg(s.ExpiresAt), db.d.timeArg(db.createdAt(s.CreatedAt)))
	if err != nil {
		return insertErr("console session", err)
	}
	return nil
}

// GetConsoleSession returns the session whose id is id, or
// [store.ErrNotFound]. Expiry is the caller's check.
func (db *DB) GetConsoleSession(ctx context.Context, id []byte) (store.ConsoleSession, error) {
	var s store.ConsoleSession
	err := db.r.QueryRowContext(ctx, `SELECT id, tenant_id, admin, expires_at, created_at
	FROM console_sessions WHERE id = $1`, id).Scan(bytesCol[[]byte]{&s.ID}, &s.TenantID, &s.Admin,
		timeCol{&s.ExpiresAt}, timeCol{&s.CreatedAt})
	if err != nil {
		return store.ConsoleSession{}, readErr("get console session", err)
	}
	return s, nil
}

// DeleteConsoleSession removes the session id and, while at it, every
// session that expired before now. Deleting an unknown session is not an
// error.
func (db *DB) DeleteConsoleSession(ctx context.Context, id []byte, now time.Time) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE id = $1 OR expires_at < $2`,
		id, db.d.timeArg(now)); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

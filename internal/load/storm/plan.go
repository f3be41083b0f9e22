package storm

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// dueQuery is the sweep's query for connections due (sqlstore's
// DueForRefresh), planned when the store has no claim.
const dueQuery = `SELECT id FROM connections
	WHERE status = $1 AND (access_expires_at < $2
	OR (refresh_idle_expires_at < $3
		AND (refresh_expires_at IS NULL OR refresh_idle_expires_at < refresh_expires_at))
	OR refresh_expires_at <= $4)
	ORDER BY COALESCE(access_expires_at, refresh_idle_expires_at), id LIMIT 100`

// claimPlan is the database's plan for finding due connections, as the
// replicas do while nothing is due.
func (r *rig) claimPlan(ctx context.Context) (string, error) {
	now := time.Now()
	q, args := dueQuery, []any{"active", r.timeArg(now.Add(10 * time.Minute)), r.timeArg(now.Add(120 * time.Hour)), r.timeArg(now)}
	explain := "EXPLAIN "
	if r.st.Dialect() == "sqlite" {
		explain = "EXPLAIN QUERY PLAN "
	} else {
		// Fresh statistics, as autovacuum would have them on a live fleet.
		if _, err := r.st.SQL().ExecContext(ctx, "ANALYZE connections"); err != nil {
			return "", err
		}
	}
	rows, err := r.st.SQL().QueryContext(ctx, explain+q, args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		// PostgreSQL: one column of text; SQLite: id, parent, notused, detail.
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(lines, "\n"), rows.Err()
}

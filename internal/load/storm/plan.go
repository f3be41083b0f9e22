package storm

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// claimQueries are the scheduler's two queries, as sqlstore writes them
// for PostgreSQL (claimDueSQL and nextRefreshDueSQL in claims.go; SQLite
// drops FOR UPDATE SKIP LOCKED): the claim, and the look-up of when the
// next connection falls due that an idle replica makes. EXPLAIN without
// ANALYZE runs neither.
var claimQueries = []struct{ name, sql string }{
	{"claim", `WITH due AS MATERIALIZED (
		SELECT id FROM connections WHERE ` + claimable + `
		ORDER BY next_refresh_at, id LIMIT $4%s)
	UPDATE connections SET lease_owner = $2, lease_expires_at = $3
	WHERE id IN (SELECT id FROM due) AND ` + claimable + `
	RETURNING id`},
	{"next due", `SELECT next_refresh_at FROM connections
	WHERE status = 'active' AND next_refresh_at IS NOT NULL
	AND (lease_owner = '' OR lease_expires_at IS NULL OR lease_expires_at <= $1)
	ORDER BY next_refresh_at, id LIMIT 1`},
}

const claimable = `status = 'active' AND next_refresh_at <= $1
	AND (lease_owner = '' OR lease_expires_at IS NULL OR lease_expires_at <= $1)`

// claimPlan is the database's plan of the scheduler's queries, with the
// fleet as stored.
func (r *rig) claimPlan(ctx context.Context) (string, error) {
	now := time.Now()
	explain, lock := "EXPLAIN ", " FOR UPDATE SKIP LOCKED"
	if r.st.Dialect() == "sqlite" {
		explain, lock = "EXPLAIN QUERY PLAN ", ""
	}
	// Fresh statistics, as autovacuum (or SQLite's optimize) would have
	// them on a live fleet.
	if _, err := r.st.SQL().ExecContext(ctx, "ANALYZE connections"); err != nil {
		return "", err
	}
	var out []string
	for _, q := range claimQueries {
		args := []any{r.timeArg(now), "idle-plan", r.timeArg(now.Add(time.Minute)), 64}
		if q.name == "next due" {
			args = args[:1]
		}
		sql := q.sql
		if strings.Contains(sql, "%s") {
			sql = fmt.Sprintf(sql, lock)
		}
		plan, err := r.explain(ctx, explain+sql, args...)
		if err != nil {
			return "", fmt.Errorf("%s: %w", q.name, err)
		}
		out = append(out, q.name+":", plan)
	}
	return strings.Join(out, "\n"), nil
}

func (r *rig) explain(ctx context.Context, q string, args ...any) (string, error) {
	rows, err := r.st.SQL().QueryContext(ctx, q, args...)
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
		lines = append(lines, "  "+fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(lines, "\n"), rows.Err()
}

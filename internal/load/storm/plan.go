package storm

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// claimPlan is the database's plan of the scheduler's queries, with the
// fleet as stored.
func (r *rig) claimPlan(ctx context.Context) (string, error) {
	now := time.Now()
	explain := "EXPLAIN "
	if r.st.Dialect() == "sqlite" {
		explain = "EXPLAIN QUERY PLAN "
	}
	// Fresh statistics, as autovacuum (or SQLite's optimize) would have
	// them on a live fleet.
	if _, err := r.st.SQL().ExecContext(ctx, "ANALYZE connections"); err != nil {
		return "", err
	}
	claim, nextDue := r.st.RefreshScheduleSQL()
	var out []string
	for _, q := range []struct {
		name, sql string
		args      []any
	}{
		{"claim", claim, []any{r.timeArg(now), "idle-plan", r.timeArg(now.Add(time.Minute)), 64}},
		{"next due", nextDue, []any{r.timeArg(now)}},
	} {
		plan, err := r.explain(ctx, explain+q.sql, q.args...)
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

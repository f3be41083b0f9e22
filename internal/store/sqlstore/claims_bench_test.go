package sqlstore_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/store/sqlstore"
)

// scheduleNow is the instant the schedule benchmarks claim at.
var scheduleNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// seedSchedule bulk-inserts stored active connections in one statement,
// each with a 900-byte sealed access token and a 120-byte refresh token
// like a real grant. The first due are due at scheduleNow (one second
// apart, in the past); the others fall due a day later and after, one
// second apart. It then refreshes the planner's statistics on PostgreSQL,
// as autovacuum would on a table of that size.
func seedSchedule(tb testing.TB, db *sqlstore.DB, stored, due int) {
	tb.Helper()
	ctx := tb.Context()
	const cols = `id, tenant_id, integration_id, provider, status, subject, email, scopes,
	token_type, access_token, refresh_token, access_expires_at, connected_at, version,
	lease_owner, failure_count, last_error, created_at, next_refresh_at`
	var q string
	var now any
	if db.Dialect() == "postgres" {
		now = scheduleNow
		q = `INSERT INTO connections (` + cols + `)
	SELECT 'c' || lpad(g::text, 7, '0'), 't' || (g % 50), 'i1', 'pax8', 'active', '', '',
		'["openid"]', 'Bearer', decode(repeat('ab', 900), 'hex'), decode(repeat('cd', 120), 'hex'),
		$1::timestamptz + interval '1 hour', $1, 1, '', 0, '', $1,
		CASE WHEN g <= $2 THEN $1 - g * interval '1 second'
		ELSE $1 + interval '1 day' + g * interval '1 second' END
	FROM generate_series(1, $3::int) AS g`
	} else {
		now = scheduleNow.UnixMicro()
		q = `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $3)
	INSERT INTO connections (` + cols + `)
	SELECT printf('c%07d', i), 't' || (i % 50), 'i1', 'pax8', 'active', '', '',
		'["openid"]', 'Bearer', zeroblob(900), zeroblob(120),
		$1 + 3600000000, $1, 1, '', 0, '', $1,
		CASE WHEN i <= $2 THEN $1 - i * 1000000 ELSE $1 + 86400000000 + i * 1000000 END
	FROM g`
	}
	if _, err := db.SQL().ExecContext(ctx, q, now, due, stored); err != nil {
		tb.Fatalf("seed %d connections: %v", stored, err)
	}
	if db.Dialect() == "postgres" {
		if _, err := db.SQL().ExecContext(ctx, `ANALYZE connections`); err != nil {
			tb.Fatalf("analyze: %v", err)
		}
	}
}

// BenchmarkClaimDue claims batches of 100 due connections among stored
// ones. Each iteration claims at a clock 1 ms later than the last with a
// 1 ms lease, so the previous batch's leases have lapsed and the number of
// due rows stays the same: the cost measured is that of one claim with
// that many rows due and stored. The stored=100 cases are the baselines.
func BenchmarkClaimDue(b *testing.B) {
	const batch = 100
	for name, dsn := range benchDSNs(b) {
		for _, size := range []struct{ stored, due int }{
			{100, 100}, {100_000, 100}, {10_000, 10_000}, {100_000, 10_000},
		} {
			b.Run(fmt.Sprintf("%s/stored=%d/due=%d", name, size.stored, size.due), func(b *testing.B) {
				db, err := sqlstore.Open(b.Context(), dsn(b), nil)
				if err != nil {
					b.Fatalf("Open = %v", err)
				}
				b.Cleanup(func() { db.Close() })
				seedSchedule(b, db, size.stored, size.due)
				now := scheduleNow
				for b.Loop() {
					cs, err := db.ClaimDue(b.Context(), "bench", now, now.Add(time.Millisecond), batch)
					if err != nil {
						b.Fatal(err)
					}
					if len(cs) != batch {
						b.Fatalf("ClaimDue = %d rows, want %d", len(cs), batch)
					}
					now = now.Add(time.Millisecond)
				}
			})
		}
	}
}

// BenchmarkNextRefreshDue reads the scheduler's wake-up time with 100
// due connections among stored ones, the first 50 of them under live
// leases that it must pass over.
func BenchmarkNextRefreshDue(b *testing.B) {
	for name, dsn := range benchDSNs(b) {
		for _, stored := range []int{100, 100_000} {
			b.Run(fmt.Sprintf("%s/stored=%d/due=100", name, stored), func(b *testing.B) {
				db, err := sqlstore.Open(b.Context(), dsn(b), nil)
				if err != nil {
					b.Fatalf("Open = %v", err)
				}
				b.Cleanup(func() { db.Close() })
				seedSchedule(b, db, stored, 100)
				if _, err := db.ClaimDue(b.Context(), "bench", scheduleNow, scheduleNow.Add(time.Hour), 50); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if next, err := db.NextRefreshDue(b.Context(), scheduleNow); err != nil || next.IsZero() {
						b.Fatalf("NextRefreshDue = %v, %v", next, err)
					}
				}
			})
		}
	}
}

// TestClaimDuePlan checks, at 100,000 stored connections of which 100 are
// due, that the claim and NextRefreshDue read the partial index
// connections_refresh_due (on SQLite, which covers what they filter on,
// without reading the table) and never scan the table, and logs the plans
// (go test -v -run TestClaimDuePlan prints them): EXPLAIN (ANALYZE,
// BUFFERS) of the claim, in a transaction rolled back, on PostgreSQL;
// EXPLAIN QUERY PLAN on SQLite.
func TestClaimDuePlan(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 connections")
	}
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t, dsn)
			seedSchedule(t, db, 100_000, 100)
			now, until := scheduleNow, scheduleNow.Add(time.Minute)
			if name == "postgres" {
				claim := explainPostgres(t, db, sqlstore.ClaimDueSQL(db), now, "plan", until, 100)
				t.Logf("EXPLAIN (ANALYZE, BUFFERS) claim, 100,000 stored, 100 due:\n%s", claim)
				next := explainPostgres(t, db, sqlstore.NextRefreshDueSQL(db), now)
				t.Logf("EXPLAIN (ANALYZE, BUFFERS) NextRefreshDue:\n%s", next)
				for what, plan := range map[string]string{"claim": claim, "NextRefreshDue": next} {
					if !strings.Contains(plan, "connections_refresh_due") || strings.Contains(plan, "Seq Scan on connections") {
						t.Errorf("%s plan does not read connections_refresh_due or scans the table:\n%s", what, plan)
					}
				}
				if !strings.Contains(claim, "rows=100 ") {
					t.Errorf("claim plan did not claim 100 rows:\n%s", claim)
				}
				return
			}
			claim := explainSQLite(t, db, sqlstore.ClaimDueSQL(db), now, "plan", until, 100)
			t.Logf("EXPLAIN QUERY PLAN claim:\n%s", claim)
			next := explainSQLite(t, db, sqlstore.NextRefreshDueSQL(db), now)
			t.Logf("EXPLAIN QUERY PLAN NextRefreshDue:\n%s", next)
			for what, plan := range map[string]string{"claim": claim, "NextRefreshDue": next} {
				if !strings.Contains(plan, "USING COVERING INDEX connections_refresh_due") {
					t.Errorf("%s plan does not read connections_refresh_due:\n%s", what, plan)
				}
				for line := range strings.Lines(plan) {
					if strings.Contains(line, "SCAN connections") && !strings.Contains(line, "USING") {
						t.Errorf("%s plan scans the table: %s", what, line)
					}
				}
			}
		})
	}
}

// explainPostgres returns EXPLAIN (ANALYZE, BUFFERS) of q with args, run
// in a transaction that is rolled back so that nothing is claimed.
func explainPostgres(t *testing.T, db *sqlstore.DB, q string, args ...any) string {
	t.Helper()
	tx, err := db.SQL().BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	return planLines(t, tx, `EXPLAIN (ANALYZE, BUFFERS) `+q, args...)
}

// explainSQLite returns EXPLAIN QUERY PLAN of q with args, one
// "id parent detail" row per line.
func explainSQLite(t *testing.T, db *sqlstore.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.SQL().QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("explain: %v", err)
		}
		fmt.Fprintf(&b, "%d %d %s\n", id, parent, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return b.String()
}

// planLines runs an EXPLAIN in tx and joins its text rows.
func planLines(t *testing.T, tx *sql.Tx, q string, args ...any) string {
	t.Helper()
	rows, err := tx.QueryContext(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatalf("explain: %v", err)
		}
		b.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return b.String()
}

// BenchmarkClaimDueDrain claims every due connection, 100 at a time, with
// the leases of the earlier batches still live, as a sweep that claims
// faster than it refreshes does: each claim passes over the rows claimed
// before it, which stay first in connections_refresh_due until the broker
// writes their next NextRefreshAt. One op is one drain; ns/claim is per
// batch of 100.
func BenchmarkClaimDueDrain(b *testing.B) {
	const batch = 100
	for name, dsn := range benchDSNs(b) {
		for _, size := range []struct{ stored, due int }{{100_000, 1_000}, {100_000, 10_000}} {
			b.Run(fmt.Sprintf("%s/stored=%d/due=%d", name, size.stored, size.due), func(b *testing.B) {
				db, err := sqlstore.Open(b.Context(), dsn(b), nil)
				if err != nil {
					b.Fatalf("Open = %v", err)
				}
				b.Cleanup(func() { db.Close() })
				seedSchedule(b, db, size.stored, size.due)
				now := scheduleNow
				for b.Loop() {
					for range size.due / batch {
						cs, err := db.ClaimDue(b.Context(), "bench", now, now.Add(time.Millisecond), batch)
						if err != nil {
							b.Fatal(err)
						}
						if len(cs) != batch {
							b.Fatalf("ClaimDue = %d rows, want %d", len(cs), batch)
						}
					}
					now = now.Add(time.Millisecond)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size.due/batch), "ns/claim")
			})
		}
	}
}

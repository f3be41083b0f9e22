package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/console"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/testenv"
)

// benchConnections is the fleet size of BenchmarkConsole.
const benchConnections = 100_000

// BenchmarkConsole serves the overview and filtered connection pages of a
// fleet of 100,000 connections (100 tenants, 3% needs_reauth, grants
// ending over a year, one refresh event per connection in the last 24 h)
// through the console's handler, signed in as the operator, and reports
// p50 and p99 per page next to the sign-in page (no database) as the
// baseline. On PostgreSQL it logs the EXPLAIN plans of the queries.
//
//	go test ./internal/console/ -run '^$' -bench BenchmarkConsole -benchtime 200x
func BenchmarkConsole(b *testing.B) {
	engines := []string{"sqlite"}
	if os.Getenv("GRANTD_TEST_POSTGRES") != "" {
		engines = append(engines, "postgres")
	}
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			e := testenv.New(b, testenv.Options{Postgres: engine == "postgres"})
			db := e.Store.(*sqlstore.DB)
			now := time.Now().UTC()
			bulkInsert(b, db, now)
			// The clock moves a second before each "steady" request (a
			// viewer every second: every 15th finds its counts stale and
			// starts one recount behind the page), and before each
			// "recount" request past the longest age stale counts are
			// served for, so those pay for every query.
			var skew atomic.Int64
			clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
			con, err := console.New(console.Options{Broker: e.Broker, Store: db, Vault: e.Vault, AdminKey: adminKey, Logger: e.Logger, Now: clock,
				SessionTTL: 1000 * time.Hour}) // the recount case moves the clock 20 h
			if err != nil {
				b.Fatal(err)
			}
			cookie := signInDirect(b, con)
			skewBefore := map[string]time.Duration{"overview-steady": time.Second, "overview-recount": 6 * time.Minute}
			pages := []struct{ name, path string }{
				{"signin-baseline", "/console/signin"},
				{"overview", "/console/"},
				{"overview-steady", "/console/"},
				{"overview-recount", "/console/"},
				{"connections-tenant-active-30d", "/console/connections?tenant=ten_00042&status=active&within=30"},
				{"connections-needs_reauth-all", "/console/connections?status=needs_reauth&provider=pax8"},
				{"connections-page-deep", "/console/connections?after=conn_090000"},
				{"connections-search-email", "/console/connections?q=user77777"},
			}
			if engine == "postgres" {
				explain(b, db, now)
			}
			for _, p := range pages {
				b.Run(p.name, func(b *testing.B) {
					var ds []time.Duration
					for b.Loop() {
						req := httptest.NewRequest(http.MethodGet, p.path, nil)
						req.AddCookie(cookie)
						rec := httptest.NewRecorder()
						skew.Add(int64(skewBefore[p.name]))
						start := time.Now()
						con.ServeHTTP(rec, req)
						ds = append(ds, time.Since(start))
						if rec.Code != http.StatusOK {
							b.Fatalf("GET %s = %d", p.path, rec.Code)
						}
					}
					slices.Sort(ds)
					b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
}

// signInDirect signs in as the operator through the handler and returns
// the session cookie.
func signInDirect(b *testing.B, con *console.Console) *http.Cookie {
	rec := httptest.NewRecorder()
	con.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/signin", nil))
	pre := rec.Result().Cookies()[0]
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	req := httptest.NewRequest(http.MethodPost, "/console/signin", strings.NewReader("csrf="+m[1]+"&key="+adminKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(pre)
	rec = httptest.NewRecorder()
	con.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "grantd_console" && c.Value != "" {
			return c
		}
	}
	b.Fatalf("sign in = %d, no session cookie", rec.Code)
	return nil
}

// bulkInsert writes benchConnections connections and one refreshed event
// each in the last 24 h, in multi-row INSERTs.
func bulkInsert(b *testing.B, db *sqlstore.DB, now time.Time) {
	ctx := b.Context()
	ts := func(t time.Time) any {
		if db.Dialect() == "sqlite" {
			return t.UnixMicro()
		}
		return t
	}
	access, refresh := make([]byte, 900), make([]byte, 120)
	const batch = 400
	start := time.Now()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for lo := 0; lo < benchConnections; lo += batch {
		var rows []string
		var args []any
		var evRows []string
		var evArgs []any
		for i := lo; i < lo+batch; i++ {
			status := store.StatusActive
			if i%33 == 0 {
				status = store.StatusNeedsReauth
			}
			provider := "pax8"
			if i%10 == 9 {
				provider = "paxful"
			}
			n := len(args)
			ph := make([]string, 20)
			for j := range ph {
				ph[j] = fmt.Sprintf("$%d", n+j+1)
			}
			rows = append(rows, "("+strings.Join(ph, ", ")+")")
			id := fmt.Sprintf("conn_%06d", i)
			args = append(args, id, fmt.Sprintf("ten_%05d", i%100), "int_pax8", provider, string(status), "sub",
				fmt.Sprintf("user%05d@example.test", i), `["Manage:Pax8Data","openid","offline_access"]`, "Bearer", access, refresh,
				ts(now.Add(time.Duration(i%24)*time.Hour)), ts(now.Add(time.Duration(i%365)*24*time.Hour+time.Hour)),
				ts(now.Add(30*24*time.Hour)), ts(now.Add(-24*time.Hour)), 1, "", 0, "", ts(now.Add(-48*time.Hour)))
			m := len(evArgs)
			evRows = append(evRows, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d)", m+1, m+2, m+3, m+4, m+5))
			evArgs = append(evArgs, fmt.Sprintf("ten_%05d", i%100), id, "refreshed", "", ts(now.Add(-time.Duration(i%(24*60))*time.Minute)))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO connections (id, tenant_id, integration_id, provider, status,
		subject, email, scopes, token_type, access_token, refresh_token, access_expires_at, refresh_expires_at,
		refresh_idle_expires_at, connected_at, version, lease_owner, failure_count, last_error, created_at) VALUES `+
			strings.Join(rows, ", "), args...); err != nil {
			b.Fatalf("bulk insert connections: %v", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO events (tenant_id, connection_id, kind, detail, created_at) VALUES `+
			strings.Join(evRows, ", "), evArgs...); err != nil {
			b.Fatalf("bulk insert events: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// What autovacuum does on its own after a bulk load; the visibility
	// map lets the counts be read from their indexes alone.
	vacuum := "ANALYZE"
	if db.Dialect() == "postgres" {
		vacuum = "VACUUM ANALYZE"
	}
	if _, err := db.SQL().ExecContext(ctx, vacuum); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: inserted %d connections and %d events in %v", db.Dialect(), benchConnections, benchConnections, time.Since(start).Round(time.Millisecond))
}

// explain logs PostgreSQL's plans of the console's heaviest queries, with
// the parameters the benchmark uses.
func explain(b *testing.B, db *sqlstore.DB, now time.Time) {
	qs := []struct {
		name string
		sql  string
		args []any
	}{
		{"connections page: tenant, status, expires within 30 days", `SELECT id FROM connections WHERE 1 = 1 AND tenant_id = $1 AND status = $2
		AND (refresh_expires_at < $3 OR refresh_idle_expires_at < $3) AND id > $4 ORDER BY id LIMIT $5`,
			[]any{"ten_00042", "active", now.Add(30 * 24 * time.Hour), "", 51}},
		{"connections page: status and provider, all tenants", `SELECT id FROM connections WHERE 1 = 1 AND provider = $1 AND status = $2 AND id > $3 ORDER BY id LIMIT $4`,
			[]any{"pax8", "needs_reauth", "", 51}},
		{"connections page: deep keyset", `SELECT id FROM connections WHERE 1 = 1 AND id > $1 ORDER BY id LIMIT $2`, []any{"conn_090000", 51}},
		{"overview: counts", `SELECT provider, status, COUNT(*) FROM connections WHERE ($1 = '' OR tenant_id = $1) GROUP BY provider, status ORDER BY provider, status`, []any{""}},
		{"overview: expiring grants", `SELECT id FROM connections WHERE status = 'active' AND refresh_expires_at > $1 AND refresh_expires_at < $2
		AND ($3 = '' OR tenant_id = $3) ORDER BY refresh_expires_at, id LIMIT $4`, []any{now, now.Add(30 * 24 * time.Hour), "", 20}},
		{"overview: hourly events", `SELECT date_trunc('hour', created_at AT TIME ZONE 'UTC') AS h, kind, COUNT(*) FROM events
		WHERE created_at >= $1 AND ($2 = '' OR tenant_id = $2) AND kind IN ($3, $4, $5, $6) GROUP BY h, kind ORDER BY h, kind`,
			[]any{now.Add(-24 * time.Hour), "", "refreshed", "needs_reauth", "refresh_malformed", "refresh_failed"}},
	}
	for _, q := range qs {
		rows, err := db.SQL().QueryContext(b.Context(), "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) "+q.sql, q.args...)
		if err != nil {
			b.Fatalf("explain %s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		b.Logf("EXPLAIN %s:\n%s", q.name, strings.Join(plan, "\n"))
	}
}

package sqlstore_test

import (
	"testing"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// TestMigration009Backfill takes a database back to before migration 009
// (rows written, then the column, its index and its schema_migrations row
// dropped), reopens it so that 009 runs on existing rows, and checks that
// every active row is scheduled no later than the default sweep would have
// looked at it, and never before its backoff, while other rows stay
// unscheduled.
func TestMigration009Backfill(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			db := open(t, dsn)
			conn := func(id string) store.Connection {
				return store.Connection{ID: id, TenantID: "t1", Status: store.StatusActive,
					CreatedAt: h(-24), AccessExpiresAt: h(1), RefreshIdleExpiresAt: h(24 * 30),
					RefreshExpiresAt: h(24 * 365)}
			}
			access := conn("access")
			idle := conn("idle")
			idle.RefreshIdleExpiresAt = h(100)
			ended := conn("ended")
			ended.RefreshExpiresAt = h(-1)
			backoff := conn("backoff")
			backoff.NextAttemptAt = h(2)
			unknown := store.Connection{ID: "unknown", TenantID: "t1", Status: store.StatusActive, CreatedAt: h(-24)}
			journal := conn("journal")
			journal.RefreshAttempt = "att_1"
			journalBackoff := conn("journal-backoff")
			journalBackoff.RefreshAttempt, journalBackoff.NextAttemptAt = "att_2", h(0.5)
			reauth := conn("reauth")
			reauth.Status = store.StatusNeedsReauth
			want := map[string]time.Time{
				"access":          h(1).Add(-10 * time.Minute),
				"idle":            h(100 - 120),
				"ended":           h(-1),
				"backoff":         h(2),
				"unknown":         h(-24),
				"journal":         h(-24),
				"journal-backoff": h(0.5),
				"reauth":          {},
			}
			for _, c := range []store.Connection{access, idle, ended, backoff, unknown, journal, journalBackoff, reauth} {
				c.NextRefreshAt = h(1000) // dropped with the column
				if err := db.CreateConnection(ctx, c); err != nil {
					t.Fatalf("CreateConnection(%s) = %v", c.ID, err)
				}
			}
			for _, q := range []string{
				`DROP INDEX connections_refresh_due`,
				`ALTER TABLE connections DROP COLUMN next_refresh_at`,
				`DELETE FROM schema_migrations WHERE version = 9`,
			} {
				if _, err := db.SQL().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db.Close()
			db = open(t, dsn)
			for id, w := range want {
				c, err := db.GetConnection(ctx, id)
				if err != nil {
					t.Fatalf("GetConnection(%s) = %v", id, err)
				}
				if !c.NextRefreshAt.Equal(w) {
					t.Errorf("%s: NextRefreshAt after 009 = %v, want %v", id, c.NextRefreshAt, w)
				}
			}
		})
	}
}

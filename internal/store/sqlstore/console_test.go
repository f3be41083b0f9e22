package sqlstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

// TestConsoleQueries is the conformance test of the console's reads on
// SQLite and PostgreSQL: keyset pages with every filter, counts, expiring
// grants, recent events, deliveries and sessions.
func TestConsoleQueries(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			db := open(t, dsn)
			ctx := t.Context()
			now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
			// 10 connections: tenants a (even) and b (odd), providers
			// pax8 (i<6) and paxful, i%3==0 needs_reauth, grants
			// ending i days from now.
			for i := range 10 {
				c := store.Connection{
					ID: fmt.Sprintf("conn_%02d", i), TenantID: map[bool]string{true: "ten_a", false: "ten_b"}[i%2 == 0],
					IntegrationID: "int_1", Provider: map[bool]string{true: "pax8", false: "paxful"}[i < 6],
					Status: store.StatusActive, Email: fmt.Sprintf("User%d_x@Example.test", i),
					RefreshExpiresAt: now.Add(time.Duration(i+1) * 24 * time.Hour), CreatedAt: now,
				}
				if i%3 == 0 {
					c.Status = store.StatusNeedsReauth
				}
				if err := db.CreateConnection(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			ids := func(cs []store.Connection) []string {
				var out []string
				for _, c := range cs {
					out = append(out, c.ID)
				}
				return out
			}
			pages := []struct {
				q     store.ConnectionQuery
				after string
				limit int
				want  []string
			}{
				{store.ConnectionQuery{}, "", 3, []string{"conn_00", "conn_01", "conn_02"}},
				{store.ConnectionQuery{}, "conn_02", 3, []string{"conn_03", "conn_04", "conn_05"}},
				{store.ConnectionQuery{}, "conn_08", 3, []string{"conn_09"}},
				{store.ConnectionQuery{TenantID: "ten_b"}, "conn_03", 10, []string{"conn_05", "conn_07", "conn_09"}},
				{store.ConnectionQuery{Provider: "paxful", Status: store.StatusNeedsReauth}, "", 10, []string{"conn_06", "conn_09"}},
				{store.ConnectionQuery{ExpiresBefore: now.Add(3*24*time.Hour + time.Hour)}, "", 10, []string{"conn_00", "conn_01", "conn_02"}},
				{store.ConnectionQuery{Search: "conn_04"}, "", 10, []string{"conn_04"}},
				{store.ConnectionQuery{Search: "user7"}, "", 10, []string{"conn_07"}},
				{store.ConnectionQuery{Search: "USER1"}, "", 10, []string{"conn_01"}},
				// LIKE wildcards in a search are literal.
				{store.ConnectionQuery{Search: "user_"}, "", 10, nil},
				{store.ConnectionQuery{Search: "%"}, "", 10, nil},
				{store.ConnectionQuery{TenantID: "ten_c"}, "", 10, nil},
			}
			for _, p := range pages {
				got, err := db.ListConnectionsPage(ctx, p.q, p.after, p.limit)
				if err != nil {
					t.Fatalf("ListConnectionsPage(%+v, %q) = %v", p.q, p.after, err)
				}
				if diff := cmp.Diff(p.want, ids(got)); diff != "" {
					t.Errorf("ListConnectionsPage(%+v, %q, %d) (-want +got):\n%s", p.q, p.after, p.limit, diff)
				}
			}

			counts, err := db.CountConnections(ctx, "ten_a")
			if err != nil {
				t.Fatal(err)
			}
			wantCounts := []store.ConnectionCount{
				{Provider: "pax8", Status: store.StatusActive, Count: 2},      // 2, 4
				{Provider: "pax8", Status: store.StatusNeedsReauth, Count: 1}, // 0
				{Provider: "paxful", Status: store.StatusActive, Count: 1},    // 8
				{Provider: "paxful", Status: store.StatusNeedsReauth, Count: 1},
			}
			if diff := cmp.Diff(wantCounts, counts); diff != "" {
				t.Errorf("CountConnections(ten_a) (-want +got):\n%s", diff)
			}

			exp, err := db.ExpiringGrants(ctx, "", now, now.Add(5*24*time.Hour+time.Hour), 10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"conn_01", "conn_02", "conn_04"}, ids(exp)); diff != "" {
				t.Errorf("ExpiringGrants (active, ending within 5 days) (-want +got):\n%s", diff)
			}

			for i, k := range []string{"refreshed", "connected", "needs_reauth", "refreshed"} {
				tenant := "ten_a"
				if i == 3 {
					tenant = "ten_b"
				}
				if _, err := db.AddEvent(ctx, store.Event{TenantID: tenant, ConnectionID: "conn_00", Kind: k, CreatedAt: now.Add(time.Duration(i-2) * time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			evs, err := db.HourlyEvents(ctx, "ten_a", now.Add(-90*time.Minute), []string{"refreshed", "needs_reauth"})
			if diff := cmp.Diff([]store.EventCount{{Hour: now, Kind: "needs_reauth", Count: 1}}, evs); err != nil || diff != "" {
				t.Errorf("HourlyEvents(ten_a, last 90 min) = %v (-want +got):\n%s", err, diff)
			}
			// Two refreshes an hour apart (2 h before now, and at now+1h
			// for tenant b), one more in now-2h's hour.
			if _, err := db.AddEvent(ctx, store.Event{TenantID: "ten_b", ConnectionID: "conn_01", Kind: "refreshed", CreatedAt: now.Add(-2*time.Hour + 59*time.Minute)}); err != nil {
				t.Fatal(err)
			}
			evs, err = db.HourlyEvents(ctx, "", now.Add(-3*time.Hour), []string{"refreshed"})
			want := []store.EventCount{{Hour: now.Add(-2 * time.Hour), Kind: "refreshed", Count: 2}, {Hour: now.Add(time.Hour), Kind: "refreshed", Count: 1}}
			if diff := cmp.Diff(want, evs); err != nil || diff != "" {
				t.Errorf("HourlyEvents(all tenants, refreshed) = %v (-want +got):\n%s", err, diff)
			}

			// Integrations in use cannot be deleted.
			in := store.Integration{ID: "int_1", Provider: "pax8", Name: "P", ClientID: "c", RedirectURI: "https://x.test/cb", CreatedAt: now}
			if err := db.CreateIntegration(ctx, in); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteIntegration(ctx, "int_1"); !errors.Is(err, store.ErrConflict) {
				t.Errorf("DeleteIntegration(in use) = %v, want ErrConflict", err)
			}
			in.ID = "int_2"
			if err := db.CreateIntegration(ctx, in); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteIntegration(ctx, "int_2"); err != nil {
				t.Errorf("DeleteIntegration(unused) = %v", err)
			}
			if err := db.DeleteIntegration(ctx, "int_2"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("DeleteIntegration(again) = %v, want ErrNotFound", err)
			}

			// Sessions.
			s := store.ConsoleSession{ID: []byte("0123456789abcdef0123456789abcdef"), TenantID: "ten_a", ExpiresAt: now.Add(time.Hour), CreatedAt: now}
			if err := db.CreateConsoleSession(ctx, s); err != nil {
				t.Fatal(err)
			}
			old := store.ConsoleSession{ID: []byte("old"), Admin: true, ExpiresAt: now.Add(-time.Hour), CreatedAt: now.Add(-2 * time.Hour)}
			if err := db.CreateConsoleSession(ctx, old); err != nil {
				t.Fatal(err)
			}
			got, err := db.GetConsoleSession(ctx, s.ID)
			if diff := cmp.Diff(s, got); err != nil || diff != "" {
				t.Errorf("GetConsoleSession = %v (-want +got):\n%s", err, diff)
			}
			if got, err := db.GetConsoleSession(ctx, old.ID); err != nil || !got.Admin {
				t.Errorf("GetConsoleSession(admin) = %+v, %v", got, err)
			}
			if err := db.DeleteConsoleSession(ctx, s.ID, now); err != nil {
				t.Fatal(err)
			}
			for _, id := range [][]byte{s.ID, old.ID} {
				if _, err := db.GetConsoleSession(ctx, id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("GetConsoleSession(%s) after delete = %v, want ErrNotFound", id, err)
				}
			}
		})
	}
}

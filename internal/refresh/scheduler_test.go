package refresh_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/vault"
)

// refreshes returns how many refresh-token requests the sandbox answered,
// whatever their outcome.
func refreshes(env *testenv.Env) int {
	n := 0
	for _, c := range env.Sandbox.Stats().Providers["pax8"].TokenRequests["refresh_token"] {
		n += c
	}
	return n
}

// eventually polls cond until it holds or a generous deadline passes: the
// scheduler's goroutines and the sandbox work over real loopback HTTP,
// which no fake clock can hurry.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSchedulerWakesWhenEarliestFallsDue: the scheduler sleeps on the
// shared clock until the earliest next_refresh_at, refreshes every row due
// then exactly once, and goes back to sleep; nothing is sent before.
func TestSchedulerWakesWhenEarliestFallsDue(t *testing.T) {
	clk := testenv.NewClock()
	env := testenv.New(t, testenv.Options{
		Sandbox: sandbox.Options{Now: clk.Now, Pax8: sandbox.Settings{Rotation: true, AccessTTL: time.Hour}},
		Now:     clk.Now,
	})
	var conns []store.Connection
	for i := range 3 {
		tenantID, _ := env.Tenant(t, fmt.Sprintf("MSP %d", i))
		conns = append(conns, env.Connect(t, tenantID, testenv.Partner))
	}
	margin := time.Minute // the broker's default ExpiryMargin
	s := &refresh.Scheduler{Broker: env.Broker, Clock: clk, Interval: 48 * time.Hour, Workers: 2, Logger: env.Logger}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	if !clk.WaitForWaiters(1, ctx.Done()) {
		t.Fatal("scheduler never slept")
	}
	clk.Advance(time.Hour - margin - time.Second)
	if !clk.WaitForWaiters(1, ctx.Done()) {
		t.Fatal("scheduler never slept")
	}
	if n := refreshes(env); n != 0 {
		t.Fatalf("refreshes before the schedule = %d, want 0", n)
	}
	clk.Advance(2 * time.Second)
	eventually(t, "3 refreshes", func() bool { return refreshes(env) >= 3 })
	eventually(t, "the scheduler to sleep again", func() bool {
		for _, c := range conns {
			got, _ := env.Store.GetConnection(t.Context(), c.ID)
			if got.LeaseOwner != "" || !got.NextRefreshAt.After(clk.Now()) {
				return false
			}
		}
		return clk.Waiters() >= 1
	})
	if n := refreshes(env); n != 3 {
		t.Errorf("refreshes = %d, want exactly 3 (one per row)", n)
	}
	for _, c := range conns {
		got, _ := env.Store.GetConnection(t.Context(), c.ID)
		want := got.AccessExpiresAt.Add(-margin)
		if !got.NextRefreshAt.Equal(want) {
			t.Errorf("%s: next_refresh_at %v, want access expiry less margin %v", c.ID, got.NextRefreshAt, want)
		}
	}
}

// TestOtherTenantsUnrefreshableRows is the finding "a healthy grant was
// lost because of another tenant": tenant B's rows that can never be
// refreshed (no refresh token) or that are in a long backoff must neither
// fill the scheduler's claims nor delay tenant A's idle grant, which stays
// alive through 40 days of the sandbox's 30-day inactivity lifetime; B's
// unrefreshable rows leave the schedule with needs_reauth and a reason at
// the first pass.
func TestOtherTenantsUnrefreshableRows(t *testing.T) {
	clk := testenv.NewClock()
	var mu sync.Mutex
	var events []store.Event
	env := testenv.New(t, testenv.Options{
		Sandbox: sandbox.Options{Now: clk.Now, Pax8: sandbox.Settings{Rotation: true}},
		Now:     clk.Now,
		OnEvent: func(e store.Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
	})
	ctx := t.Context()
	tenantA, _ := env.Tenant(t, "A MSP")
	tenantB, _ := env.Tenant(t, "B MSP")
	healthy := env.Connect(t, tenantA, testenv.Partner)

	// 100 rows of tenant B, written through the broker's store (which
	// schedules them) as an import or an old grant would be: 50 without
	// a refresh token, 50 in a backoff longer than the test.
	now := clk.Now()
	var noRT, backoff []string
	for i := range 100 {
		id := fmt.Sprintf("conn_b%03d", i)
		at, err := env.Vault.Seal([]byte("at-"+id), vault.AAD("connection", id, "access_token"))
		if err != nil {
			t.Fatal(err)
		}
		c := store.Connection{
			ID: id, TenantID: tenantB, IntegrationID: env.Integration.ID, Provider: "pax8", Status: store.StatusActive,
			AccessToken: at, AccessExpiresAt: now.Add(-time.Hour), LastRefreshAt: now.Add(-25 * time.Hour),
			ConnectedAt: now.Add(-25 * time.Hour), CreatedAt: now.Add(-25 * time.Hour), UpdatedAt: now,
		}
		if i%2 == 1 {
			rt, err := env.Vault.Seal([]byte("rt-"+id), vault.AAD("connection", id, "refresh_token"))
			if err != nil {
				t.Fatal(err)
			}
			c.RefreshToken, c.FailureCount, c.NextAttemptAt = rt, 9, now.Add(100*24*time.Hour)
			backoff = append(backoff, id)
		} else {
			noRT = append(noRT, id)
		}
		if err := env.Broker.Store().CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	s := &refresh.Scheduler{Broker: env.Broker, Workers: 2}
	s.Sweep(ctx)
	for _, id := range noRT {
		got, _ := env.Store.GetConnection(ctx, id)
		if got.Status != store.StatusNeedsReauth || !strings.Contains(got.LastError, "no refresh token") || !got.NextRefreshAt.IsZero() {
			t.Fatalf("%s after one pass: status %s (%q), next %v; want needs_reauth saying no refresh token, unscheduled", id, got.Status, got.LastError, got.NextRefreshAt)
		}
	}
	mu.Lock()
	reauths := 0
	for _, e := range events {
		if e.Kind == "needs_reauth" && e.TenantID == tenantB {
			reauths++
		}
	}
	mu.Unlock()
	if reauths != len(noRT) {
		t.Errorf("needs_reauth events for B = %d, want %d", reauths, len(noRT))
	}

	for day := 1; day <= 40; day++ {
		clk.Advance(24 * time.Hour)
		s.Sweep(ctx)
	}
	got, _ := env.Store.GetConnection(ctx, healthy.ID)
	if got.Status != store.StatusActive {
		t.Fatalf("A's idle grant after 40 days: %s (%s), want active", got.Status, got.LastError)
	}
	if _, err := env.Broker.Token(ctx, healthy.ID); err != nil {
		t.Errorf("A's Token after 40 days: %v", err)
	}
	for _, id := range backoff {
		got, _ := env.Store.GetConnection(ctx, id)
		if got.Status != store.StatusActive || got.LeaseOwner != "" {
			t.Fatalf("%s in backoff: status %s lease %q, want active and never claimed", id, got.Status, got.LeaseOwner)
		}
	}
	if st := env.Sandbox.Stats().Providers["pax8"]; st.RefreshReuseDetected != 0 {
		t.Errorf("reuse detected = %d, want 0", st.RefreshReuseDetected)
	}
}

// TestTwoReplicasSweepOneDueRow: two replicas sweeping at once, each
// having read the schedule before the other refreshed, send one refresh
// for one due row, on both backends.
func TestTwoReplicasSweepOneDueRow(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			clk := testenv.NewClock()
			env := testenv.New(t, testenv.Options{
				Sandbox:  sandbox.Options{Now: clk.Now, Pax8: sandbox.Settings{Rotation: true, AccessTTL: 5 * time.Minute}},
				Now:      clk.Now,
				Postgres: pg,
			})
			tenantID, _ := env.Tenant(t, "Acme MSP")
			c := env.Connect(t, tenantID, testenv.Partner)
			other := env.Replica(t, "replica-b", nil)
			for round := 1; round <= 5; round++ {
				clk.Advance(5 * time.Minute)
				var wg sync.WaitGroup
				for _, b := range []*broker.Broker{env.Broker, other} {
					wg.Go(func() { (&refresh.Scheduler{Broker: b}).Sweep(t.Context()) })
				}
				wg.Wait()
				if n := refreshes(env); n != round {
					t.Fatalf("round %d: refreshes = %d, want %d (one per expiry)", round, n, round)
				}
			}
			got, _ := env.Store.GetConnection(t.Context(), c.ID)
			if got.Status != store.StatusActive {
				t.Errorf("status %s (%s), want active", got.Status, got.LastError)
			}
			if st := env.Sandbox.Stats().Providers["pax8"]; st.RefreshReuseDetected != 0 {
				t.Errorf("reuse detected = %d, want 0", st.RefreshReuseDetected)
			}
		})
	}
}

// TestShortTokenTwoReplicas100Callers: a 6 s access token under 2
// replicas × 100 callers is refreshed once per expiry, not on every call
// (the margin is capped at half the token's life), and every caller of an
// expiry gets the same token.
func TestShortTokenTwoReplicas100Callers(t *testing.T) {
	clk := testenv.NewClock()
	env := testenv.New(t, testenv.Options{
		Sandbox: sandbox.Options{Now: clk.Now, Pax8: sandbox.Settings{Rotation: true, AccessTTL: 6 * time.Second}},
		Now:     clk.Now,
	})
	tenantID, _ := env.Tenant(t, "Acme MSP")
	c := env.Connect(t, tenantID, testenv.Partner)
	replicas := []*broker.Broker{env.Broker, env.Replica(t, "replica-b", nil)}
	for expiry := 1; expiry <= 5; expiry++ {
		clk.Advance(3*time.Second + time.Millisecond) // past half the life
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for i := range 200 {
			b := replicas[i%2]
			wg.Go(func() {
				tok, err := b.Token(t.Context(), c.ID)
				if err != nil {
					t.Errorf("Token: %v", err)
					return
				}
				mu.Lock()
				seen[tok.AccessToken]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if n := refreshes(env); n != expiry {
			t.Fatalf("expiry %d: refreshes = %d, want %d", expiry, n, expiry)
		}
		if len(seen) != 1 {
			t.Errorf("expiry %d: callers got %d different tokens, want 1", expiry, len(seen))
		}
		// Within the token's first half, no caller refreshes.
		clk.Advance(2 * time.Second)
		for _, b := range replicas {
			if _, err := b.Token(t.Context(), c.ID); err != nil {
				t.Fatal(err)
			}
		}
		if n := refreshes(env); n != expiry {
			t.Fatalf("expiry %d: a fresh token was refreshed again (%d refreshes)", expiry, n)
		}
	}
	if st := env.Sandbox.Stats().Providers["pax8"]; st.RefreshReuseDetected != 0 {
		t.Errorf("reuse detected = %d, want 0", st.RefreshReuseDetected)
	}
}

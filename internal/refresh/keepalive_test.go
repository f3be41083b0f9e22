package refresh_test

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/vault"
)

// Lifetimes of TestKeepAliveAtScaleRT08, in days of the shared clock: the
// sandbox enforces them, so a grant the scheduler let lapse is refused
// with invalid_grant and shows up as needs_reauth before its end.
const (
	kaDay      = 24 * time.Hour
	kaAccess   = 10 * kaDay // so a grant is refreshed every ~10 days
	kaIdle     = 30 * kaDay // Pax8's inactivity lifetime
	kaAbsolute = 80 * kaDay // ends inside the run: every grant must warn first
	kaRun      = 90 * kaDay // three inactivity lifetimes
)

var kaNotices = []time.Duration{30 * kaDay, 7 * kaDay}

// TestKeepAliveAtScaleRT08 is RT-08 at fleet scale (issue 6): idle
// connections across 3 tenants, with unrefreshable rows (no refresh token)
// making up a tenth of one tenant's, through three 30-day inactivity
// lifetimes on the sandbox's clock, drained by the scheduler at one sweep a
// day. No healthy grant is lost before its absolute end, each gets one
// reauth_due per threshold before it, and the unrefreshable rows leave the
// schedule at the first pass. GRANTD_KEEPALIVE_CONNECTIONS sets the
// number of healthy grants (default 150; BENCHMARKS.md reports 10,000).
func TestKeepAliveAtScaleRT08(t *testing.T) {
	n := 150
	if v := os.Getenv("GRANTD_KEEPALIVE_CONNECTIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 3 {
			t.Fatalf("GRANTD_KEEPALIVE_CONNECTIONS=%q: want a number of at least 3", v)
		}
	}
	if testing.Short() && n > 150 {
		t.Skip("-short: the scaled keep-alive runs in full in the step before the race detector")
	}
	clk := testenv.NewClock()
	var mu sync.Mutex
	notices := map[string]int{}
	reauth := map[string]time.Time{}
	env := testenv.New(t, testenv.Options{
		Sandbox: sandbox.Options{Now: clk.Now, Pax8: sandbox.Settings{
			Rotation: true, AccessTTL: kaAccess, RefreshIdle: kaIdle, RefreshAbsolute: kaAbsolute,
		}},
		Now: clk.Now,
		OnEvent: func(e store.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case "reauth_due":
				notices[e.ConnectionID]++
			case "needs_reauth":
				reauth[e.ConnectionID] = e.CreatedAt
			}
		},
		Broker: func(o *broker.Options) { o.IdleMargin = 5 * kaDay },
		Provider: func(p *provider.Provider) {
			p.AccessTokenTTL = provider.Duration(kaAccess)
			p.RefreshToken.IdleLifetime = provider.Duration(kaIdle)
			p.RefreshToken.AbsoluteLifetime = provider.Duration(kaAbsolute)
		},
	})
	ctx := t.Context()
	start := clk.Now()
	var tenants []string
	for i := range 3 {
		id, _ := env.Tenant(t, fmt.Sprintf("MSP %d", i))
		tenants = append(tenants, id)
	}

	// Healthy grants, minted at the sandbox as if each had consented now,
	// stored as the callback stores them (through the broker's store,
	// which schedules them).
	var healthy []string
	err := env.Sandbox.MintGrants(sandbox.BulkGrants{ClientID: env.Integration.ClientID, Count: n, AccessToken: true}, func(g sandbox.MintedGrant) error {
		i := len(healthy)
		id := fmt.Sprintf("conn_ka%06d", i)
		c := store.Connection{
			ID: id, TenantID: tenants[i%3], IntegrationID: env.Integration.ID, Provider: "pax8",
			Status: store.StatusActive, Subject: g.Subject, Scopes: env.Provider.Scopes, TokenType: "Bearer",
			AccessExpiresAt: start.Add(time.Duration(g.ExpiresIn) * time.Second), LastRefreshAt: start,
			RefreshExpiresAt: start.Add(kaAbsolute), RefreshIdleExpiresAt: start.Add(kaIdle),
			ConnectedAt: start, CreatedAt: start, UpdatedAt: start,
		}
		var err error
		if c.AccessToken, err = env.Vault.Seal([]byte(g.AccessToken), vault.AAD("connection", id, "access_token")); err != nil {
			return err
		}
		if c.RefreshToken, err = env.Vault.Seal([]byte(g.RefreshToken), vault.AAD("connection", id, "refresh_token")); err != nil {
			return err
		}
		healthy = append(healthy, id)
		return env.Broker.Store().CreateConnection(ctx, c)
	})
	if err != nil {
		t.Fatalf("seed %d grants: %v", n, err)
	}
	// Unrefreshable rows: a tenth as many, all in the first tenant.
	broken := max(1, n/10)
	for i := range broken {
		id := fmt.Sprintf("conn_kb%06d", i)
		at, err := env.Vault.Seal([]byte("at-"+id), vault.AAD("connection", id, "access_token"))
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Broker.Store().CreateConnection(ctx, store.Connection{
			ID: id, TenantID: tenants[0], IntegrationID: env.Integration.ID, Provider: "pax8", Status: store.StatusActive,
			AccessToken: at, AccessExpiresAt: start.Add(kaDay), LastRefreshAt: start,
			ConnectedAt: start, CreatedAt: start, UpdatedAt: start,
		}); err != nil {
			t.Fatal(err)
		}
	}

	s := &refresh.Scheduler{Broker: env.Broker, Workers: 8, ReauthNotices: kaNotices, NoticeBatch: n + broken}
	t0 := time.Now()
	refreshed := 0
	for day := 0; clk.Now().Sub(start) <= kaRun; day++ {
		refreshed += s.Sweep(ctx)
		if day == 0 {
			for i := range broken {
				got, _ := env.Store.GetConnection(ctx, fmt.Sprintf("conn_kb%06d", i))
				if got.Status != store.StatusNeedsReauth {
					t.Fatalf("unrefreshable row after the first pass: %s, want needs_reauth", got.Status)
				}
			}
		}
		clk.Advance(kaDay)
	}
	elapsed := time.Since(t0)

	end := start.Add(kaAbsolute)
	lost := 0
	for _, id := range healthy {
		if at, ok := reauth[id]; ok && at.Before(end) {
			lost++
			if lost <= 3 {
				got, _ := env.Store.GetConnection(ctx, id)
				t.Errorf("%s went needs_reauth at day %.1f, before its absolute end: %s", id, at.Sub(start).Hours()/24, got.LastError)
			}
		}
		if notices[id] != len(kaNotices) {
			t.Fatalf("%s got %d reauth_due notices, want %d before its absolute end", id, notices[id], len(kaNotices))
		}
		got, _ := env.Store.GetConnection(ctx, id)
		if got.Status != store.StatusNeedsReauth {
			t.Fatalf("%s after its absolute end: %s, want needs_reauth", id, got.Status)
		}
	}
	st := env.Sandbox.Stats().Providers["pax8"]
	if lost != 0 || st.RefreshReuseDetected != 0 || st.FamiliesRevoked != 0 {
		t.Errorf("healthy grants lost %d of %d, reuse %d, families revoked %d; want 0", lost, n, st.RefreshReuseDetected, st.FamiliesRevoked)
	}
	t.Logf("RT-08 at scale: %d healthy grants + %d unrefreshable across 3 tenants, %d days: %d lost, %d refreshes, %d reauth_due notices, %v wall",
		n, broken, int(kaRun/kaDay), lost, refreshed, 2*n, elapsed.Round(time.Millisecond))
}

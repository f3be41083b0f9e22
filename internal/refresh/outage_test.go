package refresh_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
)

// offsetClock is real time moved forward by Advance: a clock grantd and the
// sandbox share, on which a test crosses lifetimes and outages at once,
// while the two token buckets that count real time (the sandbox's rate
// limit and grantd's refresh.max_refresh_rate) still refill at the same
// pace. Jumps only ever refill the sandbox's bucket more.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.off)
}

func (c *offsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// Scale of TestProviderOutage.
const (
	outageConns    = 50
	outageAccess   = time.Hour        // access-token lifetime
	outageMargin   = 15 * time.Minute // refreshed 45 min after issue
	outageStagger  = 11 * time.Second // between two consents
	outageLength   = 10 * time.Minute
	outageStep     = 30 * time.Second // clock moved between two sweeps
	outageRate     = 10               // token requests per second, both sides
	outageWorkers  = 8
	outageFailures = 5 // the circuit's default threshold
)

// gauge reads the value of a gauge with one label pair from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	v, _, ok := read(t, reg, name, label, value)
	if !ok {
		t.Fatalf("metric %s{%s=%q} not registered", name, label, value)
	}
	return v
}

// samples reads the sample count of a histogram with one label pair from
// reg, 0 when it has none yet.
func samples(t *testing.T, reg *prometheus.Registry, name, label, value string) uint64 {
	t.Helper()
	_, n, _ := read(t, reg, name, label, value)
	return n
}

// read finds the metric name{label=value} in reg and returns its gauge
// value and its histogram's sample count.
func read(t *testing.T, reg *prometheus.Registry, name, label, value string) (float64, uint64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetGauge().GetValue(), m.GetHistogram().GetSampleCount(), true
				}
			}
		}
	}
	return 0, 0, false
}

// TestProviderOutage: the pax8 token endpoint answers 503 for 10 minutes of
// the clock grantd and the sandbox share, while all of 50 connections fall
// due, one every 11 s; the scheduler sweeps every 30 s of that clock. The
// provider's circuit must open (grantd_provider_circuit_open 1), so that
// the token requests during the outage are bounded by the circuit (the
// failures that open it, at most one batch of workers in flight, and one
// half-open probe per cool-down), not one per connection per sweep;
// Broker.Token keeps serving every access token still valid; no
// connection changes status. After the outage every connection is
// refreshed, and with the sandbox's token endpoint limited to 10
// requests/s and the provider's refresh.max_refresh_rate 10, the catch-up
// gets no 429 from the sandbox. A refresh the open circuit holds back
// does not wait for the rate limit either. Every connection's token is then
// accepted by the sandbox's userinfo endpoint: no grant lost.
func TestProviderOutage(t *testing.T) {
	ctx := t.Context()
	clk := &offsetClock{}
	reg := prometheus.NewRegistry()
	settings := sandbox.DefaultSettings()
	settings.AccessTTL = outageAccess
	env := testenv.New(t, testenv.Options{
		Sandbox: sandbox.Options{Now: clk.Now, Pax8: settings},
		Now:     clk.Now,
		Broker:  func(o *broker.Options) { o.Metrics = broker.NewMetrics(reg) },
		Provider: func(p *provider.Provider) {
			p.AccessTokenTTL = provider.Duration(outageAccess)
			p.Refresh.Margin = provider.Duration(outageMargin)
			p.Refresh.MaxRefreshRate = outageRate
		},
	})
	loop := &refresh.Scheduler{Broker: env.Broker, Logger: env.Logger, Workers: outageWorkers, Interval: outageStep}
	stats := func() sandbox.ProviderStats { return env.Sandbox.Stats().Providers[env.Provider.Name] }
	refreshRequests := func() int {
		n := 0
		for _, v := range stats().TokenRequests["refresh_token"] {
			n += v
		}
		return n
	}

	type conn struct {
		id, subject string
		connected   time.Time
	}
	conns := make([]conn, 0, outageConns)
	for i := range outageConns {
		tenantID, _ := env.Tenant(t, fmt.Sprintf("MSP %d", i))
		c := env.Connect(t, tenantID, testenv.Partner)
		conns = append(conns, conn{id: c.ID, subject: c.Subject, connected: c.ConnectedAt})
		clk.Advance(outageStagger)
	}
	first := conns[0].connected
	settings.TokenRateLimit = outageRate
	env.Sandbox.Configure(env.Provider.Name, settings)

	// statuses checks that no connection left active, and returns the
	// rows.
	statuses := func(when string) map[string]store.Connection {
		t.Helper()
		rows := map[string]store.Connection{}
		for _, c := range conns {
			got, err := env.Store.GetConnection(ctx, c.id)
			if err != nil {
				t.Fatalf("GetConnection %s: %v", c.id, err)
			}
			if got.Status != store.StatusActive {
				t.Errorf("%s: connection %s is %s (%s), want active", when, c.id, got.Status, got.LastError)
			}
			rows[c.id] = got
		}
		return rows
	}

	// Up to 30 s before the first connection falls due, nothing is sent.
	clk.Advance(first.Add(outageAccess - outageMargin - outageStep).Sub(clk.Now()))
	if n := loop.Sweep(ctx); n != 0 || refreshRequests() != 0 {
		t.Fatalf("before anything is due: %d refreshed, %d refresh requests; want 0 and 0", n, refreshRequests())
	}
	if err := env.Sandbox.AddFault(sandbox.Fault{Provider: env.Provider.Name, Kind: "outage", Endpoint: "token", Duration: outageLength}); err != nil {
		t.Fatal(err)
	}
	outageEnd := env.Sandbox.Now().Add(outageLength)
	last := conns[len(conns)-1].connected.Add(outageAccess - outageMargin)
	if !last.Before(outageEnd) {
		t.Fatalf("the last connection falls due at end%+v, after the outage", last.Sub(outageEnd))
	}

	steps, opened, served := 0, false, 0
	outageStart := time.Now()
	waitsBefore := samples(t, reg, "grantd_refresh_rate_wait_seconds", "provider", env.Provider.Name)
	for clk.Now().Add(outageStep).Before(outageEnd) {
		clk.Advance(outageStep)
		loop.Sweep(ctx)
		steps++
		statuses(fmt.Sprintf("outage step %d", steps))
		if gauge(t, reg, "grantd_provider_circuit_open", "provider", env.Provider.Name) != 1 {
			continue
		}
		opened = true
		// The circuit is open: every access token, due or not, is still
		// valid and handed out.
		for _, c := range conns {
			tok, err := env.Broker.Token(ctx, c.id)
			if err != nil || tok.AccessToken == "" {
				t.Errorf("outage step %d: Token(%s) = %v, want the stored, still valid token", steps, c.id, err)
				continue
			}
			served++
		}
	}
	during := refreshRequests()
	if !opened {
		t.Errorf("the circuit never opened during a %v outage (grantd_provider_circuit_open stayed 0)", outageLength)
	}
	if served == 0 {
		t.Error("Broker.Token was never checked with the circuit open")
	}
	// Failures until the circuit opens, at most a batch of workers that
	// were in flight when it did, then at most one probe per sweep (the
	// cool-down is as long as a step) and one per round of Token calls.
	if bound := outageFailures + outageWorkers + 2*steps; during > bound || during < outageFailures {
		t.Errorf("token requests during the outage = %d over %d sweeps, want %d..%d (bounded by the circuit)", during, steps, outageFailures, bound)
	}
	// Nothing the circuit held back waited for the rate limit: only the
	// requests sent may have.
	if waits := samples(t, reg, "grantd_refresh_rate_wait_seconds", "provider", env.Provider.Name) - waitsBefore; waits > uint64(during) {
		t.Errorf("%d refreshes waited for max_refresh_rate during the outage, but only %d were sent: held-back refreshes spend the rate budget", waits, during)
	}
	if got := stats().TokenRequests["refresh_token"]["ok"]; got != 0 {
		t.Errorf("%d refreshes succeeded during the outage", got)
	}
	t.Logf("outage: %d token requests over %d sweeps for %d connections, in %v of real time", during, steps, len(conns), time.Since(outageStart).Round(time.Millisecond))

	// Catch-up: sweep every 5 s of the clock until every connection has
	// been refreshed since its consent.
	clk.Advance(outageEnd.Sub(clk.Now()) + time.Second)
	limited := stats().TokenRateLimited
	start := time.Now()
	pending := len(conns)
	for round := 0; pending > 0 && round < 60; round++ {
		loop.Sweep(ctx)
		pending = 0
		for _, c := range conns {
			got, err := env.Store.GetConnection(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if !got.LastRefreshAt.After(c.connected) {
				pending++
			}
		}
		clk.Advance(5 * time.Second)
	}
	if pending > 0 {
		t.Errorf("%d of %d connections not refreshed after the outage", pending, len(conns))
	}
	if n := stats().TokenRateLimited - limited; n != 0 {
		t.Errorf("the sandbox answered %d token requests with 429 during the catch-up, want 0 (max_refresh_rate = its limit)", n)
	}
	if v := gauge(t, reg, "grantd_provider_circuit_open", "provider", env.Provider.Name); v != 0 {
		t.Errorf("grantd_provider_circuit_open after the catch-up = %v, want 0", v)
	}
	t.Logf("catch-up: %d connections refreshed in %v of real time", len(conns), time.Since(start).Round(time.Millisecond))

	rows := statuses("after the outage")
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, c := range conns {
		at := openSealed(t, env, c.id, "access_token", rows[c.id].AccessToken)
		if status, sub := userinfo(ctx, t, hc, env.Endpoints.UserinfoURL, at); status != http.StatusOK || sub != c.subject {
			t.Errorf("connection %s after the outage: userinfo %d for sub %q, want 200 for %q", c.id, status, sub, c.subject)
		}
	}
	if ps := stats(); ps.RefreshReuseDetected != 0 || ps.FamiliesRevoked != 0 {
		t.Errorf("sandbox saw %d refresh-token reuses and revoked %d families, want 0", ps.RefreshReuseDetected, ps.FamiliesRevoked)
	}
}

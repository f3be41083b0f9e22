package refresh_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
)

// events records the events one broker emitted.
type events struct {
	mu   sync.Mutex
	list []store.Event
}

func (e *events) add(ev store.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

// of returns the events of kind.
func (e *events) of(kind string) []store.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []store.Event
	for _, ev := range e.list {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

const day = 24 * time.Hour

// TestReauthNoticesOnceAcrossReplicas is RT-08's notice: two replicas,
// each with its own broker and loop on one SQLite database, sweep together
// while a settable clock walks a Pax8 grant through its year (sweeps keep
// it alive past its 30-day inactivity limit). Exactly one reauth_due event
// is emitted when the end is 30 days away and exactly one more at 7 days,
// by whichever replica won, and a replica started later (a restart) sends
// none again.
func TestReauthNoticesOnceAcrossReplicas(t *testing.T) {
	clk := testenv.NewClock()
	var a, b, c events
	env := testenv.New(t, testenv.Options{
		Sandbox: sandbox.Options{Now: clk.Now},
		Now:     clk.Now,
		OnEvent: a.add,
	})
	replica := env.Replica(t, "replica-b", b.add)
	notices := []time.Duration{30 * day, 7 * day}
	loops := []*refresh.Scheduler{
		{Broker: env.Broker, ReauthNotices: notices, Logger: env.Logger},
		{Broker: replica, ReauthNotices: notices, Logger: env.Logger},
	}
	tenantID, _ := env.Tenant(t, "Acme MSP")
	conn := env.Connect(t, tenantID, testenv.Partner)
	end := conn.RefreshExpiresAt
	if end.IsZero() {
		t.Fatal("the Pax8 grant has no absolute lifetime")
	}

	sweep := func() {
		t.Helper()
		for range 3 {
			var wg sync.WaitGroup
			for _, l := range loops {
				wg.Go(func() { l.Sweep(t.Context()) })
			}
			wg.Wait()
		}
	}
	// walk advances the clock to until in steps of at most 10 days,
	// sweeping after each, as running loops would.
	walk := func(until time.Time) {
		t.Helper()
		for clk.Now().Before(until) {
			clk.Advance(min(10*day, until.Sub(clk.Now())))
			sweep()
		}
	}
	notices2 := func() []store.Event { return append(a.of("reauth_due"), b.of("reauth_due")...) }
	want := func(n int, when string) {
		t.Helper()
		got := notices2()
		if len(got) != n {
			t.Fatalf("%s: %d reauth_due events (replica a %d, b %d), want %d", when, len(got), len(a.of("reauth_due")), len(b.of("reauth_due")), n)
		}
	}

	// burst crosses a threshold and has both replicas ask for notices from
	// eight goroutines at once, then sweeps as the loops would.
	burst := func(to time.Time) {
		t.Helper()
		clk.Advance(to.Sub(clk.Now()))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 8 {
			br := loops[i%2].Broker
			wg.Go(func() {
				<-start
				if _, err := br.NoticeReauth(t.Context(), notices, 10); err != nil {
					t.Errorf("NoticeReauth: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		sweep()
	}

	walk(end.Add(-30*day - time.Hour))
	want(0, "31 days before the end")
	burst(end.Add(-30*day + time.Hour))
	want(1, "30 days before the end")
	first := notices2()[0]
	wantDetail := "the grant ends " + end.UTC().Format(time.RFC3339) + "; the tenant must consent again before then"
	if diff := cmp.Diff(store.Event{TenantID: tenantID, ConnectionID: conn.ID, IntegrationID: conn.IntegrationID, Provider: conn.Provider, Kind: "reauth_due", Detail: wantDetail}, first,
		cmpopts.IgnoreFields(store.Event{}, "ID", "CreatedAt")); diff != "" {
		t.Errorf("first notice (-want +got):\n%s", diff)
	}

	// A restarted replica reads the notice from the database.
	restarted := env.Replica(t, "replica-c", c.add)
	(&refresh.Scheduler{Broker: restarted, ReauthNotices: notices}).Sweep(t.Context())
	if got := c.of("reauth_due"); len(got) != 0 {
		t.Errorf("restarted replica sent %d notices, want 0", len(got))
	}

	walk(end.Add(-7*day - time.Hour))
	want(1, "8 days before the end")
	burst(end.Add(-7*day + time.Hour))
	want(2, "7 days before the end")
	walk(end.Add(-time.Hour))
	want(2, "an hour before the end")

	got, err := env.Store.GetConnection(t.Context(), conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusActive {
		t.Errorf("status = %s an hour before the end, want active (the sweeps kept it alive)", got.Status)
	}
	stored, err := env.Store.ListEvents(t.Context(), conn.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range stored {
		if e.Kind == "reauth_due" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("stored reauth_due events = %d, want 2", n)
	}
}

// TestReauthNoticeLateAndReconsent: a grant first seen 6 days before its
// end gets one notice, for the nearest threshold, not two; consenting
// again starts a new year, whose notices come again (RT-08).
func TestReauthNoticeLateAndReconsent(t *testing.T) {
	clk := testenv.NewClock()
	var a events
	env := testenv.New(t, testenv.Options{Sandbox: sandbox.Options{Now: clk.Now}, Now: clk.Now, OnEvent: a.add})
	silent := &refresh.Scheduler{Broker: env.Broker, Logger: env.Logger}
	loop := &refresh.Scheduler{Broker: env.Broker, ReauthNotices: []time.Duration{30 * day, 7 * day}, Logger: env.Logger}
	tenantID, _ := env.Tenant(t, "Acme MSP")
	conn := env.Connect(t, tenantID, testenv.Partner)
	walk := func(l *refresh.Scheduler, until time.Time) {
		t.Helper()
		for clk.Now().Before(until) {
			clk.Advance(min(10*day, until.Sub(clk.Now())))
			l.Sweep(t.Context())
		}
	}
	walk(silent, conn.RefreshExpiresAt.Add(-6*day))
	if n := len(a.of("reauth_due")); n != 0 {
		t.Fatalf("notices with none configured = %d, want 0", n)
	}
	loop.Sweep(t.Context())
	loop.Sweep(t.Context())
	if n := len(a.of("reauth_due")); n != 1 {
		t.Fatalf("notices 6 days before the end = %d, want 1", n)
	}

	again := env.Reconnect(t, tenantID, conn.ID, testenv.Partner)
	if again.ID != conn.ID || !again.RefreshExpiresAt.After(conn.RefreshExpiresAt) {
		t.Fatalf("Reconnect = %s ending %v, want %s with a later end than %v", again.ID, again.RefreshExpiresAt, conn.ID, conn.RefreshExpiresAt)
	}
	walk(loop, again.RefreshExpiresAt.Add(-31*day))
	if n := len(a.of("reauth_due")); n != 1 {
		t.Fatalf("notices in the new grant's first 11 months = %d, want none new", n-1)
	}
	walk(loop, again.RefreshExpiresAt.Add(-29*day))
	got := a.of("reauth_due")
	if len(got) != 2 {
		t.Fatalf("notices after the new grant's 30-day mark = %d, want 2 in all", len(got))
	}
	if end := again.RefreshExpiresAt.UTC().Format(time.RFC3339); !strings.Contains(got[1].Detail, end) {
		t.Errorf("new notice %q does not name the new end %s", got[1].Detail, end)
	}
}

package broker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// slowUpdate is the real store whose UpdateConnection, once armed, waits
// before starting, as a busy SQLite writer makes it wait.
type slowUpdate struct {
	store.Store
	mu    sync.Mutex
	delay time.Duration
}

func (s *slowUpdate) arm(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

func (s *slowUpdate) UpdateConnection(ctx context.Context, id string, f func(store.Connection) (store.Connection, error)) (store.Connection, error) {
	s.mu.Lock()
	d := s.delay
	s.delay = 0
	s.mu.Unlock()
	time.Sleep(d)
	return s.Store.UpdateConnection(ctx, id, f)
}

// TestRotatedTokenStoredAfterLeaseWait is RT-04 ("after receive, before
// commit") and RT-09: a refresh that first waited for another replica's
// lease to lapse, then received a rotated refresh token late in its time
// budget, must still store it, however long the write waits for the
// database; the provider has already retired the old one.
func TestRotatedTokenStoredAfterLeaseWait(t *testing.T) {
	g := newGate()
	e := newEnv(t, withProvider(func(p *provider.Provider) { p.TokenURL = g.front(t, p.TokenURL) }))
	ctx := t.Context()
	c := e.connect(ctx)
	st := &slowUpdate{Store: e.st}
	const leaseTTL, refreshTimeout = 3 * time.Second, 2500 * time.Millisecond
	b, err := broker.New(broker.Options{
		Store: st, Vault: e.keys, Providers: e.reg, PublicURL: "http://127.0.0.1:1", Now: e.clk.Now,
		Owner: "replica-a", LeaseTTL: leaseTTL, RefreshTimeout: refreshTimeout, TokenCacheTTL: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.expire()
	// Another replica took the lease and then stalled.
	if _, owned, err := e.st.AcquireLease(ctx, c.ID, "replica-b", e.clk.Now(), e.clk.Now().Add(time.Minute)); err != nil || !owned {
		t.Fatalf("AcquireLease = %v, %v", owned, err)
	}

	g.holdNextRefresh()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := b.Token(ctx, c.ID)
		done <- err
	}()
	// The stalled lease lapses late in the waiting refresh's budget
	// (leaseTTL+refreshTimeout from start).
	time.Sleep(leaseTTL + 200*time.Millisecond)
	e.clk.Advance(2 * time.Minute)
	g.waitHeld()
	// The provider answers inside the request timeout, rotating the
	// refresh token, and the write then waits for the database.
	time.Sleep(time.Until(start.Add(leaseTTL + refreshTimeout - time.Second)))
	st.arm(2 * time.Second)
	g.release(`{"access_token":"at-rotated","token_type":"Bearer","expires_in":86400,"refresh_token":"rt-rotated"}`, 200)
	if err := <-done; err != nil {
		t.Fatalf("Token = %v, want the refreshed token", err)
	}
	got, err := e.st.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := e.keys.Open(got.RefreshToken, vault.AAD("connection", c.ID, "refresh_token"))
	if err != nil {
		t.Fatal(err)
	}
	if string(rt) != "rt-rotated" {
		t.Error("the rotated refresh token was not stored")
	}
}

package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/store"
)

// testLeases covers the refresh lease that names one owner across
// replicas (RT-02, RT-09): acquire, contention, renewal, expiry takeover,
// release by a non-owner, and that leases never bump Version.
func testLeases(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0))
	now := at(time.Hour)
	acquire := func(owner string, now, until time.Time) (store.Connection, bool) {
		t.Helper()
		c, ok, err := s.AcquireLease(ctx, "c1", owner, now, until)
		if err != nil {
			t.Fatalf("AcquireLease(%q) = %v", owner, err)
		}
		return c, ok
	}
	c, ok := acquire("a", now, now.Add(30*time.Second))
	if !ok || c.LeaseOwner != "a" || !c.LeaseExpiresAt.Equal(now.Add(30*time.Second)) {
		t.Errorf("AcquireLease(a) = owner %q until %v, %v; want a, %v, true",
			c.LeaseOwner, c.LeaseExpiresAt, ok, now.Add(30*time.Second))
	}
	if c.Version != 1 {
		t.Errorf("AcquireLease changed Version to %d, want 1", c.Version)
	}
	if diff := cmp.Diff(c, mustGet(t, s, "c1"), cmpOpts); diff != "" {
		t.Errorf("AcquireLease returned a row unlike the stored one (-returned +stored):\n%s", diff)
	}
	// b cannot take a's live lease and sees who holds it.
	c, ok = acquire("b", now.Add(10*time.Second), now.Add(40*time.Second))
	if ok || c.LeaseOwner != "a" {
		t.Errorf("AcquireLease(b) while a holds it = owner %q, %v; want a, false", c.LeaseOwner, ok)
	}
	// a renews.
	c, ok = acquire("a", now.Add(20*time.Second), now.Add(60*time.Second))
	if !ok || !c.LeaseExpiresAt.Equal(now.Add(60*time.Second)) {
		t.Errorf("AcquireLease(a) renewal = until %v, %v; want %v, true", c.LeaseExpiresAt, ok, now.Add(60*time.Second))
	}
	// After expiry b takes over.
	c, ok = acquire("b", now.Add(61*time.Second), now.Add(90*time.Second))
	if !ok || c.LeaseOwner != "b" {
		t.Errorf("AcquireLease(b) after expiry = owner %q, %v; want b, true", c.LeaseOwner, ok)
	}
	// a's release is a no-op now.
	if err := s.ReleaseLease(ctx, "c1", "a"); err != nil {
		t.Fatalf("ReleaseLease(a) = %v", err)
	}
	if got := mustGet(t, s, "c1"); got.LeaseOwner != "b" {
		t.Errorf("after ReleaseLease by non-owner, owner = %q, want b", got.LeaseOwner)
	}
	if err := s.ReleaseLease(ctx, "c1", "b"); err != nil {
		t.Fatalf("ReleaseLease(b) = %v", err)
	}
	got := mustGet(t, s, "c1")
	if got.LeaseOwner != "" || !got.LeaseExpiresAt.IsZero() || got.Version != 1 {
		t.Errorf("after ReleaseLease(b) = owner %q until %v version %d; want free and version 1",
			got.LeaseOwner, got.LeaseExpiresAt, got.Version)
	}
	// Free again: anyone can take it.
	if _, ok := acquire("c", now, now.Add(time.Second)); !ok {
		t.Errorf("AcquireLease(c) on a released lease = false, want true")
	}
	if _, _, err := s.AcquireLease(ctx, "nope", "a", now, now.Add(time.Second)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AcquireLease(nope) = %v, want ErrNotFound", err)
	}
	// A lease survives UpdateConnection and an update does not free it.
	if _, err := s.UpdateConnection(ctx, "c1", func(c store.Connection) (store.Connection, error) {
		c.LastError = "x"
		return c, nil
	}); err != nil {
		t.Fatalf("UpdateConnection = %v", err)
	}
	if got := mustGet(t, s, "c1"); got.LeaseOwner != "c" {
		t.Errorf("after UpdateConnection, lease owner = %q, want c", got.LeaseOwner)
	}
}

// testLeaseConcurrent: 20 owners race for a free lease and exactly one
// gets it (RT-02).
func testLeaseConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0))
	now := at(time.Hour)
	const workers = 20
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		owners []string
	)
	start := make(chan struct{})
	for i := range workers {
		owner := fmt.Sprintf("owner-%d", i)
		wg.Go(func() {
			<-start
			c, ok, err := s.AcquireLease(ctx, "c1", owner, now, now.Add(time.Minute))
			if err != nil {
				t.Errorf("AcquireLease(%q) = %v", owner, err)
				return
			}
			if ok {
				mu.Lock()
				owners = append(owners, owner)
				mu.Unlock()
			} else if c.LeaseOwner == "" || c.LeaseOwner == owner {
				t.Errorf("AcquireLease(%q) = false with lease owner %q", owner, c.LeaseOwner)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(owners) != 1 {
		t.Fatalf("AcquireLease from %d owners: %v won; want exactly one", workers, owners)
	}
	if got := mustGet(t, s, "c1"); got.LeaseOwner != owners[0] {
		t.Errorf("stored lease owner = %q, want the winner %q", got.LeaseOwner, owners[0])
	}
}

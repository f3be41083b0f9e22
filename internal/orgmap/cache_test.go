package orgmap

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lister is a company listing for the cache tests: it counts its calls,
// and, while gate is not nil, each call waits for gate to be closed.
type lister struct {
	calls atomic.Int32
	gate  chan struct{}
	err   error
}

func (l *lister) list(ctx context.Context) ([]Company, error) {
	n := l.calls.Add(1)
	if l.gate != nil {
		select {
		case <-l.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if l.err != nil {
		return nil, l.err
	}
	return []Company{{ID: fmt.Sprint("c", n), Name: fmt.Sprint("Walk ", n)}}, nil
}

var keyA = cacheKey{tenantID: "ten_a", connID: "conn_a"}

// TestCompanyCacheSingleFlight checks that concurrent misses share one
// walk, that the list is then served for the TTL without another, and
// that a walk starts again once it is over. It runs in a synctest bubble,
// so time.Now is the bubble's clock and no test waits for real.
func TestCompanyCacheSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCompanyCache(time.Minute, 10, time.Now)
		l := &lister{gate: make(chan struct{})}
		var wg sync.WaitGroup
		got := make([][]Company, 8)
		for i := range got {
			wg.Go(func() {
				cs, _, err := c.get(t.Context(), keyA, false, l.list)
				if err != nil {
					t.Errorf("get: %v", err)
				}
				got[i] = cs
			})
		}
		synctest.Wait() // every caller is waiting for the walk
		if n := l.calls.Load(); n != 1 {
			t.Fatalf("8 concurrent misses made %d walks, want 1", n)
		}
		close(l.gate)
		wg.Wait()
		for i := range got {
			if diff := cmp.Diff([]Company{{"c1", "Walk 1"}}, got[i]); diff != "" {
				t.Errorf("caller %d (-want +got):\n%s", i, diff)
			}
		}

		start := time.Now()
		time.Sleep(time.Minute - time.Second)
		cs, at, err := c.get(t.Context(), keyA, false, l.list)
		if err != nil || l.calls.Load() != 1 || cs[0].ID != "c1" || !at.Equal(start) {
			t.Errorf("get within the TTL = %v, %v, %v after %d walks; want the first list, listed at %v, 1 walk", cs, at, err, l.calls.Load(), start)
		}
		time.Sleep(time.Second)
		if cs, _, err := c.get(t.Context(), keyA, false, l.list); err != nil || cs[0].ID != "c2" {
			t.Errorf("get at the TTL = %v, %v; want a new walk's list", cs, err)
		}
		other := cacheKey{tenantID: "ten_b", connID: "conn_a"}
		if cs, _, _ := c.get(t.Context(), other, false, l.list); cs[0].ID != "c3" {
			t.Errorf("another tenant's key got %v, want its own walk", cs)
		}
	})
}

// TestCompanyCacheFresh checks that a fresh get walks again only once
// the TTL since the last walk's start is over, however often it is asked
// (one Pax8 walk per connection per cache period), that a fresh get then
// walks even with a walk in flight, that the older walk then stores
// nothing, and that later gets are served the fresh list.
func TestCompanyCacheFresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCompanyCache(time.Minute, 10, time.Now)
		l := &lister{}
		if _, _, err := c.get(t.Context(), keyA, false, l.list); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			cs, _, _ := c.get(t.Context(), keyA, true, l.list)
			if l.calls.Load() != 1 || cs[0].ID != "c1" {
				t.Fatalf("fresh get within the TTL = %v after %d walks, want walk 1's list, cached", cs, l.calls.Load())
			}
		}

		// Past the TTL: a plain get starts walk 2 and waits; a fresh get
		// meanwhile joins it (the period's walk has started), and one a
		// TTL later starts walk 3.
		time.Sleep(time.Minute)
		l.gate = make(chan struct{})
		var plain []Company
		done := make(chan struct{})
		go func() {
			defer close(done)
			plain, _, _ = c.get(t.Context(), keyA, false, l.list)
		}()
		synctest.Wait()
		go c.get(t.Context(), keyA, true, l.list)
		synctest.Wait()
		if n := l.calls.Load(); n != 2 {
			t.Fatalf("walks = %d, want 2", n)
		}
		time.Sleep(time.Minute)
		go c.get(t.Context(), keyA, true, l.list)
		synctest.Wait()
		if n := l.calls.Load(); n != 3 {
			t.Fatalf("walks = %d, want 3", n)
		}
		close(l.gate)
		<-done
		synctest.Wait()
		if plain[0].ID != "c2" {
			t.Errorf("the plain get = %v, want its own walk's (2)", plain)
		}
		l.gate = nil
		if cs, _, _ := c.get(t.Context(), keyA, false, l.list); cs[0].ID != "c3" || l.calls.Load() != 3 {
			t.Errorf("get after both walks = %v after %d walks, want walk 3's list, cached", cs, l.calls.Load())
		}
	})
}

// TestCompanyCacheErrorsAndCancel checks that a failed walk is not
// cached, that a caller that gives up gets its context's error while the
// walk goes on for the others, and that invalidate drops a list and keeps
// a walk in flight from storing one.
func TestCompanyCacheErrorsAndCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCompanyCache(time.Minute, 10, time.Now)
		boom := errors.New("pax8 is down")
		l := &lister{err: boom}
		if _, _, err := c.get(t.Context(), keyA, false, l.list); !errors.Is(err, boom) {
			t.Fatalf("get = %v, want %v", err, boom)
		}
		l.err = nil
		if cs, _, err := c.get(t.Context(), keyA, false, l.list); err != nil || cs[0].ID != "c2" {
			t.Fatalf("get after a failed walk = %v, %v; want a new walk", cs, err)
		}

		c.invalidate(keyA)
		l.gate = make(chan struct{})
		impatient, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, _, err := c.get(impatient, keyA, false, l.list)
			errc <- err
		}()
		var patient []Company
		done := make(chan struct{})
		go func() {
			defer close(done)
			patient, _, _ = c.get(t.Context(), keyA, false, l.list)
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller got %v, want context.Canceled", err)
		}
		close(l.gate)
		<-done
		if l.calls.Load() != 3 || patient[0].ID != "c3" {
			t.Errorf("the patient caller got %v after %d walks; want walk 3", patient, l.calls.Load())
		}

		// Invalidated while walking: the walk answers but is not kept.
		l.gate = make(chan struct{})
		c.invalidate(keyA)
		done = make(chan struct{})
		go func() {
			defer close(done)
			c.get(t.Context(), keyA, false, l.list)
		}()
		synctest.Wait()
		c.invalidate(keyA)
		close(l.gate)
		<-done
		l.gate = nil
		if cs, _, _ := c.get(t.Context(), keyA, false, l.list); cs[0].ID != "c5" {
			t.Errorf("get after an invalidated walk = %v, want a new walk (5)", cs)
		}
	})
}

// TestCompanyCacheBounded checks that the cache keeps at most its size of
// connections, dropping expired lists first and then the oldest.
func TestCompanyCacheBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCompanyCache(time.Minute, 3, time.Now)
		l := &lister{}
		key := func(i int) cacheKey { return cacheKey{tenantID: "ten", connID: fmt.Sprint("conn_", i)} }
		for i := range 10 {
			c.get(t.Context(), key(i), false, l.list)
			time.Sleep(time.Second)
			if n := c.count(); n > 3 {
				t.Fatalf("after %d connections the cache holds %d, want at most 3", i+1, n)
			}
		}
		before := l.calls.Load()
		for _, i := range []int{7, 8, 9} {
			c.get(t.Context(), key(i), false, l.list)
		}
		if n := l.calls.Load() - before; n != 0 {
			t.Errorf("the 3 newest connections made %d walks, want 0 (cached)", n)
		}
		c.get(t.Context(), key(0), false, l.list)
		if n := l.calls.Load() - before; n != 1 {
			t.Errorf("an evicted connection made %d walks, want 1", n)
		}
		c.get(t.Context(), key(7), false, l.list)
		if n := l.calls.Load() - before; n != 2 {
			t.Errorf("after another came in, the oldest made %d walks in all, want 2 (evicted)", n)
		}
	})
}

// TestCompanyCacheHolds checks the test Set uses to find a list behind.
func TestCompanyCacheHolds(t *testing.T) {
	c := newCompanyCache(time.Minute, 3, time.Now)
	l := &lister{}
	if !c.holds(keyA, Company{"c1", "Walk 1"}) {
		t.Error("holds with nothing cached = false, want true")
	}
	c.get(t.Context(), keyA, false, l.list)
	for _, tc := range []struct {
		co   Company
		want bool
	}{
		{Company{"c1", "Walk 1"}, true},
		{Company{"c1", "Walk 1, renamed"}, false},
		{Company{"c9", "New"}, false},
	} {
		if got := c.holds(keyA, tc.co); got != tc.want {
			t.Errorf("holds(%v) = %v, want %v", tc.co, got, tc.want)
		}
	}
}

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

func newIdemKey(tenant, key, owner string, now time.Time) store.IdempotencyKey {
	return store.IdempotencyKey{TenantID: tenant, Key: key, RequestHash: []byte("hash-" + key), Owner: owner,
		LeaseExpiresAt: now.Add(time.Minute), CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
}

func testIdempotency(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(0)
	k := newIdemKey("t1", "k1", "p1", now)
	got, started, err := s.BeginIdempotency(ctx, k, now)
	if err != nil || !started {
		t.Fatalf("BeginIdempotency(new) = %v, %v; want started", started, err)
	}
	want := k
	want.State = store.IdempotencyInFlight
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("BeginIdempotency(new) (-want +got):\n%s", diff)
	}

	// A second caller sees the in-flight key and does not start.
	got, started, err = s.BeginIdempotency(ctx, newIdemKey("t1", "k1", "p2", now), now.Add(time.Second))
	if err != nil || started || got.Owner != "p1" || got.State != store.IdempotencyInFlight {
		t.Errorf("BeginIdempotency(dup) = %+v, %v, %v; want p1's in-flight key, not started", got, started, err)
	}
	// Another tenant's same key is its own.
	if _, started, err := s.BeginIdempotency(ctx, newIdemKey("t2", "k1", "q1", now), now); err != nil || !started {
		t.Errorf("BeginIdempotency(t2, same key) = %v, %v; want started", started, err)
	}

	if err := s.MarkIdempotencySent(ctx, "t1", "k1", "p2", now); !errors.Is(err, store.ErrConflict) {
		t.Errorf("MarkIdempotencySent(not owner) = %v, want ErrConflict", err)
	}
	if err := s.MarkIdempotencySent(ctx, "t1", "nope", "p1", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkIdempotencySent(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.MarkIdempotencySent(ctx, "t1", "k1", "p1", now.Add(time.Second)); err != nil {
		t.Fatalf("MarkIdempotencySent = %v", err)
	}
	if err := s.MarkIdempotencySent(ctx, "t1", "k1", "p1", now.Add(2*time.Second)); err != nil {
		t.Fatalf("MarkIdempotencySent(again) = %v", err)
	}

	// A renewed lease keeps duplicates out past the first lease.
	if err := s.RenewIdempotency(ctx, "t1", "k1", "p2", now.Add(time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("RenewIdempotency(not owner) = %v, want ErrConflict", err)
	}
	if err := s.RenewIdempotency(ctx, "t1", "k1", "p1", now.Add(90*time.Second)); err != nil {
		t.Fatalf("RenewIdempotency = %v", err)
	}
	if _, started, err := s.BeginIdempotency(ctx, newIdemKey("t1", "k1", "p2", now), now.Add(80*time.Second)); err != nil || started {
		t.Errorf("BeginIdempotency(renewed lease) = %v, %v; want not started", started, err)
	}
	// The lease lapses: a successor takes over and learns it was sent.
	later := now.Add(2 * time.Minute)
	got, started, err = s.BeginIdempotency(ctx, newIdemKey("t1", "k1", "p2", later), later)
	if err != nil || !started || got.Owner != "p2" || !got.SentAt.Equal(now.Add(time.Second)) || string(got.RequestHash) != "hash-k1" {
		t.Fatalf("BeginIdempotency(lapsed) = %+v, %v, %v; want p2 started, SentAt kept", got, started, err)
	}
	if err := s.CompleteIdempotency(ctx, "t1", "k1", "p1", 200, []byte(`{}`), ""); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CompleteIdempotency(old owner) = %v, want ErrConflict", err)
	}
	if err := s.CompleteIdempotency(ctx, "t1", "k1", "p2", 200, []byte(`{"id":"o1"}`), "o1"); err != nil {
		t.Fatalf("CompleteIdempotency = %v", err)
	}
	if err := s.CompleteIdempotency(ctx, "t1", "k1", "p2", 500, nil, ""); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CompleteIdempotency(done) = %v, want ErrConflict", err)
	}
	got, started, err = s.BeginIdempotency(ctx, newIdemKey("t1", "k1", "p3", later), later)
	if err != nil || started || got.State != store.IdempotencyDone || got.Status != 200 || string(got.Body) != `{"id":"o1"}` || got.ResourceID != "o1" {
		t.Errorf("BeginIdempotency(done) = %+v, %v, %v; want the recorded answer", got, started, err)
	}

	// A resource id belongs to one key of a tenant; other tenants may
	// record the same.
	if _, _, err := s.BeginIdempotency(ctx, newIdemKey("t1", "k2", "p1", later), later); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteIdempotency(ctx, "t1", "k2", "p1", 200, []byte(`{}`), "o1"); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("CompleteIdempotency(o1 again) = %v, want ErrAlreadyExists", err)
	}
	if err := s.CompleteIdempotency(ctx, "t2", "k1", "q1", 200, []byte(`{}`), "o1"); err != nil {
		t.Errorf("CompleteIdempotency(t2, o1) = %v", err)
	}
	// Release deletes only the owner's in-flight key.
	if err := s.ReleaseIdempotency(ctx, "t1", "k2", "p9", false); err != nil {
		t.Fatal(err)
	}
	if _, started, _ := s.BeginIdempotency(ctx, newIdemKey("t1", "k2", "p2", later), later); started {
		t.Errorf("BeginIdempotency after another owner's release started; want the key still held")
	}
	// Keep: the key stays in flight with its SentAt, free to take over.
	if err := s.MarkIdempotencySent(ctx, "t1", "k2", "p1", later); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseIdempotency(ctx, "t1", "k2", "p1", true); err != nil {
		t.Fatal(err)
	}
	got, started, err = s.BeginIdempotency(ctx, newIdemKey("t1", "k2", "p2", later), later)
	if err != nil || !started || got.Owner != "p2" || !got.SentAt.Equal(later) {
		t.Errorf("BeginIdempotency after keep release = %+v, %v, %v; want p2 started with SentAt", got, started, err)
	}
	if err := s.ReleaseIdempotency(ctx, "t1", "k2", "p2", false); err != nil {
		t.Fatal(err)
	}
	got, started, err = s.BeginIdempotency(ctx, newIdemKey("t1", "k2", "p3", later), later)
	if err != nil || !started || !got.SentAt.IsZero() {
		t.Errorf("BeginIdempotency after release = %+v, %v, %v; want a fresh key", got, started, err)
	}

	// Expiry: an expired done key is gone on lookup, and purged.
	expired := now.Add(25 * time.Hour)
	if got, started, err := s.BeginIdempotency(ctx, newIdemKey("t1", "k1", "p4", expired), expired); err != nil || !started || got.Status != 0 {
		t.Errorf("BeginIdempotency(expired) = %+v, %v, %v; want a fresh key", got, started, err)
	}
	n, err := s.PurgeIdempotency(ctx, expired)
	// t2/k1 (done) and t1/k2 (lease lapsed) expired; t1/k1 is fresh.
	if err != nil || n != 2 {
		t.Errorf("PurgeIdempotency = %d, %v; want 2", n, err)
	}
	if _, started, _ := s.BeginIdempotency(ctx, newIdemKey("t1", "k1", "p5", expired), expired); started {
		t.Errorf("PurgeIdempotency removed a live key")
	}
	if err := s.DeleteTenant(ctx, "t1"); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
}

// testIdempotencyConcurrent: of many concurrent callers of one key, exactly
// one starts.
func testIdempotencyConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(0)
	const callers = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		starts  int
		owners  = map[string]bool{}
		startCh = make(chan struct{})
	)
	for i := range callers {
		wg.Go(func() {
			<-startCh
			got, started, err := s.BeginIdempotency(ctx, newIdemKey("t1", "race", fmt.Sprintf("p%d", i), now), now)
			if err != nil {
				t.Errorf("BeginIdempotency(p%d) = %v", i, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			owners[got.Owner] = true
			if started {
				starts++
			}
		})
	}
	close(startCh)
	wg.Wait()
	if starts != 1 || len(owners) != 1 {
		t.Errorf("%d callers started, owners %v; want exactly one", starts, owners)
	}
}

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

// newDelivery returns a pending delivery to endpoint, created at base+d
// and due then.
func newDelivery(id, endpoint string, d time.Duration) store.Delivery {
	return store.Delivery{ID: id, Endpoint: endpoint, EventID: "evt_" + id, EventType: "connected",
		Payload:   []byte(`{"id":"evt_` + id + `","type":"connected","detail":"ünïcode \"quoted\""}`),
		CreatedAt: at(d), NextAttemptAt: at(d)}
}

func mustEnqueue(t *testing.T, s store.Store, ds ...store.Delivery) {
	t.Helper()
	if _, err := s.EnqueueDeliveries(t.Context(), ds); err != nil {
		t.Fatalf("EnqueueDeliveries = %v", err)
	}
}

func mustGetDelivery(t *testing.T, s store.Store, id string) store.Delivery {
	t.Helper()
	d, err := s.GetDelivery(t.Context(), id)
	if err != nil {
		t.Fatalf("GetDelivery(%s) = %v", id, err)
	}
	return d
}

func ids(ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// testDeliveries covers the webhook outbox: an enqueued delivery
// round-trips byte for byte with UTC times, a duplicate fails the whole
// batch, claims honour the due time, the endpoints, the limit and live
// leases, count attempts, and are settled only by their owner.
func testDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	d1 := newDelivery("d1", "ep-a", 0)
	d1.CreatedAt = base // not normalised: the store does it
	d1.NextAttemptAt = base
	d2 := newDelivery("d2", "ep-a", time.Second)
	d3 := newDelivery("d3", "ep-b", 0)
	later := newDelivery("d4", "ep-a", 0)
	later.NextAttemptAt = at(time.Hour)
	mustEnqueue(t, s, d1, d2, d3, later)

	got := mustGetDelivery(t, s, "d1")
	want := store.Delivery{ID: "d1", Endpoint: "ep-a", EventID: "evt_d1", EventType: "connected",
		Payload: d1.Payload, State: store.DeliveryPending, NextAttemptAt: at(0), CreatedAt: at(0)}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("GetDelivery(d1) (-want +got):\n%s", diff)
	}
	if _, err := s.GetDelivery(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDelivery(nope) = %v, want ErrNotFound", err)
	}
	// A zero NextAttemptAt is CreatedAt.
	d5 := newDelivery("d5", "ep-c", 2*time.Second)
	d5.NextAttemptAt = time.Time{}
	mustEnqueue(t, s, d5)
	if got := mustGetDelivery(t, s, "d5"); !got.NextAttemptAt.Equal(at(2 * time.Second)) {
		t.Errorf("zero NextAttemptAt stored as %v, want CreatedAt %v", got.NextAttemptAt, at(2*time.Second))
	}
	// An id already stored is skipped, the rest of the batch is added,
	// and the stored one is left as it was (enqueueing deterministic ids
	// again is harmless).
	dup := newDelivery("d1", "ep-a", 0)
	dup.Payload = []byte(`{"changed":true}`)
	added, err := s.EnqueueDeliveries(ctx, []store.Delivery{newDelivery("d6", "ep-unused", 0), dup})
	if err != nil || added != 1 {
		t.Errorf("EnqueueDeliveries(one new, one stored) = %d, %v; want 1, nil", added, err)
	}
	if got := mustGetDelivery(t, s, "d1"); string(got.Payload) == `{"changed":true}` {
		t.Error("enqueueing a stored id replaced its payload")
	}
	if n, err := s.CountDeliveries(ctx, store.DeliveryPending); err != nil || n != 6 {
		t.Errorf("CountDeliveries(pending) = %d, %v; want 6", n, err)
	}

	now := at(10 * time.Second)
	lease := now.Add(time.Minute)
	claim := func(owner string, endpoints []string, now time.Time, limit int) []store.Delivery {
		t.Helper()
		ds, err := s.ClaimDeliveries(ctx, owner, endpoints, now, now.Add(time.Minute), limit)
		if err != nil {
			t.Fatalf("ClaimDeliveries(%s) = %v", owner, err)
		}
		return ds
	}
	if ds := claim("a", nil, now, 10); len(ds) != 0 {
		t.Errorf("ClaimDeliveries(no endpoints) = %v, want none", ids(ds))
	}
	if ds := claim("a", []string{"ep-a"}, now, 0); len(ds) != 0 {
		t.Errorf("ClaimDeliveries(limit 0) = %v, want none", ids(ds))
	}
	// Due first, only ep-a's, not d4 (due in an hour), at most the limit.
	ds := claim("a", []string{"ep-a", "ep-x"}, now, 1)
	if diff := cmp.Diff([]string{"d1"}, ids(ds)); diff != "" {
		t.Errorf("ClaimDeliveries(limit 1) (-want +got):\n%s", diff)
	}
	want.Attempts, want.LeaseOwner, want.LeaseExpiresAt = 1, "a", lease
	if diff := cmp.Diff([]store.Delivery{want}, ds, cmpOpts); diff != "" {
		t.Errorf("claimed row (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, mustGetDelivery(t, s, "d1"), cmpOpts); diff != "" {
		t.Errorf("claimed row as stored (-want +got):\n%s", diff)
	}
	ds = claim("b", []string{"ep-a"}, now, 10)
	if diff := cmp.Diff([]string{"d2"}, ids(ds)); diff != "" {
		t.Errorf("ClaimDeliveries(b) while a holds d1 (-want +got):\n%s", diff)
	}
	ds = claim("c", []string{"ep-a", "ep-b", "ep-c"}, now, 10)
	if diff := cmp.Diff([]string{"d3", "d5"}, ids(ds)); diff != "" {
		t.Errorf("ClaimDeliveries(c) (-want +got):\n%s", diff)
	}

	// Only the owner settles.
	if err := s.RetryDelivery(ctx, "d1", "b", now, "x"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("RetryDelivery by a non-owner = %v, want ErrConflict", err)
	}
	if err := s.FailDelivery(ctx, "d1", "b", now, "x"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("FailDelivery by a non-owner = %v, want ErrConflict", err)
	}
	if err := s.RetryDelivery(ctx, "nope", "a", now, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RetryDelivery(nope) = %v, want ErrNotFound", err)
	}
	retryAt := now.Add(30 * time.Second)
	if err := s.RetryDelivery(ctx, "d1", "a", retryAt, "answered 503"); err != nil {
		t.Fatalf("RetryDelivery = %v", err)
	}
	got = mustGetDelivery(t, s, "d1")
	if got.State != store.DeliveryPending || got.LeaseOwner != "" || !got.LeaseExpiresAt.IsZero() ||
		!got.NextAttemptAt.Equal(retryAt) || got.LastError != "answered 503" || got.Attempts != 1 {
		t.Errorf("after RetryDelivery = %+v", got)
	}
	if ds := claim("a", []string{"ep-a"}, now.Add(29*time.Second), 10); len(ds) != 0 {
		t.Errorf("ClaimDeliveries before the retry is due = %v, want none", ids(ds))
	}
	ds = claim("a", []string{"ep-a"}, retryAt, 10)
	if len(ds) != 1 || ds[0].ID != "d1" || ds[0].Attempts != 2 {
		t.Errorf("ClaimDeliveries when the retry is due = %+v, want d1 at attempt 2", ds)
	}

	// d2: b's lease lapses; a takes it over and b can no longer settle it.
	ds = claim("a", []string{"ep-a"}, lease, 10)
	if len(ds) != 0 {
		t.Errorf("ClaimDeliveries at the lease's last instant = %v, want none", ids(ds))
	}
	ds = claim("a", []string{"ep-a"}, lease.Add(time.Microsecond), 10)
	if diff := cmp.Diff([]string{"d2"}, ids(ds)); diff != "" {
		t.Errorf("ClaimDeliveries after b's lease lapsed (-want +got):\n%s", diff)
	} else if ds[0].Attempts != 2 || ds[0].LeaseOwner != "a" {
		t.Errorf("taken-over d2 = attempts %d owner %q, want 2, a", ds[0].Attempts, ds[0].LeaseOwner)
	}
	if err := s.RetryDelivery(ctx, "d2", "b", now, "late"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("RetryDelivery by the lapsed owner = %v, want ErrConflict", err)
	}

	// Finishing.
	done := now.Add(time.Minute)
	if err := s.MarkDelivered(ctx, "d1", done); err != nil {
		t.Fatalf("MarkDelivered = %v", err)
	}
	got = mustGetDelivery(t, s, "d1")
	if got.State != store.DeliveryDelivered || !got.FinishedAt.Equal(done) || got.LeaseOwner != "" || !got.LeaseExpiresAt.IsZero() {
		t.Errorf("after MarkDelivered = %+v", got)
	}
	if err := s.MarkDelivered(ctx, "d1", done.Add(time.Hour)); err != nil {
		t.Errorf("MarkDelivered again = %v", err)
	}
	if got := mustGetDelivery(t, s, "d1"); !got.FinishedAt.Equal(done) {
		t.Errorf("MarkDelivered again moved FinishedAt to %v", got.FinishedAt)
	}
	if err := s.RetryDelivery(ctx, "d1", "a", now, "x"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("RetryDelivery of a delivered row = %v, want ErrConflict", err)
	}
	if err := s.MarkDelivered(ctx, "nope", done); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkDelivered(nope) = %v, want ErrNotFound", err)
	}
	// d3 is c's: it fails.
	if err := s.FailDelivery(ctx, "d3", "c", done, "answered 410"); err != nil {
		t.Fatalf("FailDelivery = %v", err)
	}
	got = mustGetDelivery(t, s, "d3")
	if got.State != store.DeliveryFailed || !got.FinishedAt.Equal(done) || got.LastError != "answered 410" || got.LeaseOwner != "" {
		t.Errorf("after FailDelivery = %+v", got)
	}
	// Finished rows never come back; the leases on d2 (a's) and d5 (c's)
	// have lapsed by then and d4 is due.
	ds = claim("z", []string{"ep-a", "ep-b", "ep-c"}, done.Add(time.Hour), 10)
	if diff := cmp.Diff([]string{"d2", "d5", "d4"}, ids(ds)); diff != "" {
		t.Errorf("ClaimDeliveries an hour later (-want +got):\n%s", diff)
	}
	for state, want := range map[store.DeliveryState]int{store.DeliveryDelivered: 1, store.DeliveryFailed: 1} {
		if n, err := s.CountDeliveries(ctx, state); err != nil || n != want {
			t.Errorf("CountDeliveries(%s) = %d, %v; want %d", state, n, err, want)
		}
	}
}

// testPruneDeliveries: finished rows older than the cutoff go, newer ones
// and pending ones stay, except pending rows older than the cutoff that
// no live lease holds. Each row has its own endpoint, so a claim names it.
func testPruneDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	old, recent := at(0), at(10*24*time.Hour)
	created := map[string]time.Time{
		"old-delivered": old, "old-failed": old, "old-pending": old, "old-claimed": old,
		"new-delivered": recent, "new-failed": recent, "new-pending": recent,
	}
	for id, c := range created {
		d := newDelivery(id, id, 0)
		d.CreatedAt, d.NextAttemptAt = c, c
		mustEnqueue(t, s, d)
	}
	claimOne := func(id, owner string, now, until time.Time) {
		t.Helper()
		ds, err := s.ClaimDeliveries(ctx, owner, []string{id}, now, until, 1)
		if err != nil || len(ds) != 1 {
			t.Fatalf("ClaimDeliveries(%s) = %v, %v; want it", id, ids(ds), err)
		}
	}
	for _, id := range []string{"old-delivered", "old-failed", "new-delivered", "new-failed"} {
		finished := created[id].Add(time.Hour)
		claimOne(id, "o", finished, finished.Add(time.Minute))
		var err error
		if id[len(id)-6:] == "failed" {
			err = s.FailDelivery(ctx, id, "o", finished, "answered 410")
		} else {
			err = s.MarkDelivered(ctx, id, finished)
		}
		if err != nil {
			t.Fatalf("finish %s = %v", id, err)
		}
	}
	cutoff := at(7 * 24 * time.Hour)
	// old-claimed is being posted now, under a live lease.
	claimOne("old-claimed", "live", cutoff.Add(-time.Minute), at(20*24*time.Hour))
	n, err := s.PruneDeliveries(ctx, cutoff)
	if err != nil {
		t.Fatalf("PruneDeliveries = %v", err)
	}
	if n != 3 {
		t.Errorf("PruneDeliveries = %d, want 3", n)
	}
	for _, id := range []string{"old-delivered", "old-failed", "old-pending"} {
		if _, err := s.GetDelivery(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after pruning, GetDelivery(%s) = %v, want ErrNotFound", id, err)
		}
	}
	for _, id := range []string{"new-delivered", "new-failed", "old-claimed", "new-pending"} {
		mustGetDelivery(t, s, id)
	}
	if n, err := s.PruneDeliveries(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("PruneDeliveries again = %d, %v; want 0", n, err)
	}
}

// testClaimDeliveriesConcurrent: ten owners claim 200 due deliveries at
// once, a few at a time, until none is left; each is claimed exactly once.
func testClaimDeliveriesConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const total, owners = 200, 10
	var ds []store.Delivery
	for i := range total {
		ds = append(ds, newDelivery(fmt.Sprintf("d%03d", i), "ep", time.Duration(i)*time.Millisecond))
	}
	mustEnqueue(t, s, ds...)
	now := at(time.Hour)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claimed = map[string][]string{}
	)
	start := make(chan struct{})
	for i := range owners {
		owner := fmt.Sprintf("owner-%d", i)
		wg.Go(func() {
			<-start
			for {
				got, err := s.ClaimDeliveries(ctx, owner, []string{"ep"}, now, now.Add(time.Minute), 7)
				if err != nil {
					t.Errorf("ClaimDeliveries(%s) = %v", owner, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					claimed[d.ID] = append(claimed[d.ID], owner)
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(claimed) != total {
		t.Errorf("%d deliveries claimed, want %d", len(claimed), total)
	}
	for id, by := range claimed {
		if len(by) != 1 {
			t.Errorf("delivery %s claimed by %v, want exactly one owner", id, by)
		}
		if d := mustGetDelivery(t, s, id); d.Attempts != 1 || d.LeaseOwner != by[0] {
			t.Errorf("delivery %s = attempts %d owner %q, want 1, %s", id, d.Attempts, d.LeaseOwner, by[0])
		}
	}
}

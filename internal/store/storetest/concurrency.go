package storetest

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/grantd/grantd/internal/store"
)

// testConcurrentUpdate runs 100 workers that each increment one connection
// exactly once, retrying on ErrConflict (the pattern of dex's
// RefreshTokenParallelUpdate; RT-01, RT-02). Even workers write a snapshot
// read before the transaction, as the broker does after a network refresh,
// so they conflict and retry; odd workers modify the row they are given.
// No increment may be lost: FailureCount ends at 100, Version at 101.
func testConcurrentUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newConnection("c1", "t1", 0))
	const workers = 100
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
	)
	start := make(chan struct{})
	for i := range workers {
		wg.Go(func() {
			<-start
			for {
				var update func(store.Connection) (store.Connection, error)
				if i%2 == 0 {
					snap, err := s.GetConnection(ctx, "c1")
					if err != nil {
						t.Errorf("GetConnection = %v", err)
						return
					}
					update = func(store.Connection) (store.Connection, error) {
						snap.FailureCount++
						snap.LastError += "e"
						return snap, nil
					}
				} else {
					update = func(c store.Connection) (store.Connection, error) {
						c.FailureCount++
						c.LastError += "o"
						return c, nil
					}
				}
				_, err := s.UpdateConnection(ctx, "c1", update)
				if errors.Is(err, store.ErrConflict) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if err != nil {
					t.Errorf("UpdateConnection = %v", err)
				}
				return
			}
		})
	}
	close(start)
	wg.Wait()
	got := mustGet(t, s, "c1")
	if got.FailureCount != workers || got.Version != workers+1 {
		t.Errorf("after %d concurrent increments: FailureCount %d, Version %d; want %d, %d",
			workers, got.FailureCount, got.Version, workers, workers+1)
	}
	if e, o := strings.Count(got.LastError, "e"), strings.Count(got.LastError, "o"); e != workers/2 || o != workers/2 {
		t.Errorf("LastError has %d snapshot and %d in-place increments, want %d each", e, o, workers/2)
	}
	t.Logf("%d conflicts retried", conflicts)
}

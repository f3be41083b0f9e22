package refresh_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/store"
)

// recorder is a working in-memory Broker: a fixed set of due connections,
// and a log of what the loop asked for.
type recorder struct {
	mu        sync.Mutex
	due       []store.Connection
	refreshed []string
	purges    int
	notices   [][]time.Duration
	ahead     time.Duration
	idle      time.Duration
}

func (r *recorder) Due(_ context.Context, ahead, idle time.Duration, limit int) ([]store.Connection, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ahead, r.idle = ahead, idle
	return r.due[:min(limit, len(r.due))], nil
}

func (r *recorder) Refresh(_ context.Context, id string) (broker.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshed = append(r.refreshed, id)
	return broker.Token{ConnectionID: id}, nil
}

func (r *recorder) NoticeReauth(_ context.Context, thresholds []time.Duration, _ int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, thresholds)
	return 0, nil
}

func (r *recorder) Purge(context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.purges++
	return 0, nil
}

func TestLoopSweepsEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{due: []store.Connection{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
		l := &refresh.Loop{Broker: r, Interval: time.Minute, Batch: 2}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- l.Run(ctx) }()
		time.Sleep(150 * time.Second) // sweeps at 0, 60 s and 120 s
		synctest.Wait()
		cancel()
		<-done
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.purges != 3 {
			t.Errorf("sweeps = %d, want 3", r.purges)
		}
		if got := len(r.refreshed); got != 6 {
			t.Errorf("refreshes = %d, want 6 (batch 2 × 3 sweeps)", got)
		}
		if r.ahead != 10*time.Minute || r.idle != 120*time.Hour {
			t.Errorf("defaults ahead %v idle %v, want 10m 120h", r.ahead, r.idle)
		}
	})
}

// TestSweepAsksForReauthNotices: a sweep asks the broker for the notices
// configured, and for none when none are.
func TestSweepAsksForReauthNotices(t *testing.T) {
	r := &recorder{}
	(&refresh.Loop{Broker: r}).Sweep(t.Context())
	want := []time.Duration{720 * time.Hour, 168 * time.Hour}
	(&refresh.Loop{Broker: r, ReauthNotices: want}).Sweep(t.Context())
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.notices) != 1 || len(r.notices[0]) != 2 || r.notices[0][0] != want[0] || r.notices[0][1] != want[1] {
		t.Errorf("NoticeReauth calls = %v, want one with %v", r.notices, want)
	}
}

package pax8api_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/sandbox/pax8api"
	"github.com/grantd/grantd/pax8"
)

// walkSubs is the size of the portfolio the walk benchmarks list.
const walkSubs = 10_000

// BenchmarkWalkSubscriptions lists all of 10,000 subscriptions from the
// sandbox API over loopback HTTP (auth included): the client's all-pages
// walk at size 200 with 4 pages in flight, the same walk one page at a
// time, and a naive sequential walk at Pax8's default size of 10. It runs
// each with no added latency (the cost of the work itself) and with 5ms
// added before each API request (a stand-in for the round trip to the
// real API, where the request count dominates). It reports the API
// requests of one walk; ns/op is its wall time.
//
//	go test -run '^$' -bench WalkSubscriptions -count 5 ./internal/sandbox/pax8api/
func BenchmarkWalkSubscriptions(b *testing.B) {
	s := startSandbox(b, pax8api.Size{Subscriptions: walkSubs})
	for _, latency := range []time.Duration{0, 5 * time.Millisecond} {
		for _, tc := range []struct {
			name       string
			size, conc int
		}{
			{"size=200/concurrency=4", 200, 4},
			{"size=200/sequential", 200, 1},
			{"size=10/sequential", 10, 1},
		} {
			walkCase(b, s, latency, tc.name, tc.size, tc.conc)
		}
	}
}

func walkCase(b *testing.B, s *sandboxAPI, latency time.Duration, name string, size, conc int) {
	b.Run(fmt.Sprintf("latency=%s/%s", latency, name), func(b *testing.B) {
		s.latency.Store(int64(latency))
		defer s.latency.Store(0)
		c := s.client(conc)
		walk(b, c, size) // generate the dataset and warm connections outside the timing
		s.requests.Store(0)
		b.ResetTimer()
		for b.Loop() {
			if n := walk(b, c, size); n != walkSubs {
				b.Fatalf("walked %d subscriptions, want %d", n, walkSubs)
			}
		}
		b.ReportMetric(float64(s.requests.Load())/float64(b.N), "requests/op")
	})
}

func walk(b *testing.B, c *pax8.Client, size int) int {
	n := 0
	for _, err := range c.Subscriptions.All(b.Context(), &pax8.SubscriptionListOptions{ListOptions: pax8.ListOptions{Size: size}}) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	return n
}

// BenchmarkWalkMemory compares the heap during a walk of 10,000
// subscriptions through the iterator (size 200, 4 pages in flight) with
// the heap that the same 10,000 decoded subscriptions take when held in a
// slice, all above a post-GC baseline. For the walk it reports live-heap-B,
// the largest heap still reachable when collected at ten points during the
// walk (what the walk holds), and peak-heap-B, the largest heap object
// bytes sampled every 200µs from runtime/metrics without forcing a
// collection (what it holds plus garbage not yet collected). held-heap-B is
// the slice's reachable heap after a collection. The sandbox runs in the
// same process, so the walk's figures include the server's side of the
// pages in flight.
//
//	go test -run '^$' -bench WalkMemory -count 3 ./internal/sandbox/pax8api/
func BenchmarkWalkMemory(b *testing.B) {
	s := startSandbox(b, pax8api.Size{Subscriptions: walkSubs})
	c := s.client(4)
	walk(b, c, 200) // generate the dataset first
	b.Run("iterator", func(b *testing.B) {
		var peak, live uint64
		for b.Loop() {
			base := settledHeap()
			h := sampleHeap()
			n := 0
			for _, err := range c.Subscriptions.All(b.Context(), &pax8.SubscriptionListOptions{ListOptions: pax8.ListOptions{Size: 200}}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
				// Every 1,000 items, collect and read what is still
				// reachable: the pages in flight and the one being read.
				if n%1000 == 500 {
					if l := settledHeap(); l > base {
						live = max(live, l-base)
					}
				}
			}
			if n != walkSubs {
				b.Fatalf("walked %d, want %d", n, walkSubs)
			}
			if p := h.stop(); p > base {
				peak = max(peak, p-base)
			}
		}
		b.ReportMetric(float64(live), "live-heap-B")
		b.ReportMetric(float64(peak), "peak-heap-B")
	})
	b.Run("slice", func(b *testing.B) {
		var held uint64
		for b.Loop() {
			base := settledHeap()
			all := make([]pax8.Subscription, 0, walkSubs)
			for sub, err := range c.Subscriptions.All(b.Context(), &pax8.SubscriptionListOptions{ListOptions: pax8.ListOptions{Size: 200}}) {
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, sub)
			}
			after := settledHeap()
			runtime.KeepAlive(all)
			if after > base {
				held = max(held, after-base)
			}
		}
		b.ReportMetric(float64(held), "held-heap-B")
	})
}

const heapMetric = "/memory/classes/heap/objects:bytes"

// settledHeap collects garbage twice (the second empties the sync.Pool
// victim caches) and returns the live heap.
func settledHeap() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapSampler records the peak heap object bytes while it runs.
type heapSampler struct {
	done, stopped chan struct{}
	peak          atomic.Uint64
}

func sampleHeap() *heapSampler {
	h := &heapSampler{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(h.stopped)
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// stop ends sampling (once) and returns the peak.
func (h *heapSampler) stop() uint64 {
	select {
	case <-h.done:
	default:
		close(h.done)
	}
	<-h.stopped
	return h.peak.Load()
}

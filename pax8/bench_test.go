package pax8

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchServer serves benchItems subscriptions from pre-encoded pages, so
// that the server's own work is constant and small.
func benchServer(b *testing.B, items int, latency time.Duration, requests *atomic.Int64) *httptest.Server {
	pages := map[int][][]byte{}
	for _, size := range []int{10, 200} {
		total := (items + size - 1) / size
		for p := range total {
			var content []Subscription
			for i := p * size; i < min((p+1)*size, items); i++ {
				content = append(content, Subscription{ID: fmt.Sprintf("sub-%05d", i), CompanyID: "c1", ProductID: "p1",
					ProductName: "Microsoft 365 Business Standard", Quantity: Number(i % 50), Price: NewAmount(125, -1), CurrencyCode: "USD",
					Status: SubscriptionActive, BillingTerm: BillingMonthly, StartDate: Time{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}})
			}
			body, err := json.Marshal(Page[Subscription]{Content: content, Page: PageInfo{Size: size, TotalElements: items, TotalPages: total, Number: p}})
			if err != nil {
				b.Fatal(err)
			}
			pages[size] = append(pages[size], body)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if latency > 0 {
			time.Sleep(latency)
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		ps := pages[size]
		if page >= len(ps) {
			http.Error(w, `{"message":"no such page"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(ps[page])
	}))
	b.Cleanup(srv.Close)
	return srv
}

// heapSampler records the peak of live heap object bytes while running.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(h.done)
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// BenchmarkAllSubscriptions walks 10,000 subscriptions served over loopback,
// at size 200 with 4 concurrent fetches against size 10 one page at a time
// (and size 200 sequential as the middle ground), with and without a
// simulated 2ms server latency. It reports requests and items per walk and
// the peak live heap above the post-GC baseline.
func BenchmarkAllSubscriptions(b *testing.B) {
	const items = 10000
	cases := []struct {
		name       string
		size, conc int
	}{
		{"size=200/concurrency=4", 200, 4},
		{"size=200/sequential", 200, 1},
		{"size=10/sequential", 10, 1},
	}
	for _, latency := range []time.Duration{0, 2 * time.Millisecond} {
		for _, tc := range cases {
			b.Run(fmt.Sprintf("latency=%s/%s", latency, tc.name), func(b *testing.B) {
				var requests atomic.Int64
				srv := benchServer(b, items, latency, &requests)
				c := NewClient(srv.Client(), WithBaseURL(srv.URL+"/v1"), WithConcurrency(tc.conc))
				runtime.GC()
				base := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
				metrics.Read(base)
				h := sampleHeap()
				requests.Store(0)
				n := 0
				b.ResetTimer()
				for b.Loop() {
					for s, err := range c.Subscriptions.All(b.Context(), &SubscriptionListOptions{ListOptions: ListOptions{Size: tc.size}}) {
						if err != nil {
							b.Fatal(err)
						}
						_ = s
						n++
					}
				}
				b.StopTimer()
				peak := h.Stop()
				if n != items*b.N {
					b.Fatalf("walked %d items, want %d", n, items*b.N)
				}
				b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
				b.ReportMetric(float64(n)/float64(b.N), "items/op")
				if bv := base[0].Value.Uint64(); peak > bv {
					b.ReportMetric(float64(peak-bv), "peak-heap-B")
				}
			})
		}
	}
}

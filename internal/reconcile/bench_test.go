package reconcile_test

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/reconcile"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/pax8api"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/pax8"
)

// counter counts the requests a client sends.
type counter struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// peakHeap samples the live heap every millisecond until stop is called,
// and returns the largest sample above the heap at the start.
func peakHeap() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// naive reconciles the way a first script would: all twelve months of
// partner invoice items held in memory, then, company by company, its
// subscriptions listed and compared with the items. It returns the
// number of flagged company × product pairs.
func naive(ctx context.Context, c *pax8.Client, period reconcile.Period, in reconcile.Input) (int, error) {
	var items []pax8.InvoiceItem
	for inv, err := range c.Invoices.All(ctx, nil) {
		if err != nil {
			return 0, err
		}
		if inv.CompanyID != "" {
			continue
		}
		for it, err := range c.Invoices.AllItems(ctx, inv.ID, nil) {
			if err != nil {
				return 0, err
			}
			items = append(items, it)
		}
	}
	billed := map[[2]string]pax8.Amount{}
	orgCompany := map[string]string{}
	for co, org := range in.Companies {
		orgCompany[org] = co
	}
	for _, b := range in.Billing {
		k := [2]string{orgCompany[b.OrgID], in.Products[b.Product]}
		billed[k] = billed[k].Add(b.Quantity)
	}
	flagged := 0
	for co, err := range c.Companies.All(ctx, nil) {
		if err != nil {
			return 0, err
		}
		seats := map[string]pax8.Amount{}
		for s, err := range c.Subscriptions.All(ctx, &pax8.SubscriptionListOptions{CompanyID: co.ID}) {
			if err != nil {
				return 0, err
			}
			seats[s.ID] = pax8.AmountFromInt(1).MulQuantity(s.Quantity)
		}
		charged := map[string]pax8.Amount{}
		subs := map[string]pax8.Amount{}
		for _, it := range items {
			if it.CompanyID != co.ID || it.StartPeriod.Year != period.Year || it.StartPeriod.Month != period.Month {
				continue
			}
			charged[it.ProductID] = charged[it.ProductID].Add(pax8.AmountFromInt(1).MulQuantity(it.Quantity))
			subs[it.ProductID] = subs[it.ProductID].Add(seats[it.SubscriptionID])
		}
		for p, q := range charged {
			if !q.Equal(billed[[2]string{co.ID, p}]) || !q.Equal(subs[p]) {
				flagged++
			}
		}
	}
	return flagged, nil
}

// BenchmarkReconcile reconciles a partner with 5,000 companies and 10,000
// subscriptions, and the sandbox's twelve monthly partner invoices, over
// loopback HTTP: the streaming walk ([reconcile.Run]: companies,
// subscriptions and the period's invoices, pages of 200, 4 in flight)
// against a naive walk measured in the same run (every invoice item of the
// year held in memory, then one subscription listing per company). It
// reports the Pax8 requests of one reconciliation and its peak live heap.
//
//	go test -run '^$' -bench Reconcile -benchtime 3x -count 5 ./internal/reconcile/
func BenchmarkReconcile(b *testing.B) {
	s, ep := sandboxtest.Start(b, sandbox.Options{APISize: pax8api.Size{Companies: 5000, Subscriptions: 10_000}})
	s.RegisterClient(sandbox.Pax8, sandbox.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{"http://127.0.0.1/cb"}, Name: "Bench"})
	cred := pax8.Credentials{ClientID: clientID, ClientSecret: clientSecret, TokenURL: ep.APITokenURL}
	cnt := &counter{next: http.DefaultTransport}
	hc := cred.Client(&http.Client{Transport: cnt, Timeout: time.Minute})
	ctx := b.Context()
	setup := pax8.NewClient(hc, pax8.WithBaseURL(ep.APIBaseURL), pax8.WithConcurrency(4))
	period := latestPeriod(b, ctx, setup)
	in := tenantBook(b, ctx, setup, period)

	b.Run("streaming", func(b *testing.B) {
		c := pax8.NewClient(hc, pax8.WithBaseURL(ep.APIBaseURL), pax8.WithConcurrency(4))
		var requests int64
		var peak uint64
		for b.Loop() {
			cnt.n.Store(0)
			stop := peakHeap()
			r, err := reconcile.Run(ctx, c, in)
			peak = max(peak, stop())
			if err != nil {
				b.Fatal(err)
			}
			if n := len(r.Flagged()); n != 0 {
				b.Fatalf("flagged %d lines on a clean dataset", n)
			}
			requests = cnt.n.Load()
		}
		b.ReportMetric(float64(requests), "requests/op")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	})
	b.Run("naive", func(b *testing.B) {
		c := pax8.NewClient(hc, pax8.WithBaseURL(ep.APIBaseURL), pax8.WithConcurrency(1))
		var requests int64
		var peak uint64
		for b.Loop() {
			cnt.n.Store(0)
			stop := peakHeap()
			n, err := naive(ctx, c, period, in)
			peak = max(peak, stop())
			if err != nil {
				b.Fatal(err)
			}
			if n != 0 {
				b.Fatalf("naive flagged %d pairs on a clean dataset", n)
			}
			requests = cnt.n.Load()
		}
		b.ReportMetric(float64(requests), "requests/op")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	})
}

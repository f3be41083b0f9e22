package pax8

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func wantIDs(from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, fmt.Sprintf("sub-%05d", i))
	}
	return ids
}

func TestAllWalksEveryPage(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		size        int
		start       int
		concurrency int
		wantReqs    int64
	}{
		{"default size sequential", 1001, 0, 0, 1, 6},
		{"small pages sequential", 95, 10, 0, 1, 10},
		{"exact multiple", 400, 200, 0, 1, 2},
		{"from a later page", 95, 10, 3, 1, 7},
		{"concurrent", 1001, 0, 0, 4, 6},
		{"concurrent small pages", 95, 10, 0, 3, 10},
		{"concurrency above page count", 30, 10, 0, 8, 3},
		{"empty list", 0, 0, 0, 4, 1},
		{"oversized size is clamped", 450, 1000, 0, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newPagingServer(t, tt.n, 0)
			c := NewClient(srv.Client(), WithBaseURL(srv.URL+"/v1"), WithConcurrency(tt.concurrency))
			var got []string
			for s, err := range c.Subscriptions.All(t.Context(), &SubscriptionListOptions{ListOptions: ListOptions{Size: tt.size, Page: tt.start}}) {
				if err != nil {
					t.Fatalf("All: %v", err)
				}
				got = append(got, s.ID)
			}
			size := tt.size
			if size == 0 || size > MaxPageSize {
				size = MaxPageSize
			}
			if diff := cmp.Diff(wantIDs(tt.start*size, tt.n), got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if got := srv.requests.Load(); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d", got, tt.wantReqs)
			}
		})
	}
}

// TestAllConcurrentBound checks that concurrent walking keeps at most n
// requests in flight and never requests more than n pages beyond the one
// whose items are being yielded.
func TestAllConcurrentBound(t *testing.T) {
	const n, size, items = 3, 10, 300 // 30 pages
	srv := newPagingServer(t, items, 5*time.Millisecond)
	c := NewClient(srv.Client(), WithBaseURL(srv.URL+"/v1"), WithConcurrency(n))
	i := 0
	for s, err := range c.Subscriptions.All(t.Context(), &SubscriptionListOptions{ListOptions: ListOptions{Size: size}}) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		if want := fmt.Sprintf("sub-%05d", i); s.ID != want {
			t.Fatalf("item %d = %s, want %s (order lost)", i, s.ID, want)
		}
		page := i / size
		if got, limit := srv.requests.Load(), int64(page+1+n); got > limit {
			t.Errorf("while reading page %d the server had %d requests, want <= %d", page, got, limit)
		}
		i++
		if i%size == 0 {
			time.Sleep(time.Millisecond) // a slow consumer lets fetchers run ahead
		}
	}
	if i != items {
		t.Errorf("got %d items, want %d", i, items)
	}
	if got := srv.peak.Load(); got > n {
		t.Errorf("peak in-flight requests = %d, want <= %d", got, n)
	}
	if got := srv.peak.Load(); got < 2 {
		t.Errorf("peak in-flight requests = %d, want concurrency (>= 2)", got)
	}
}

// TestAllEarlyBreakStopsFetching checks that leaving the range loop cancels
// outstanding page fetches, waits for them, and sends no further requests.
func TestAllEarlyBreakStopsFetching(t *testing.T) {
	for _, conc := range []int{1, 4} {
		t.Run("concurrency="+strconv.Itoa(conc), func(t *testing.T) {
			srv := newPagingServer(t, 10000, 20*time.Millisecond)
			c := NewClient(srv.Client(), WithBaseURL(srv.URL+"/v1"), WithConcurrency(conc))
			count := 0
			for _, err := range c.Subscriptions.All(t.Context(), &SubscriptionListOptions{ListOptions: ListOptions{Size: 10}}) {
				if err != nil {
					t.Fatalf("All: %v", err)
				}
				count++
				if count == 15 {
					break
				}
			}
			if got := activeFetchers.Load(); got != 0 {
				t.Errorf("after break, %d page fetchers still running, want 0", got)
			}
			after := srv.requests.Load()
			time.Sleep(60 * time.Millisecond)
			if got := srv.requests.Load(); got != after {
				t.Errorf("requests grew from %d to %d after break", after, got)
			}
			if limit := int64(2 + conc); after > limit {
				t.Errorf("requests = %d, want <= %d for 2 pages read", after, limit)
			}
		})
	}
}

func TestAllStopsAtFirstError(t *testing.T) {
	for _, conc := range []int{1, 3} {
		t.Run("concurrency="+strconv.Itoa(conc), func(t *testing.T) {
			srv := newPagingServer(t, 100, 0)
			srv.failPage = 4
			c := NewClient(srv.Client(), WithBaseURL(srv.URL+"/v1"), WithConcurrency(conc))
			var got []string
			var errs []error
			for s, err := range c.Subscriptions.All(t.Context(), &SubscriptionListOptions{ListOptions: ListOptions{Size: 10}}) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				got = append(got, s.ID)
			}
			if diff := cmp.Diff(wantIDs(0, 40), got); diff != "" {
				t.Errorf("ids before the error (-want +got):\n%s", diff)
			}
			if len(errs) != 1 || !errors.Is(errs[0], ErrNotFound) {
				t.Errorf("errors = %v, want one matching ErrNotFound", errs)
			}
			if got := activeFetchers.Load(); got != 0 {
				t.Errorf("%d page fetchers still running, want 0", got)
			}
		})
	}
}

func TestAllContextCancelled(t *testing.T) {
	srv := newPagingServer(t, 1000, 10*time.Millisecond)
	c := NewClient(srv.Client(), WithBaseURL(srv.URL+"/v1"), WithConcurrency(4))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var last error
	n := 0
	for _, err := range c.Subscriptions.All(ctx, &SubscriptionListOptions{ListOptions: ListOptions{Size: 10}}) {
		if err != nil {
			last = err
			break
		}
		n++
		if n == 10 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("error after cancel = %v, want context.Canceled", last)
	}
	if got := activeFetchers.Load(); got != 0 {
		t.Errorf("%d page fetchers still running, want 0", got)
	}
}

func TestAllOtherServices(t *testing.T) {
	// Every All method shares the walker; check each one reaches its path and
	// walks to the end with its filters on every page.
	srv := newEchoServer(t)
	srv.reply(200, `{"content":[{"id":"x"}],"page":{"size":200,"totalElements":2,"totalPages":2,"number":0}}`)
	c := srv.client()
	ctx := t.Context()
	walks := map[string]func() error{
		"/v1/companies":                        func() error { return drain(c.Companies.All(ctx, &CompanyListOptions{Country: "US"})) },
		"/v1/companies/c1/contacts":            func() error { return drain(c.Contacts.All(ctx, "c1", nil)) },
		"/v1/products":                         func() error { return drain(c.Products.All(ctx, &ProductListOptions{VendorName: "Microsoft"})) },
		"/v1/orders":                           func() error { return drain(c.Orders.All(ctx, &OrderListOptions{CompanyID: "c1"})) },
		"/v1/invoices":                         func() error { return drain(c.Invoices.All(ctx, &InvoiceListOptions{CompanyID: "c1"})) },
		"/v1/invoices/i1/items":                func() error { return drain(c.Invoices.AllItems(ctx, "i1", nil)) },
		"/v1/subscriptions/s1/usage-summaries": func() error { return drain(c.UsageSummaries.AllForSubscription(ctx, "s1", nil)) },
		"/v1/usage-summaries/u1/usage-lines":   func() error { return drain(c.UsageSummaries.AllLines(ctx, "u1", nil)) },
	}
	for path, walk := range walks {
		before := len(srv.requests())
		if err := walk(); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		reqs := srv.requests()[before:]
		if len(reqs) != 2 {
			t.Fatalf("%s: %d requests, want 2", path, len(reqs))
		}
		for i, r := range reqs {
			if r.Path != path || r.Query.Get("page") != strconv.Itoa(i) || r.Query.Get("size") != "200" {
				t.Errorf("request %d = %s?%s, want %s page %d size 200", i, r.Path, r.Query.Encode(), path, i)
			}
			if len(r.Query) < 2 {
				t.Errorf("request %d lost its query", i)
			}
		}
		if f := reqs[1].Query; path == "/v1/companies" && f.Get("country") != "US" {
			t.Errorf("%s page 1 lost the country filter: %v", path, f)
		}
	}
}

func drain[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

package pax8api

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestPartnerIsolation covers SEC-43 (caller isolation) on the sandbox side:
// a partner never sees or changes another partner's records.
func TestPartnerIsolationSEC43(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	a := get[paged[company]](s, "/companies?size=1").Content[0]
	aSub := activeSubscription(t, s)

	for _, path := range []string{"/companies/" + a.ID, "/subscriptions/" + aSub.ID, "/companies/" + a.ID + "/contacts"} {
		e := call[pax8Error](s, "partner-b", http.MethodGet, path, nil, http.StatusNotFound)
		if e.Type != "NOT_FOUND" {
			t.Errorf("partner-b GET %s = %+v, want NOT_FOUND", path, e)
		}
	}
	call[pax8Error](s, "partner-b", http.MethodPatch, "/companies/"+a.ID, map[string]any{"name": "Stolen"}, http.StatusNotFound)
	call[pax8Error](s, "partner-b", http.MethodDelete, "/subscriptions/"+aSub.ID, nil, http.StatusNotFound)
	call[pax8Error](s, "partner-b", http.MethodGet, "/subscriptions?companyId="+a.ID, nil, http.StatusForbidden)

	// A write by partner-b leaves partner-a's data alone.
	ca, sa := s.api.Counts("partner-a")
	call[company](s, "partner-b", http.MethodPost, "/companies", validCompany(), http.StatusOK)
	if ca2, sa2 := s.api.Counts("partner-a"); ca2 != ca || sa2 != sa {
		t.Errorf("partner-a counts changed from (%d, %d) to (%d, %d) after partner-b's write", ca, sa, ca2, sa2)
	}
	if cb, _ := s.api.Counts("partner-b"); cb != DefaultCompanies+1 {
		t.Errorf("partner-b has %d companies, want %d", cb, DefaultCompanies+1)
	}

	// The two datasets share no company.
	seen := map[string]bool{}
	for _, c := range allPages[company](s, "/companies") {
		seen[c.ID] = true
	}
	for _, p := range []string{"partner-b", "partner-c"} {
		status, raw := s.do(p, http.MethodGet, "/companies?size=200", nil)
		if status != http.StatusOK {
			t.Fatalf("%s list = %d", p, status)
		}
		for id := range seen {
			if bytes.Contains(raw, []byte(id)) {
				t.Errorf("%s sees partner-a's company %s", p, id)
			}
		}
	}
	// Products are Pax8's catalogue: the same for everyone.
	_, pa := s.do("partner-a", http.MethodGet, "/products?size=200", nil)
	_, pb := s.do("partner-b", http.MethodGet, "/products?size=200", nil)
	if !bytes.Equal(pa, pb) {
		t.Errorf("partners see different product catalogues")
	}
}

func TestDeterminism(t *testing.T) {
	paths := []string{
		"/companies?size=200", "/subscriptions?size=200", "/orders?size=200", "/invoices?size=200",
		"/products?size=200", "/subscriptions?size=200&sort=price,desc",
	}
	snapshot := func(seed int64, partner string) map[string]string {
		s := newTestServer(t, Options{Seed: seed, Size: Size{Subscriptions: 300}})
		out := map[string]string{}
		for _, p := range paths {
			status, raw := s.do(partner, http.MethodGet, p, nil)
			if status != http.StatusOK {
				t.Fatalf("GET %s = %d %s", p, status, raw)
			}
			out[p] = string(raw)
		}
		// Writes draw ids from the same stream, so they are reproducible too.
		c := call[company](s, partner, http.MethodPost, "/companies", validCompany(), http.StatusOK)
		out["created"] = c.ID
		return out
	}
	first, second := snapshot(42, "partner-a"), snapshot(42, "partner-a")
	for k, v := range first {
		if second[k] != v {
			t.Errorf("seed 42 gave different %s on a second run", k)
		}
	}
	other := snapshot(43, "partner-a")
	if other["/companies?size=200"] == first["/companies?size=200"] {
		t.Errorf("seeds 42 and 43 gave the same companies")
	}
}

func TestTenThousandSubscriptions(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1, Size: Size{Subscriptions: 10_000}})
	companies, subs := s.api.Counts("partner-a")
	if companies != DefaultCompanies || subs != 10_000 {
		t.Fatalf("Counts = (%d, %d), want (%d, 10000)", companies, subs, DefaultCompanies)
	}
	got := get[paged[subscription]](s, "/subscriptions?size=200&page=49")
	if want := (pageInfo{Size: 200, TotalElements: 10_000, TotalPages: 50, Number: 49}); got.Page != want || len(got.Content) != 200 {
		t.Errorf("last page = %+v with %d items, want %+v with 200", got.Page, len(got.Content), want)
	}
	perCompany := 0
	for _, c := range allPages[company](s, "/companies") {
		if c.Status == companyInactive {
			continue
		}
		perCompany += get[paged[subscription]](s, "/subscriptions?size=1&companyId="+c.ID).Page.TotalElements
	}
	if perCompany != 10_000 {
		t.Errorf("subscriptions summed over companies = %d, want 10000", perCompany)
	}
}

// TestConcurrentUse runs readers and writers on two partners at once; run
// with -race.
func TestConcurrentUse(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1, Now: func() time.Time { return fixedNow }})
	const workers, rounds = 8, 10
	subs := map[string]string{}
	for _, p := range []string{"partner-0", "partner-1"} {
		subs[p] = call[paged[subscription]](s, p, http.MethodGet, "/subscriptions?status=Active&size=1", nil, http.StatusOK).Content[0].ID
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*5)
	for w := range workers {
		partner := fmt.Sprintf("partner-%d", w%2)
		wg.Go(func() {
			for range rounds {
				if status, raw := s.do(partner, http.MethodPost, "/companies", validCompany()); status != http.StatusOK {
					errs <- fmt.Errorf("create company: %d %s", status, raw)
				}
				if status, raw := s.do(partner, http.MethodGet, "/subscriptions?size=50&sort=quantity,asc", nil); status != http.StatusOK {
					errs <- fmt.Errorf("list subscriptions: %d %s", status, raw)
				}
				if status, raw := s.do(partner, http.MethodGet, "/companies?size=200", nil); status != http.StatusOK {
					errs <- fmt.Errorf("list companies: %d %s", status, raw)
				}
				if status, raw := s.do(partner, http.MethodPut, "/subscriptions/"+subs[partner], map[string]any{"quantity": w + 1}); status != http.StatusOK {
					errs <- fmt.Errorf("update subscription: %d %s", status, raw)
				}
				if status, raw := s.do(partner, http.MethodGet, "/subscriptions/"+subs[partner]+"/history", nil); status != http.StatusOK {
					errs <- fmt.Errorf("history: %d %s", status, raw)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, p := range []string{"partner-0", "partner-1"} {
		if got, _ := s.api.Counts(p); got != DefaultCompanies+workers/2*rounds {
			t.Errorf("%s has %d companies, want %d", p, got, DefaultCompanies+workers/2*rounds)
		}
		hist := call[wrapped[subscription]](s, p, http.MethodGet, "/subscriptions/"+subs[p]+"/history", nil, http.StatusOK).Content
		if len(hist) != workers/2*rounds+1 {
			t.Errorf("%s subscription history has %d entries, want %d", p, len(hist), workers/2*rounds+1)
		}
	}
}

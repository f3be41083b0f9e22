package pax8api

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkListSubscriptions200 lists a 200-item page of a 10,000
// subscription portfolio through the handler.
func BenchmarkListSubscriptions200(b *testing.B) {
	api := New(Options{Seed: 1, Now: func() time.Time { return fixedNow }, Size: Size{Subscriptions: 10_000}})
	req := httptest.NewRequest(http.MethodGet, "/subscriptions?size=200&page=17", nil)
	req = req.WithContext(WithPartner(req.Context(), "partner-a"))
	api.Counts("partner-a") // generate outside the timing
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkListSubscriptions200Filtered adds a status filter and a sort, the
// slowest list path.
func BenchmarkListSubscriptions200Filtered(b *testing.B) {
	api := New(Options{Seed: 1, Now: func() time.Time { return fixedNow }, Size: Size{Subscriptions: 10_000}})
	req := httptest.NewRequest(http.MethodGet, "/subscriptions?size=200&status=Active&sort=price,desc", nil)
	req = req.WithContext(WithPartner(req.Context(), "partner-a"))
	api.Counts("partner-a")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
	}
}

// BenchmarkGenerate10k measures generating one partner's dataset with
// 10,000 subscriptions.
func BenchmarkGenerate10k(b *testing.B) {
	cat := newCatalog(1, DefaultProducts)
	size := Size{Companies: DefaultCompanies, Subscriptions: 10_000, Products: DefaultProducts}
	b.ReportAllocs()
	for b.Loop() {
		generate(1, "partner-a", size, cat, fixedNow)
	}
}

// BenchmarkBaselineJSON is the ratio baseline: a bare handler writing a
// pre-encoded body of the same size as a 200-item page.
func BenchmarkBaselineJSON(b *testing.B) {
	api := New(Options{Seed: 1, Now: func() time.Time { return fixedNow }, Size: Size{Subscriptions: 10_000}})
	req := httptest.NewRequest(http.MethodGet, "/subscriptions?size=200&page=17", nil)
	req = req.WithContext(WithPartner(req.Context(), "partner-a"))
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

package pax8api

import (
	"bytes"
	"testing"
	"time"
)

// TestPriceTiersOpenEnded: the last volume tier and mark-up rates send
// endQuantityRange null ("no end of range"), bounded tiers a number.
func TestPriceTiersOpenEnded(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	open, bounded := 0, 0
	for _, p := range allPages[productView](s, "/products") {
		_, raw := s.do("", "GET", "/products/"+p.ID+"/pricing", nil)
		open += bytes.Count(raw, []byte(`"endQuantityRange":null`))
		for _, pr := range get[wrapped[pricing]](s, "/products/"+p.ID+"/pricing").Content {
			for i, r := range pr.Rates {
				if r.EndQuantityRange == nil {
					if i != len(pr.Rates)-1 {
						t.Errorf("%s %s: open-ended rate %d is not the last", p.Name, pr.BillingTerm, i)
					}
					continue
				}
				bounded++
				if *r.EndQuantityRange < r.StartQuantityRange {
					t.Errorf("%s: rate %d ends at %d before it starts at %d", p.Name, i, *r.EndQuantityRange, r.StartQuantityRange)
				}
			}
		}
	}
	if open == 0 || bounded == 0 {
		t.Errorf("%d open-ended and %d bounded rates, want some of each", open, bounded)
	}
}

// TestDiscrepanciesOption: with Options.Discrepancies every partner's data
// is seeded when generated, one of each category, on the same invoice;
// without it, none.
func TestDiscrepanciesOption(t *testing.T) {
	a := New(Options{Seed: 1, Now: func() time.Time { return fixedNow }, Discrepancies: true})
	got := a.Discrepancies("partner-x")
	cats := map[string]bool{}
	for _, d := range got {
		cats[d.Category] = true
		if d.InvoiceID != got[0].InvoiceID || d.InvoiceItemID == "" || d.Description == "" {
			t.Errorf("discrepancy %+v", d)
		}
	}
	for _, c := range []string{SeatsNotBilled, BilledAfterRemoval, PriceBelowCost, CancelledStillCharged, UnmappedCompany} {
		if !cats[c] {
			t.Errorf("no %s discrepancy in %+v", c, got)
		}
	}
	if again := a.SeedDiscrepancies("partner-x"); len(again) != len(got) {
		t.Errorf("SeedDiscrepancies after the option = %d, want the same %d", len(again), len(got))
	}
	if n := len(New(Options{Seed: 1, Now: func() time.Time { return fixedNow }}).Discrepancies("partner-x")); n != 0 {
		t.Errorf("without the option: %d discrepancies, want 0", n)
	}
}

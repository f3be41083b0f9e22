package pax8api

import (
	"math"
	"net/http"
	"strings"
	"testing"
)

func TestProducts(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	all := allPages[productView](s, "/products")
	if len(all) != DefaultProducts {
		t.Fatalf("%d products, want %d", len(all), DefaultProducts)
	}
	ms := allPages[productView](s, "/products?vendorName=microsoft")
	if len(ms) == 0 {
		t.Fatal("no Microsoft products")
	}
	for _, p := range ms {
		if p.VendorName != "Microsoft" {
			t.Errorf("vendorName=microsoft returned %s from %s", p.Name, p.VendorName)
		}
	}
	for _, p := range allPages[productView](s, "/products?search=essentials") {
		if !strings.Contains(strings.ToLower(p.Name), "essentials") {
			t.Errorf("search=essentials returned %q", p.Name)
		}
	}
	byVendor := get[paged[productView]](s, "/products?size=200&sort=vendor,desc").Content
	if byVendor[0].VendorName < byVendor[len(byVendor)-1].VendorName {
		t.Errorf("sort=vendor,desc starts with %s and ends with %s", byVendor[0].VendorName, byVendor[len(byVendor)-1].VendorName)
	}

	nce := ms[0]
	detail := get[productDetail](s, "/products/"+nce.ID)
	if detail.productView != nce || detail.Description == "" {
		t.Errorf("GET product = %+v, want %+v with a description", detail, nce)
	}
	// Pricing and provision details use the non-paged {"content":[…]} wrapper.
	for _, path := range []string{"/products/" + nce.ID + "/pricing", "/products/" + nce.ID + "/provision-details"} {
		status, raw := s.do("", http.MethodGet, path, nil)
		if status != http.StatusOK || !strings.HasPrefix(string(raw), `{"content":[{`) || strings.Contains(string(raw), `"page"`) {
			t.Errorf("GET %s = %d %s, want a non-paged content wrapper", path, status, raw)
		}
	}
	prices := get[wrapped[pricing]](s, "/products/"+nce.ID+"/pricing").Content
	for _, p := range prices {
		if p.ProductID != nce.ID || len(p.Rates) == 0 || p.CommitmentTermInMonths == 0 || p.Rates[0].PartnerBuyRate >= p.Rates[0].SuggestedRetailPrice {
			t.Errorf("pricing entry %+v", p)
		}
	}
	company := get[paged[company]](s, "/companies?size=1").Content[0]
	get[wrapped[pricing]](s, "/products/"+nce.ID+"/pricing?companyId="+company.ID)
	call[pax8Error](s, "", http.MethodGet, "/products/"+nce.ID+"/pricing?companyId=nope", nil, http.StatusNotFound)
	call[pax8Error](s, "", http.MethodGet, "/products/nope", nil, http.StatusNotFound)
	call[pax8Error](s, "", http.MethodGet, "/products/nope/dependencies", nil, http.StatusNotFound)

	var copilot productView
	for _, p := range all {
		if p.Name == "Microsoft 365 Copilot" {
			copilot = p
		}
	}
	deps := get[dependencies](s, "/products/"+copilot.ID+"/dependencies")
	if len(deps.CommitmentDependencies) != 3 || len(deps.ProductDependencies) != 1 || len(deps.ProductDependencies[0].Products) != 4 {
		t.Errorf("Copilot dependencies = %+v", deps)
	}
}

func TestInvoices(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1, Size: Size{Subscriptions: 400}})
	all := allPages[invoice](s, "/invoices")
	if len(all) < partnerInvoiceMonths {
		t.Fatalf("%d invoices, want at least %d", len(all), partnerInvoiceMonths)
	}
	for _, inv := range all[:3] {
		items := allPages[invoiceItem](s, "/invoices/"+inv.ID+"/items")
		sum := 0.0
		for _, it := range items {
			sum += it.AmountDue
			if it.RateType != "Flat" || it.Type != "subscription" {
				t.Errorf("item %+v", it)
			}
		}
		if len(items) == 0 || math.Abs(sum-inv.Total) > 0.01 {
			t.Errorf("invoice %s total %.2f, items sum to %.2f over %d items", inv.ID, inv.Total, sum, len(items))
		}
		if got := get[invoice](s, "/invoices/"+inv.ID); got != inv {
			t.Errorf("GET invoice = %+v, want %+v", got, inv)
		}
	}
	paid := allPages[invoice](s, "/invoices?status=Paid")
	for _, inv := range paid {
		if inv.Status != "Paid" || inv.Balance != 0 {
			t.Errorf("status=Paid returned %+v", inv)
		}
	}
	if len(paid) == 0 {
		t.Errorf("no Paid invoices")
	}
	var companyID string
	for _, inv := range all {
		if inv.CompanyID != "" {
			companyID = inv.CompanyID
		}
	}
	for _, inv := range allPages[invoice](s, "/invoices?companyId="+companyID) {
		if inv.CompanyID != companyID {
			t.Errorf("companyId filter returned %+v", inv)
		}
	}
	ranged := allPages[invoice](s, "/invoices?invoiceDateRangeStart=2026-01-01&invoiceDateRangeEnd=2026-02-28")
	for _, inv := range ranged {
		if inv.InvoiceDate < "2026-01-01" || inv.InvoiceDate > "2026-02-28" {
			t.Errorf("date range returned %s", inv.InvoiceDate)
		}
	}
	if len(ranged) < 2 {
		t.Errorf("date range returned %d invoices, want the January and February ones", len(ranged))
	}
	call[pax8Error](s, "", http.MethodGet, "/invoices?status=Overdue", nil, http.StatusBadRequest)
	call[pax8Error](s, "", http.MethodGet, "/invoices?companyId=nope", nil, http.StatusNotFound)
	call[pax8Error](s, "", http.MethodGet, "/invoices/nope/items", nil, http.StatusNotFound)
}

func TestUsage(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1, Size: Size{Subscriptions: 600}})
	var azure productView
	for _, p := range allPages[productView](s, "/products?vendorName=Microsoft") {
		if p.Name == "Microsoft Azure Plan" {
			azure = p
		}
	}
	subs := allPages[subscription](s, "/subscriptions?status=Active&productId="+azure.ID)
	if len(subs) == 0 {
		t.Fatal("no active Azure subscriptions")
	}
	sums := get[paged[usageSummary]](s, "/subscriptions/"+subs[0].ID+"/usage-summaries")
	if sums.Page.TotalElements == 0 {
		t.Fatalf("Azure subscription %s has no usage summaries", subs[0].ID)
	}
	u := sums.Content[0]
	if got := get[usageSummary](s, "/usage-summaries/"+u.ID); got.ID != u.ID || got.CurrentCharges != u.CurrentCharges {
		t.Errorf("GET usage summary = %+v, want %+v", got, u)
	}
	lines := allPages[usageLine](s, "/usage-summaries/"+u.ID+"/usage-lines")
	if len(lines) != 28 { // February 2026
		t.Errorf("%d usage lines, want 28", len(lines))
	}
	total := 0.0
	for _, l := range lines {
		total += l.CurrentCharges
	}
	if math.Abs(total-u.CurrentCharges) > 0.01 {
		t.Errorf("lines sum to %.2f, summary says %.2f", total, u.CurrentCharges)
	}
	one := get[paged[usageLine]](s, "/usage-summaries/"+u.ID+"/usage-lines?usageDate=2026-02-10")
	if one.Page.TotalElements != 1 || one.Content[0].UsageDate != "2026-02-10" {
		t.Errorf("usageDate filter = %+v", one)
	}
	if got := get[paged[usageSummary]](s, "/subscriptions/"+subs[0].ID+"/usage-summaries?resourceGroup=nothing").Page.TotalElements; got != 0 {
		t.Errorf("resourceGroup=nothing matched %d", got)
	}
	call[pax8Error](s, "", http.MethodGet, "/usage-summaries/nope", nil, http.StatusNotFound)
	call[pax8Error](s, "", http.MethodGet, "/usage-summaries/nope/usage-lines", nil, http.StatusNotFound)
	call[pax8Error](s, "", http.MethodGet, "/usage-summaries/"+u.ID+"/usage-lines?usageDate=02/10/2026", nil, http.StatusBadRequest)
}

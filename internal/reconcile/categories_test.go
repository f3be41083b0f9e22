package reconcile_test

import (
	"cmp"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/reconcile"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/pax8"
)

// TestTenantSideCategories: on the clean sandbox, drift the tenant makes
// itself is classified with its money at stake: a line not billed
// (unbilled), a line billed for a product Pax8 never charged (ghost), a
// product key nobody mapped (unmapped_product), a company whose mapping
// was removed (unmapped_company), and a billed quantity off by two
// (quantity_mismatch).
func TestTenantSideCategories(t *testing.T) {
	p := startPartner(t, sandbox.Options{})
	ctx := t.Context()
	period := latestPeriod(t, ctx, p.c)
	in := tenantBook(t, ctx, p.c, period)
	if len(in.Billing) < 4 {
		t.Fatalf("%d billing lines, want at least 4", len(in.Billing))
	}
	snap, err := reconcile.Walk(ctx, p.c, period, nil)
	if err != nil {
		t.Fatal(err)
	}
	company := func(org string) string { return org[len("org-"):] }
	charged := map[[2]string]pax8.Amount{}
	for _, it := range periodItems(t, ctx, p.c, period) {
		k := [2]string{it.CompanyID, it.ProductID}
		charged[k] = charged[k].Add(it.CostTotal)
	}

	// Line 0 is not billed.
	dropped := in.Billing[0]
	droppedKey := [2]string{company(dropped.OrgID), in.Products[dropped.Product]}
	// Line 2 bills two seats more than Pax8 charges.
	more := in.Billing[2]
	moreKey := [2]string{company(more.OrgID), in.Products[more.Product]}
	in.Billing[2].Quantity = more.Quantity.Add(pax8.AmountFromInt(2))
	// Line 3's organisation is also billed for a product Pax8 never
	// charged it, and for a key nobody mapped.
	org3 := in.Billing[3].OrgID
	// Another organisation's company loses its mapping, and its bills go.
	var unmappedOrg string
	for _, l := range in.Billing {
		if l.OrgID != dropped.OrgID && l.OrgID != more.OrgID && l.OrgID != org3 {
			unmappedOrg = l.OrgID
			break
		}
	}
	if unmappedOrg == "" {
		t.Fatal("no fourth organisation to unmap")
	}
	var ghostProduct string
	for _, pr := range snap.Products() {
		if _, ok := charged[[2]string{company(org3), pr.ID}]; !ok {
			ghostProduct = pr.ID
			break
		}
	}
	if ghostProduct == "" {
		t.Fatal("no product Pax8 does not charge the third organisation")
	}
	in.Products["ghost-key"] = ghostProduct
	var billing []reconcile.BillingLine
	for i, l := range in.Billing {
		if i != 0 && l.OrgID != unmappedOrg {
			billing = append(billing, l)
		}
	}
	billing = append(billing,
		reconcile.BillingLine{OrgID: org3, Product: "ghost-key", Quantity: pax8.AmountFromInt(4), UnitPrice: pax8.MustParseAmount("12.25")},
		reconcile.BillingLine{OrgID: org3, Product: "nobody-mapped", Quantity: pax8.AmountFromInt(1), UnitPrice: pax8.MustParseAmount("99.99")},
	)
	in.Billing = billing
	delete(in.Companies, company(unmappedOrg))

	r := reconcile.Compare(snap, in)
	type got struct {
		Category         reconcile.Category
		Company, Product string
		ProductKey       string
		AtStake          pax8.Amount
	}
	var flagged []got
	for _, l := range r.Flagged() {
		flagged = append(flagged, got{l.Category, l.CompanyID, l.ProductID, l.ProductKey, l.AtStake.Amount})
	}
	want := []got{
		{reconcile.Unbilled, droppedKey[0], droppedKey[1], "", charged[droppedKey]},
		{reconcile.QuantityMismatch, moreKey[0], moreKey[1], more.Product, more.UnitPrice.MulInt(2)},
		{reconcile.Ghost, company(org3), ghostProduct, "ghost-key", pax8.MustParseAmount("49")},
		{reconcile.UnmappedProduct, company(org3), "", "nobody-mapped", pax8.MustParseAmount("99.99")},
	}
	for k, a := range charged {
		if k[0] == company(unmappedOrg) {
			want = append(want, got{reconcile.UnmappedCompany, k[0], k[1], "", a})
		}
	}
	order := func(a, b got) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Company, b.Company), cmp.Compare(a.Product, b.Product))
	}
	slices.SortFunc(want, order)
	slices.SortFunc(flagged, order)
	if diff := gocmp.Diff(want, flagged); diff != "" {
		t.Errorf("flagged (-want +got):\n%s", diff)
	}
}

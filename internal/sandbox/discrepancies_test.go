package sandbox_test

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/pax8"
)

// found is one discrepancy as a reconciliation reports it.
type found struct {
	Category       string `json:"category"`
	InvoiceID      string `json:"invoiceId"`
	InvoiceItemID  string `json:"invoiceItemId"`
	SubscriptionID string `json:"subscriptionId"`
	CompanyID      string `json:"companyId"`
}

// reconcile checks the items of the given invoices against the partner's
// subscriptions and companies, in exact money, the way a licence
// reconciliation would. Items that disagree in a way no category names
// (a subtotal that is not price × quantity) fail the test.
func reconcile(t *testing.T, ctx context.Context, c *pax8.Client, invoices []pax8.Invoice) []found {
	t.Helper()
	companies := map[string]bool{}
	for co, err := range c.Companies.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		companies[co.ID] = true
	}
	subs := map[string]pax8.Subscription{}
	for s, err := range c.Subscriptions.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		subs[s.ID] = s
	}
	var out []found
	for _, inv := range invoices {
		var sum pax8.Amount
		for it, err := range c.Invoices.AllItems(ctx, inv.ID, nil) {
			if err != nil {
				t.Fatal(err)
			}
			sum = sum.Add(it.AmountDue)
			f := found{InvoiceID: inv.ID, InvoiceItemID: it.ID, SubscriptionID: it.SubscriptionID, CompanyID: it.CompanyID}
			report := func(cat string) { f.Category = cat; out = append(out, f) }
			if !companies[it.CompanyID] {
				f.SubscriptionID = ""
				report("unmapped_company")
				continue
			}
			if want := it.Price.MulQuantity(it.Quantity); !it.SubTotal.Equal(want) {
				t.Errorf("item %s: subTotal %s, want price %s × quantity %v = %s", it.ID, it.SubTotal, it.Price, it.Quantity, want)
			}
			if want := it.Cost.MulQuantity(it.Quantity); !it.CostTotal.Equal(want) {
				t.Errorf("item %s: costTotal %s, want %s", it.ID, it.CostTotal, want)
			}
			s, ok := subs[it.SubscriptionID]
			if !ok {
				t.Errorf("item %s bills subscription %q, which does not exist", it.ID, it.SubscriptionID)
				continue
			}
			if !it.Cost.Equal(s.PartnerCost) || !it.Price.Equal(s.Price) {
				t.Errorf("item %s: price %s cost %s, subscription %s has %s and %s", it.ID, it.Price, it.Cost, s.ID, s.Price, s.PartnerCost)
			}
			switch {
			case s.Status == pax8.SubscriptionCancelled && !s.EndDate.IsZero() && pax8.DateOf(s.EndDate.UTC()).String() < it.StartPeriod.String():
				report("cancelled_still_charged")
			case it.Quantity < s.Quantity:
				report("seats_not_billed")
			case it.Quantity > s.Quantity:
				report("billed_after_removal")
			}
			if it.Price.Cmp(it.Cost) < 0 {
				report("price_below_cost")
			}
		}
		if !sum.Equal(inv.Total) {
			t.Errorf("invoice %s: total %s, items sum to %s", inv.ID, inv.Total, sum)
		}
	}
	slices.SortFunc(out, func(a, b found) int { return cmp.Compare(a.Category, b.Category) })
	return out
}

// TestInvoicesReconcile: generated invoices agree with the subscriptions
// item by item, in exact money; with discrepancies seeded, reconciling the
// latest partner invoice finds exactly the ones the control API lists, one
// of each category.
func TestInvoicesReconcile(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	c := partnerClient(e)
	ctx := e.ctx()
	partner := clientID + "@clients"

	var all []pax8.Invoice
	var latest pax8.Invoice
	for inv, err := range c.Invoices.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, inv)
		if inv.CompanyID == "" && inv.InvoiceDate.String() > latest.InvoiceDate.String() {
			latest = inv
		}
	}
	if len(all) < 12 || latest.ID == "" {
		t.Fatalf("%d invoices, latest partner invoice %q; want at least 12", len(all), latest.ID)
	}
	if got := reconcile(t, ctx, c, all); len(got) != 0 {
		t.Errorf("generated invoices disagree with the subscriptions: %+v", got)
	}

	ctl := controlURL(e)
	status, b := send(t, "GET", ctl+"/pax8/discrepancies?partner="+partner, "")
	var listed struct {
		Partner       string  `json:"partner"`
		Discrepancies []found `json:"discrepancies"`
	}
	if err := json.Unmarshal(b, &listed); status != http.StatusOK || err != nil || len(listed.Discrepancies) != 0 {
		t.Fatalf("GET discrepancies before seeding = %d %s, want none", status, b)
	}
	status, b = send(t, "POST", ctl+"/pax8/discrepancies", `{"partner":"`+partner+`"}`)
	if err := json.Unmarshal(b, &listed); status != http.StatusOK || err != nil {
		t.Fatalf("POST discrepancies = %d %s", status, b)
	}
	want := listed.Discrepancies
	slices.SortFunc(want, func(a, b found) int { return cmp.Compare(a.Category, b.Category) })
	var cats []string
	for _, d := range want {
		cats = append(cats, d.Category)
		if d.InvoiceID != latest.ID {
			t.Errorf("discrepancy %+v is not on the latest partner invoice %s", d, latest.ID)
		}
	}
	if diff := gocmp.Diff([]string{"billed_after_removal", "cancelled_still_charged", "price_below_cost", "seats_not_billed", "unmapped_company"}, cats); diff != "" {
		t.Errorf("seeded categories (-want +got):\n%s", diff)
	}

	fresh, err := c.Invoices.Get(ctx, latest.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(want, reconcile(t, ctx, c, []pax8.Invoice{*fresh})); diff != "" {
		t.Errorf("reconciliation of the latest invoice (-listed +found):\n%s", diff)
	}
	// Seeding again changes nothing.
	status, b = send(t, "POST", ctl+"/pax8/discrepancies", `{"partner":"`+partner+`"}`)
	var again struct{ Discrepancies []found }
	json.Unmarshal(b, &again)
	if status != http.StatusOK || len(again.Discrepancies) != len(want) {
		t.Errorf("second POST = %d %s, want the same %d", status, b, len(want))
	}
	if status, _ := send(t, "GET", ctl+"/pax8/discrepancies", ""); status != http.StatusBadRequest {
		t.Errorf("GET without a partner = %d, want 400", status)
	}
}

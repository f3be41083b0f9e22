package pax8api

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Discrepancy categories: the ways an invoice disagrees with the
// subscriptions it bills, which a reconciliation must find.
const (
	// SeatsNotBilled: seats were added at Pax8 and the invoice bills fewer
	// than the subscription holds.
	SeatsNotBilled = "seats_not_billed"
	// BilledAfterRemoval: seats were removed and the invoice still bills
	// them.
	BilledAfterRemoval = "billed_after_removal"
	// PriceBelowCost: the subscription sells below the partner's cost, and
	// the invoice item shows it.
	PriceBelowCost = "price_below_cost"
	// CancelledStillCharged: the subscription ended before the billed
	// period started, and the invoice still charges it.
	CancelledStillCharged = "cancelled_still_charged"
	// UnmappedCompany: the item bills a company that is not among the
	// partner's companies.
	UnmappedCompany = "unmapped_company"
)

// Discrepancy is one seeded disagreement between an invoice item and the
// partner's subscriptions or companies: the answer a reconciliation of the
// invoice is expected to give.
type Discrepancy struct {
	Category       string `json:"category"`
	InvoiceID      string `json:"invoiceId"`
	InvoiceItemID  string `json:"invoiceItemId"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
	CompanyID      string `json:"companyId"`
	// BilledQuantity is the item's quantity; SubscriptionQuantity the
	// subscription's, for the seat categories.
	BilledQuantity       int    `json:"billedQuantity"`
	SubscriptionQuantity int    `json:"subscriptionQuantity,omitempty"`
	Description          string `json:"description"`
}

// Without discrepancies, every generated invoice item is consistent: it
// bills an existing subscription of an existing company, with the
// subscription's quantity, price and cost, subTotal = price × quantity and
// costTotal = cost × quantity exactly (in cents), at a price not below
// cost, for a period that does not start after the subscription ended.
// Writes through the API change subscriptions, not past invoices.

// SeedDiscrepancies makes the partner's dataset (generated now if need be)
// hold one discrepancy of each category, all on its latest partner
// invoice, and returns them. It is idempotent: a second call returns the
// same list. The invoice's total and balance are updated to its items.
func (a *API) SeedDiscrepancies(partnerID string) []Discrepancy {
	d := a.dataset(partnerID)
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.seeded {
		d.discrepancies = seedDiscrepancies(d, a.now())
		d.seeded = true
	}
	return slices.Clone(d.discrepancies)
}

// Discrepancies returns the discrepancies seeded in the partner's dataset,
// none unless [API.SeedDiscrepancies] was called or
// [Options.Discrepancies] is set.
func (a *API) Discrepancies(partnerID string) []Discrepancy {
	d := a.dataset(partnerID)
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.discrepancies)
}

// latestPartnerInvoice returns the newest invoice without a company.
func (d *dataset) latestPartnerInvoice() *invoice {
	var latest *invoice
	for _, inv := range d.invoices {
		if inv.CompanyID == "" && (latest == nil || inv.InvoiceDate > latest.InvoiceDate) {
			latest = inv
		}
	}
	return latest
}

// seedDiscrepancies changes subscriptions and items of the latest partner
// invoice, one distinct item per category, and records what it did.
// d.mu must be held for writing.
func seedDiscrepancies(d *dataset, now time.Time) []Discrepancy {
	inv := d.latestPartnerInvoice()
	if inv == nil {
		return nil
	}
	items := d.invoiceItems[inv.ID]
	used := map[string]bool{}
	// pick returns the first item billing a subscription not picked yet
	// that satisfies ok. Subscriptions of companies with their own
	// invoices are skipped, so that only this invoice disagrees.
	pick := func(ok func(*invoiceItem, *subscription) bool) (*invoiceItem, *subscription) {
		for _, it := range items {
			s := d.subByID[it.SubscriptionID]
			if s == nil || used[s.ID] || !ok(it, s) {
				continue
			}
			if co := d.companyByID[s.CompanyID]; co == nil || co.BillOnBehalfOfEnabled {
				continue
			}
			used[s.ID] = true
			return it, s
		}
		return nil, nil
	}
	var out []Discrepancy
	add := func(cat string, it *invoiceItem, s *subscription, desc string) {
		dd := Discrepancy{Category: cat, InvoiceID: inv.ID, InvoiceItemID: it.ID, CompanyID: it.CompanyID,
			BilledQuantity: it.Quantity, Description: desc}
		if s != nil {
			dd.SubscriptionID = s.ID
			dd.SubscriptionQuantity = s.Quantity
		}
		out = append(out, dd)
	}
	// change applies f to s the way the API's writes do, with history.
	change := func(s *subscription, f func(*subscription)) {
		next := *s
		f(&next)
		next.UpdatedDate = stamp(now)
		d.recordHistory(s, next)
		*s = next
	}

	if it, s := pick(func(*invoiceItem, *subscription) bool { return true }); it != nil {
		change(s, func(s *subscription) { s.Quantity += 3 })
		add(SeatsNotBilled, it, s, fmt.Sprintf("3 seats added at Pax8: the subscription holds %d, the invoice bills %d", s.Quantity, it.Quantity))
	}
	if it, s := pick(func(it *invoiceItem, _ *subscription) bool { return it.Quantity >= 2 }); it != nil {
		change(s, func(s *subscription) { s.Quantity-- })
		add(BilledAfterRemoval, it, s, fmt.Sprintf("a seat removed: the subscription holds %d, the invoice bills %d", s.Quantity, it.Quantity))
	}
	if it, s := pick(func(_ *invoiceItem, s *subscription) bool { return s.PartnerCost >= 1 }); it != nil {
		change(s, func(s *subscription) { s.Price = money(s.PartnerCost - 0.5) })
		rebill(it, s)
		add(PriceBelowCost, it, s, fmt.Sprintf("price %.2f is below the partner cost %.2f", s.Price, s.PartnerCost))
	}
	if it, s := pick(func(it *invoiceItem, _ *subscription) bool { return it.StartPeriod != "" }); it != nil {
		start, _ := time.Parse(dateLayout, it.StartPeriod)
		change(s, func(s *subscription) { s.Status, s.EndDate = "Cancelled", stamp(start.AddDate(0, 0, -10)) })
		add(CancelledStillCharged, it, s, fmt.Sprintf("cancelled on %s, charged for the period from %s", day(start.AddDate(0, 0, -10)), it.StartPeriod))
	}
	if len(items) > 0 {
		tmpl := items[0]
		it := *tmpl
		it.ID = d.rng.uuid()
		it.CompanyID = d.rng.uuid()
		it.CompanyName = "Unknown Customer LLC"
		it.SubscriptionID = ""
		d.invoiceItems[inv.ID] = append(items, &it)
		add(UnmappedCompany, &it, nil, "billed to a company that is not among the partner's companies")
	}
	retotal(d, inv)
	return out
}

// rebill sets an item's prices and totals from its subscription, as
// newInvoiceItem does, keeping its quantity.
func rebill(it *invoiceItem, s *subscription) {
	it.Price, it.Cost = s.Price, s.PartnerCost
	it.SubTotal = money(s.Price * float64(it.Quantity))
	it.CostTotal = money(s.PartnerCost * float64(it.Quantity))
	if it.BilledByPax8 {
		it.SalesTax = money(it.SubTotal * 0.07)
		it.Total = money(it.SubTotal + it.SalesTax)
	} else {
		it.Total = it.CostTotal
	}
	it.AmountDue = it.Total
}

// retotal sets an invoice's total (and an unpaid one's balance) to the sum
// of its items.
func retotal(d *dataset, inv *invoice) {
	var cents int64
	for _, it := range d.invoiceItems[inv.ID] {
		cents += int64(math.Round(it.AmountDue * 100))
	}
	inv.Total = float64(cents) / 100
	if inv.Status == "Unpaid" {
		inv.Balance = inv.Total
	}
}

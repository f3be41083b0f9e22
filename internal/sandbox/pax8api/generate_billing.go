package pax8api

import (
	"fmt"
	"strings"
	"time"
)

// Generated invoice history: twelve monthly partner invoices, and three for
// each company the partner bills on behalf of; at most maxInvoiceItems
// items each.
const (
	partnerInvoiceMonths = 12
	companyInvoiceMonths = 3
	maxInvoiceItems      = 40
)

func genInvoices(d *dataset, g *rng, cat *catalog, anchor time.Time) {
	for m := range partnerInvoiceMonths {
		genInvoice(d, g, cat, anchor.AddDate(0, -m, 0), m, nil, d.subs)
	}
	for _, c := range d.companies {
		if !c.BillOnBehalfOfEnabled || c.Status == companyInactive {
			continue
		}
		for m := range companyInvoiceMonths {
			genInvoice(d, g, cat, anchor.AddDate(0, -m, 0), m, c, d.subsByCompany[c.ID])
		}
	}
}

// genInvoice bills, for the month before date, a sample of the seat-based
// subscriptions that were running then. Partner invoices charge the partner's
// cost; invoices for a company bill retail price plus sales tax.
func genInvoice(d *dataset, g *rng, cat *catalog, date time.Time, age int, co *company, subs []*subscription) {
	periodStart := date.AddDate(0, -1, 0)
	dateStamp := stamp(date)
	var billable []*subscription
	for _, s := range subs {
		p := cat.byID[s.ProductID]
		if p == nil || p.usage || !s.start.Before(periodStart) || s.Status == "Trial" {
			continue
		}
		if s.EndDate != "" && s.EndDate < dateStamp {
			continue
		}
		billable = append(billable, s)
	}
	inv := &invoice{
		ID:           g.uuid(),
		InvoiceDate:  day(date),
		DueDate:      day(date.AddDate(0, 0, 14)),
		CurrencyCode: "USD",
		PartnerName:  d.partnerName,
		ExternalID:   fmt.Sprintf("INV-%07d", g.intn(10_000_000)),
	}
	if co != nil {
		inv.CompanyID = co.ID
	}
	items := make([]*invoiceItem, 0, min(len(billable), maxInvoiceItems))
	for len(billable) > 0 && len(items) < maxInvoiceItems {
		i := g.intn(len(billable))
		s := billable[i]
		billable[i] = billable[len(billable)-1]
		billable = billable[:len(billable)-1]
		items = append(items, newInvoiceItem(g, cat.byID[s.ProductID], s, d.companyByID[s.CompanyID], periodStart, date, co != nil))
	}
	for _, it := range items {
		inv.Total += it.AmountDue
	}
	inv.Total = money(inv.Total)
	switch {
	case age == 0:
		inv.Status, inv.Balance = "Unpaid", inv.Total
	case age == 1 && g.chance(0.3):
		inv.Status, inv.Balance, inv.CarriedBalance = "Carried", inv.Total, inv.Total
	case len(items) == 0:
		inv.Status = "Nothing Due"
	case g.chance(0.03):
		inv.Status = "Void"
	default:
		inv.Status = "Paid"
	}
	d.invoices = append(d.invoices, inv)
	d.invoiceByID[inv.ID] = inv
	d.invoiceItems[inv.ID] = items
}

func newInvoiceItem(g *rng, p *product, s *subscription, co *company, from, to time.Time, retail bool) *invoiceItem {
	subTotal := money(s.Price * float64(s.Quantity))
	costTotal := money(s.PartnerCost * float64(s.Quantity))
	it := &invoiceItem{
		ID:                  g.uuid(),
		PurchaseOrderNumber: "N/A",
		Type:                "subscription",
		CompanyID:           co.ID,
		CompanyName:         co.Name,
		StartPeriod:         day(from),
		EndPeriod:           day(to.AddDate(0, 0, -1)),
		Quantity:            s.Quantity,
		UnitOfMeasure:       p.unit,
		Term:                strings.Replace(s.BillingTerm, "-", " ", 1), // invoice items say "3 Year"
		Sku:                 p.Sku,
		Description:         p.Name,
		RateType:            "Flat",
		ChargeType:          "per",
		Price:               s.Price,
		SubTotal:            subTotal,
		Cost:                s.PartnerCost,
		CostTotal:           costTotal,
		OfferedBy:           "Pax8",
		BilledByPax8:        retail,
		ProductID:           p.ID,
		ProductName:         p.Name,
		CurrencyCode:        "USD",
		SubscriptionID:      s.ID,
		VendorName:          p.VendorName,
	}
	if retail {
		it.SalesTax = money(subTotal * 0.07)
		it.Total = money(subTotal + it.SalesTax)
	} else {
		it.Total = costTotal
	}
	it.AmountDue = it.Total
	return it
}

// genUsage gives each running usage-billed subscription one or two resource
// groups of last month's usage. Lines are derived on demand from the seed;
// only their sums are stored.
func genUsage(d *dataset, g *rng, cat *catalog, anchor time.Time) {
	period := anchor.AddDate(0, -1, 0)
	days := int(anchor.Sub(period).Hours() / 24)
	for _, s := range d.subs {
		p := cat.byID[s.ProductID]
		if !p.usage || s.Status != "Active" {
			continue
		}
		groups := []string{"Production", "Development", "rg-" + slug(d.companyByID[s.CompanyID].Name)}
		for k := range g.between(1, 2) {
			u := &usageSummary{
				ID: g.uuid(), CompanyID: s.CompanyID, SubscriptionID: s.ID, ProductID: s.ProductID,
				ResourceGroup: groups[k], VendorName: p.VendorName, CurrencyCode: "USD",
				product: p, period: period, days: days,
			}
			for _, l := range usageLines(d.seed, u) {
				u.CurrentCharges += l.CurrentCharges
				u.PartnerTotal += l.PartnerTotal
			}
			u.CurrentCharges, u.PartnerTotal = money(u.CurrentCharges), money(u.PartnerTotal)
			d.usage = append(d.usage, u)
			d.usageByID[u.ID] = u
			d.usageBySub[s.ID] = append(d.usageBySub[s.ID], u)
		}
	}
}

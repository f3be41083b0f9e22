package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/grantd/grantd/pax8"
)

// BillingLine is one thing the tenant bills an organisation for a period:
// Quantity units of its product Product at UnitPrice each.
type BillingLine struct {
	// Line is where the line was in its upload (1-based), for messages.
	Line      int         `json:"-"`
	OrgID     string      `json:"org"`
	Product   string      `json:"product"`
	Quantity  pax8.Amount `json:"quantity"`
	UnitPrice pax8.Amount `json:"unit_price"`
}

// Input is what a reconciliation compares Pax8's data with.
type Input struct {
	Period Period
	// Currency is the tenant's billing currency; empty means the currency
	// of Pax8's invoices (USD when they name none).
	Currency string
	// Companies maps a Pax8 company id to the tenant's organisation id:
	// the accepted org mappings.
	Companies map[string]string
	// Products maps the tenant's product key to a Pax8 product id.
	Products map[string]string
	// Billing is what the tenant bills for the period.
	Billing []BillingLine
	// Progress, if set, is called as the walk advances, with the stage
	// ("companies", "subscriptions", "invoices", "items") and the count so
	// far. It must not block.
	Progress func(stage string, n int)
}

// runningSeats sums the running (active or pending cancel) subscriptions
// of one company × product; last is one of them, for its price and cost.
type runningSeats struct {
	quantity pax8.Amount
	last     *sub
}

// key is one company × Pax8 product.
type key struct{ company, product string }

// sub is what a reconciliation keeps of a subscription.
type sub struct {
	company, product, productName string
	quantity, price, cost         pax8.Amount
	cancelled                     bool
	end                           pax8.Date
}

// agg folds the invoice items and the billing lines of one key.
type agg struct {
	charged, chargedQty  pax8.Amount
	unitCost, unitPrice  pax8.Amount
	subs                 map[string]bool // subscriptions the items bill
	cancelled            pax8.Amount     // charged for periods after cancellation
	cancelledQty         pax8.Amount
	items                int
	billed, billedQty    pax8.Amount
	billedUnit           pax8.Amount // the unit price of the last billing line
	billedKeys           []string
	bills                int
	productName, company string
}

var one = pax8.AmountFromInt(1)

func qty(n pax8.Number) pax8.Amount { return one.MulQuantity(n) }

// Snapshot is what a reconciliation keeps of Pax8's data for one period:
// one small record per subscription and one aggregate per company ×
// product charged. It is not modified once [Walk] returns it, so it can be
// shared and cached.
type Snapshot struct {
	Period   Period
	Currency string
	Walked   Walked
	names    map[string]string
	subs     map[string]*sub
	running  map[key]runningSeats
	aggs     map[key]*agg
	products map[string]Product
}

// Product is a Pax8 product a snapshot saw: on a subscription or on an
// invoice item.
type Product struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	SKU  string `json:"sku,omitempty"`
}

// Products returns the products the snapshot saw, by name.
func (s *Snapshot) Products() []Product {
	out := make([]Product, 0, len(s.products))
	for _, p := range s.products {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Product) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// Run reconciles in.Period for the partner c acts for: [Walk] then
// [Compare].
func Run(ctx context.Context, c *pax8.Client, in Input) (*Report, error) {
	snap, err := Walk(ctx, c, in.Period, in.Progress)
	if err != nil {
		return nil, err
	}
	return Compare(snap, in), nil
}

// Walk reads what Pax8 holds for period for the partner c acts for: its
// companies, subscriptions and the items of the partner invoices that may
// bill the period, streaming: memory grows with subscriptions and company
// × product pairs, not with invoice items. progress is as
// [Input.Progress].
func Walk(ctx context.Context, c *pax8.Client, period Period, progress func(stage string, n int)) (*Snapshot, error) {
	in := Input{Period: period}
	if progress == nil {
		progress = func(string, int) {}
	}
	var walked Walked
	names := map[string]string{}
	for co, err := range c.Companies.All(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("reconcile: listing companies: %w", err)
		}
		names[co.ID] = co.Name
		walked.Companies++
		if walked.Companies%500 == 0 {
			progress("companies", walked.Companies)
		}
	}
	progress("companies", walked.Companies)

	subs := map[string]*sub{}
	products := map[string]Product{}
	running := map[key]runningSeats{}
	for s, err := range c.Subscriptions.All(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("reconcile: listing subscriptions: %w", err)
		}
		walked.Subscriptions++
		if walked.Subscriptions%1000 == 0 {
			progress("subscriptions", walked.Subscriptions)
		}
		r := &sub{company: s.CompanyID, product: s.ProductID, productName: s.ProductName,
			quantity: qty(s.Quantity), price: s.Price, cost: s.PartnerCost,
			cancelled: s.Status == pax8.SubscriptionCancelled}
		if !s.EndDate.IsZero() {
			r.end = pax8.DateOf(s.EndDate.UTC())
		}
		subs[s.ID] = r
		if p := products[s.ProductID]; p.Name == "" {
			products[s.ProductID] = Product{ID: s.ProductID, Name: s.ProductName, SKU: p.SKU}
		}
		if s.Status == pax8.SubscriptionActive || s.Status == pax8.SubscriptionPendingCancel {
			k := key{s.CompanyID, s.ProductID}
			running[k] = runningSeats{quantity: running[k].quantity.Add(r.quantity), last: r}
		}
	}
	progress("subscriptions", walked.Subscriptions)

	aggs := map[key]*agg{}
	get := func(k key) *agg {
		a := aggs[k]
		if a == nil {
			a = &agg{subs: map[string]bool{}}
			aggs[k] = a
		}
		return a
	}
	var currency string
	var invoices []string
	for inv, err := range c.Invoices.All(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("reconcile: listing invoices: %w", err)
		}
		walked.Invoices++
		// Invoices Pax8 issues to a company it bills on the partner's
		// behalf are the customer's bill, not the partner's.
		if inv.CompanyID != "" || !in.Period.invoiced(inv.InvoiceDate) || inv.Status == pax8.InvoiceVoid {
			continue
		}
		if currency == "" {
			currency = inv.CurrencyCode
		}
		invoices = append(invoices, inv.ID)
	}
	progress("invoices", walked.Invoices)
	if currency == "" {
		currency = "USD"
	}
	for _, id := range invoices {
		for it, err := range c.Invoices.AllItems(ctx, id, nil) {
			if err != nil {
				return nil, fmt.Errorf("reconcile: listing items of invoice %s: %w", id, err)
			}
			walked.InvoiceItems++
			if walked.InvoiceItems%1000 == 0 {
				progress("items", walked.InvoiceItems)
			}
			if !in.Period.contains(it.StartPeriod) {
				continue
			}
			product := it.ProductID
			s := subs[it.SubscriptionID]
			if s != nil && product == "" {
				product = s.product
			}
			a := get(key{it.CompanyID, product})
			if a.company == "" {
				a.company = it.CompanyName
			}
			if a.productName == "" {
				a.productName = it.Description
			}
			if p := products[product]; product != "" && p.SKU == "" {
				p.ID, p.SKU = product, it.SKU
				if p.Name == "" {
					p.Name = it.Description
				}
				products[product] = p
			}
			q := qty(it.Quantity)
			a.items++
			a.charged = a.charged.Add(it.CostTotal)
			a.chargedQty = a.chargedQty.Add(q)
			a.unitCost, a.unitPrice = it.Cost, it.Price
			if s == nil {
				continue
			}
			if s.productName != "" {
				a.productName = s.productName
			}
			if s.cancelled && !s.end.IsZero() && s.end.String() < it.StartPeriod.String() {
				a.cancelled = a.cancelled.Add(it.CostTotal)
				a.cancelledQty = a.cancelledQty.Add(q)
				continue
			}
			a.subs[it.SubscriptionID] = true
		}
	}
	progress("items", walked.InvoiceItems)

	return &Snapshot{Period: period, Currency: currency, Walked: walked, names: names, subs: subs,
		running: running, aggs: aggs, products: products}, nil
}

// Compare reconciles the snapshot with what the tenant bills. in.Period
// is the snapshot's; in.Progress is not used.
func Compare(snap *Snapshot, in Input) *Report {
	currency := snap.Currency
	if in.Currency != "" {
		currency = in.Currency
	}
	names, subs, running := snap.names, snap.subs, snap.running
	aggs := make(map[key]*agg, len(snap.aggs))
	for k, a := range snap.aggs {
		c := *a
		aggs[k] = &c
	}
	get := func(k key) *agg {
		a := aggs[k]
		if a == nil {
			a = &agg{subs: map[string]bool{}}
			aggs[k] = a
		}
		return a
	}
	r := &Report{Period: snap.Period, Currency: currency, Walked: snap.Walked}
	money := func(a pax8.Amount) pax8.Money { return a.In(currency) }

	orgCompany := map[string]string{}
	for co, org := range in.Companies {
		if prev, ok := orgCompany[org]; !ok || co < prev {
			orgCompany[org] = co
		}
	}
	for _, b := range in.Billing {
		product, ok := in.Products[b.Product]
		if !ok {
			r.Lines = append(r.Lines, Line{Category: UnmappedProduct, OrgID: b.OrgID, CompanyID: orgCompany[b.OrgID],
				ProductKey: b.Product, BilledQuantity: b.Quantity, UnitPrice: money(b.UnitPrice),
				Billed: money(b.UnitPrice.Mul(b.Quantity)), AtStake: money(b.UnitPrice.Mul(b.Quantity)),
				Detail: "the product key is not mapped to a Pax8 product"})
			continue
		}
		company, ok := orgCompany[b.OrgID]
		if !ok {
			company = "org:" + b.OrgID // billed to an organisation no Pax8 company maps to
		}
		a := get(key{company, product})
		a.bills++
		a.billedQty = a.billedQty.Add(b.Quantity)
		a.billed = a.billed.Add(b.UnitPrice.Mul(b.Quantity))
		a.billedUnit = b.UnitPrice
		a.billedKeys = append(a.billedKeys, b.Product)
	}

	for k, a := range aggs {
		r.Lines = append(r.Lines, classify(k, a, in, names, subs, running, money)...)
	}
	summarize(r, money)
	return r
}

// classify turns one key's aggregate into its lines.
func classify(k key, a *agg, in Input, names map[string]string, subs map[string]*sub, running map[key]runningSeats, money func(pax8.Amount) pax8.Money) []Line {
	base := Line{CompanyID: k.company, CompanyName: names[k.company], OrgID: in.Companies[k.company],
		ProductID: k.product, ProductName: a.productName,
		ChargedQuantity: a.chargedQty, BilledQuantity: a.billedQty,
		UnitCost: money(a.unitCost), Charged: money(a.charged), Billed: money(a.billed)}
	if base.CompanyName == "" {
		base.CompanyName = a.company
	}
	if len(a.billedKeys) > 0 {
		base.ProductKey = a.billedKeys[0]
	}
	var sq, price pax8.Amount
	for id := range a.subs {
		sq = sq.Add(subs[id].quantity)
		price = subs[id].price
	}
	if len(a.subs) == 0 && a.items == 0 {
		sq = running[k].quantity // billed with no charge this period
		if s := running[k].last; s != nil {
			price, base.UnitCost = s.price, money(s.cost)
			if base.ProductName == "" {
				base.ProductName = s.productName
			}
		}
	}
	base.SubscriptionQuantity = sq
	unit := price
	if a.bills > 0 {
		unit = a.billedUnit
	}
	base.UnitPrice = money(unit)
	line := func(c Category, stake pax8.Amount, detail string) Line {
		l := base
		l.Category, l.AtStake, l.Detail = c, money(stake.Abs()), detail
		return l
	}

	if a.items > 0 {
		if _, known := names[k.company]; !known {
			return []Line{line(UnmappedCompany, a.charged, "Pax8 charges a company that is not among the partner's companies")}
		}
		if _, mapped := in.Companies[k.company]; !mapped {
			return []Line{line(UnmappedCompany, a.charged, "the Pax8 company is not mapped to an organisation")}
		}
	}
	var out []Line
	if a.cancelled.Sign() != 0 {
		out = append(out, line(CancelledButCharged, a.cancelled,
			fmt.Sprintf("%s seats charged for a period after the subscription was cancelled", a.cancelledQty)))
		if sq.Sign() == 0 && a.cancelledQty.Equal(a.chargedQty) {
			return out // nothing runs: whatever is billed rides on the cancelled charge
		}
	}
	switch {
	case a.items > 0 && a.bills == 0:
		if a.charged.Sign() != 0 && a.cancelled.Cmp(a.charged) != 0 {
			out = append(out, line(Unbilled, a.charged.Sub(a.cancelled), "Pax8 charges it; the tenant bills nothing"))
		}
	case a.items == 0 && a.bills > 0 && sq.Sign() == 0:
		out = append(out, line(Ghost, a.billed, "billed, but Pax8 has no charge and no running subscription"))
	default:
		charged := a.chargedQty.Sub(a.cancelledQty)
		if a.items == 0 {
			charged = sq
		}
		if !sq.Equal(a.billedQty) || !charged.Equal(a.billedQty) {
			diff := a.billedQty.Sub(sq)
			if diff.IsZero() {
				diff = charged.Sub(sq)
			}
			out = append(out, line(QuantityMismatch, diff.Abs().Mul(unit),
				fmt.Sprintf("subscription %s seats, charged %s, billed %s", sq, charged, a.billedQty)))
		}
		if a.bills > 0 && a.items > 0 && unit.Cmp(a.unitCost) < 0 {
			out = append(out, line(BelowCost, a.unitCost.Sub(unit).Mul(a.billedQty),
				fmt.Sprintf("billed at %s a seat, below the cost of %s", unit, a.unitCost)))
		}
	}
	if len(out) == 0 {
		out = append(out, line(Matched, pax8.Amount{}, ""))
	}
	return out
}

// summarize sorts the lines and fills in totals and companies.
func summarize(r *Report, money func(pax8.Amount) pax8.Money) {
	slices.SortFunc(r.Lines, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.CompanyName, b.CompanyName), cmp.Compare(a.CompanyID, b.CompanyID),
			cmp.Compare(a.ProductName, b.ProductName), cmp.Compare(a.ProductID, b.ProductID),
			cmp.Compare(a.ProductKey, b.ProductKey), cmp.Compare(a.Category, b.Category))
	})
	totals := map[Category]*CategoryTotal{}
	for _, c := range Categories {
		totals[c] = &CategoryTotal{Category: c, AtStake: money(pax8.Amount{})}
	}
	type sums struct{ charged, billed, stake pax8.Amount }
	companies := map[string]*Company{}
	var all sums
	var order []string
	seen := map[[2]string]bool{} // company × product counted once
	for _, l := range r.Lines {
		t := totals[l.Category]
		t.Lines++
		t.AtStake = money(t.AtStake.Amount.Add(l.AtStake.Amount))
		all.stake = all.stake.Add(l.AtStake.Amount)
		id := l.CompanyID
		if id == "" {
			id = "org:" + l.OrgID
		}
		co := companies[id]
		if co == nil {
			co = &Company{CompanyID: l.CompanyID, CompanyName: l.CompanyName, OrgID: l.OrgID}
			companies[id] = co
			order = append(order, id)
		}
		co.AtStake.Amount = co.AtStake.Amount.Add(l.AtStake.Amount)
		pk := [2]string{id, l.ProductID + "\x00" + l.ProductKey}
		if seen[pk] {
			continue
		}
		seen[pk] = true
		co.Charged.Amount = co.Charged.Amount.Add(l.Charged.Amount)
		co.Billed.Amount = co.Billed.Amount.Add(l.Billed.Amount)
		all.charged = all.charged.Add(l.Charged.Amount)
		all.billed = all.billed.Add(l.Billed.Amount)
	}
	for _, c := range Categories {
		r.Totals = append(r.Totals, *totals[c])
	}
	for _, id := range order {
		co := companies[id]
		co.Charged, co.Billed, co.AtStake = money(co.Charged.Amount), money(co.Billed.Amount), money(co.AtStake.Amount)
		co.Margin = money(co.Billed.Amount.Sub(co.Charged.Amount))
		r.Companies = append(r.Companies, *co)
	}
	r.Charged, r.Billed, r.AtStake = money(all.charged), money(all.billed), money(all.stake)
	r.Margin = money(all.billed.Sub(all.charged))
}

package pax8api

import (
	"net/http"
	"time"
)

// usageSummary is Pax8's UsageSummary schema (with the subscriptionId its
// examples carry), one per resource group of a usage-billed subscription.
type usageSummary struct {
	ID             string  `json:"id"`
	CompanyID      string  `json:"companyId"`
	SubscriptionID string  `json:"subscriptionId"`
	ProductID      string  `json:"productId"`
	ResourceGroup  string  `json:"resourceGroup"`
	VendorName     string  `json:"vendorName"`
	CurrentCharges float64 `json:"currentCharges"`
	CurrencyCode   string  `json:"currencyCode"`
	PartnerTotal   float64 `json:"partnerTotal"`
	IsTrial        bool    `json:"isTrial"`

	product *product
	period  time.Time // first usage day
	days    int
}

// usageLine is Pax8's UsageLine schema.
type usageLine struct {
	UsageSummaryID string  `json:"usageSummaryId"`
	UsageDate      string  `json:"usageDate"`
	ProductName    string  `json:"productName"`
	ProductID      string  `json:"productId"`
	UnitOfMeasure  string  `json:"unitOfMeasure"`
	Quantity       float64 `json:"quantity"`
	CurrentCharges float64 `json:"currentCharges"`
	CurrentProfit  float64 `json:"currentProfit"`
	PartnerTotal   float64 `json:"partnerTotal"`
	UnitPrice      float64 `json:"unitPrice"`
	CurrencyCode   string  `json:"currencyCode"`
	IsTrial        bool    `json:"isTrial"`
}

// usageLines derives the summary's daily lines from the seed and the summary
// id, so they need not be stored: one line per day of the period.
func usageLines(seed int64, s *usageSummary) []*usageLine {
	g := newRNG(seed, "pax8api/usage/"+s.ID)
	unit, price := s.product.unit, s.product.price
	if unit == "Usage" {
		unit, price = "Hour", 0.096 // a pay-as-you-go virtual machine meter
	}
	lines := make([]*usageLine, s.days)
	for i := range s.days {
		qty := money(g.float(1, 200))
		charges := money(qty * price)
		partner := money(charges * 0.85)
		lines[i] = &usageLine{
			UsageSummaryID: s.ID, UsageDate: day(s.period.AddDate(0, 0, i)),
			ProductName: s.product.Name, ProductID: s.product.ID, UnitOfMeasure: unit,
			Quantity: qty, CurrentCharges: charges, CurrentProfit: money(charges - partner),
			PartnerTotal: partner, UnitPrice: price, CurrencyCode: "USD", IsTrial: s.IsTrial,
		}
	}
	return lines
}

var usageSort = sortKeys[usageSummary]{
	"resourceGroup":  byString(func(u *usageSummary) string { return u.ResourceGroup }),
	"currentCharges": byNumber(func(u *usageSummary) float64 { return u.CurrentCharges }),
	"partnerTotal":   byNumber(func(u *usageSummary) float64 { return u.PartnerTotal }),
}

// listUsageSummaries lists a subscription's usage summaries, filtered by
// resourceGroup and companyId.
func (a *API) listUsageSummaries(w http.ResponseWriter, r *http.Request, d *dataset) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	group, companyID := q.Get("resourceGroup"), q.Get("companyId")
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, err := d.subscription(r.PathValue("subscriptionId"))
	if err != nil {
		return err
	}
	var out []*usageSummary
	for _, u := range d.usageBySub[s.ID] {
		if (group == "" || u.ResourceGroup == group) && (companyID == "" || u.CompanyID == companyID) {
			out = append(out, u)
		}
	}
	if err := sortBy(out, q, usageSort); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(out, p))
	return nil
}

func (a *API) getUsageSummary(w http.ResponseWriter, r *http.Request, d *dataset) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id := r.PathValue("usageSummaryId")
	u, ok := d.usageByID[id]
	if !ok {
		return notFound("Usage Summary", id)
	}
	writeJSON(w, http.StatusOK, *u)
	return nil
}

// listUsageLines pages a summary's lines (paging is undocumented but works on
// the live API), filtered by usageDate (yyyy-MM-dd) and productId.
func (a *API) listUsageLines(w http.ResponseWriter, r *http.Request, d *dataset) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	date, productID := q.Get("usageDate"), q.Get("productId")
	if date != "" {
		if _, err := time.Parse(dateLayout, date); err != nil {
			return badParam("Invalid value for parameter usageDate: %q; use yyyy-MM-dd", date)
		}
	}
	d.mu.RLock()
	id := r.PathValue("usageSummaryId")
	u, ok := d.usageByID[id]
	d.mu.RUnlock()
	if !ok {
		return notFound("Usage Summary", id)
	}
	var out []*usageLine
	for _, l := range usageLines(d.seed, u) {
		if (date == "" || l.UsageDate == date) && (productID == "" || l.ProductID == productID) {
			out = append(out, l)
		}
	}
	writeJSON(w, http.StatusOK, pageOf(out, p))
	return nil
}

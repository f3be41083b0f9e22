package pax8api

import (
	"net/http"
	"time"
)

// invoiceStatuses are the values of the invoices status filter.
var invoiceStatuses = []string{"Unpaid", "Paid", "Void", "Carried", "Nothing Due", "Credited"}

// invoice is Pax8's Invoice schema plus the status its examples carry.
// Partner-level invoices have no companyId; companies billed on behalf of
// the partner get their own.
type invoice struct {
	ID             string  `json:"id"`
	InvoiceDate    string  `json:"invoiceDate"`
	DueDate        string  `json:"dueDate"`
	Status         string  `json:"status"`
	Balance        float64 `json:"balance"`
	CarriedBalance float64 `json:"carriedBalance"`
	Total          float64 `json:"total"`
	CurrencyCode   string  `json:"currencyCode"`
	PartnerName    string  `json:"partnerName"`
	CompanyID      string  `json:"companyId,omitempty"`
	ExternalID     string  `json:"externalId,omitempty"`
}

// invoiceItem is Pax8's InvoiceItem schema. rateType arrives capitalised
// ("Flat") on the live API although documented lowercase (provider facts
// §1.9).
type invoiceItem struct {
	ID                  string  `json:"id"`
	PurchaseOrderNumber string  `json:"purchaseOrderNumber"`
	Type                string  `json:"type"`
	CompanyID           string  `json:"companyId"`
	CompanyName         string  `json:"companyName"`
	StartPeriod         string  `json:"startPeriod"`
	EndPeriod           string  `json:"endPeriod"`
	Quantity            int     `json:"quantity"`
	UnitOfMeasure       string  `json:"unitOfMeasure"`
	Term                string  `json:"term"`
	Sku                 string  `json:"sku"`
	Description         string  `json:"description"`
	RateType            string  `json:"rateType"`
	ChargeType          string  `json:"chargeType"`
	Price               float64 `json:"price"`
	SubTotal            float64 `json:"subTotal"`
	Cost                float64 `json:"cost"`
	CostTotal           float64 `json:"costTotal"`
	OfferedBy           string  `json:"offeredBy"`
	BilledByPax8        bool    `json:"billedByPax8"`
	Total               float64 `json:"total"`
	ProductID           string  `json:"productId"`
	ProductName         string  `json:"productName"`
	BillingFee          float64 `json:"billingFee"`
	BillingFeeRate      float64 `json:"billingFeeRate"`
	AmountDue           float64 `json:"amountDue"`
	CurrencyCode        string  `json:"currencyCode"`
	SalesTax            float64 `json:"salesTax"`
	SubscriptionID      string  `json:"subscriptionId"`
	VendorName          string  `json:"vendorName"`
}

var invoiceSort = sortKeys[invoice]{
	"invoiceDate":    byNumber(func(i *invoice) string { return i.InvoiceDate }),
	"dueDate":        byNumber(func(i *invoice) string { return i.DueDate }),
	"status":         byString(func(i *invoice) string { return i.Status }),
	"partnerName":    byString(func(i *invoice) string { return i.PartnerName }),
	"total":          byNumber(func(i *invoice) float64 { return i.Total }),
	"balance":        byNumber(func(i *invoice) float64 { return i.Balance }),
	"carriedBalance": byNumber(func(i *invoice) float64 { return i.CarriedBalance }),
}

// listInvoices filters by status, companyId (unknown: 404), invoiceDate and
// the invoiceDateRangeStart/End pair (yyyy-MM-dd, inclusive).
func (a *API) listInvoices(w http.ResponseWriter, r *http.Request, d *dataset) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	status, err := oneOf(q, "status", invoiceStatuses...)
	if err != nil {
		return err
	}
	dates := map[string]string{}
	for _, name := range []string{"invoiceDate", "invoiceDateRangeStart", "invoiceDateRangeEnd"} {
		if s := q.Get(name); s != "" {
			if _, err := time.Parse(dateLayout, s); err != nil {
				return badParam("Invalid value for parameter %s: %q; use yyyy-MM-dd", name, s)
			}
			dates[name] = s
		}
	}
	companyID := q.Get("companyId")

	d.mu.RLock()
	defer d.mu.RUnlock()
	if companyID != "" {
		if _, err := d.company(companyID); err != nil {
			return err
		}
	}
	var out []*invoice
	for _, inv := range d.invoices {
		switch {
		case status != "" && inv.Status != status,
			companyID != "" && inv.CompanyID != companyID,
			dates["invoiceDate"] != "" && inv.InvoiceDate != dates["invoiceDate"],
			dates["invoiceDateRangeStart"] != "" && inv.InvoiceDate < dates["invoiceDateRangeStart"],
			dates["invoiceDateRangeEnd"] != "" && inv.InvoiceDate > dates["invoiceDateRangeEnd"]:
			continue
		}
		out = append(out, inv)
	}
	if err := sortBy(out, q, invoiceSort); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(out, p))
	return nil
}

func (a *API) getInvoice(w http.ResponseWriter, r *http.Request, d *dataset) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id := r.PathValue("invoiceId")
	inv, ok := d.invoiceByID[id]
	if !ok {
		return notFound("Invoice", id)
	}
	writeJSON(w, http.StatusOK, *inv)
	return nil
}

func (a *API) listInvoiceItems(w http.ResponseWriter, r *http.Request, d *dataset) error {
	p, err := parsePage(r.URL.Query())
	if err != nil {
		return err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	id := r.PathValue("invoiceId")
	if _, ok := d.invoiceByID[id]; !ok {
		return notFound("Invoice", id)
	}
	writeJSON(w, http.StatusOK, pageOf(d.invoiceItems[id], p))
	return nil
}

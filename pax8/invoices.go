package pax8

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// InvoicesService reads invoices under /invoices. Reach it through
// [Client.Invoices].
type InvoicesService struct{ c *Client }

// InvoiceListOptions filters [InvoicesService.List]. Sort accepts
// invoiceDate, dueDate, status, partnerName, total, balance and
// carriedBalance. Zero values do not filter; the amount filters are
// pointers because 0 is a meaningful amount.
type InvoiceListOptions struct {
	ListOptions
	Status                InvoiceStatus
	InvoiceDate           Date
	InvoiceDateRangeStart Date
	InvoiceDateRangeEnd   Date
	DueDate               Date
	Total                 *Amount
	Balance               *Amount
	CarriedBalance        *Amount
	CompanyID             string
}

func (o *InvoiceListOptions) query() (url.Values, ListOptions) {
	q := url.Values{}
	if o == nil {
		return q, ListOptions{}
	}
	setString(q, "status", string(o.Status))
	setDate(q, "invoiceDate", o.InvoiceDate)
	setDate(q, "invoiceDateRangeStart", o.InvoiceDateRangeStart)
	setDate(q, "invoiceDateRangeEnd", o.InvoiceDateRangeEnd)
	setDate(q, "dueDate", o.DueDate)
	setAmount(q, "total", o.Total)
	setAmount(q, "balance", o.Balance)
	setAmount(q, "carriedBalance", o.CarriedBalance)
	setString(q, "companyId", o.CompanyID)
	return q, o.ListOptions
}

// List returns one page of invoices.
func (s *InvoicesService) List(ctx context.Context, opts *InvoiceListOptions) (*Page[Invoice], error) {
	q, lo := opts.query()
	lo.values(q)
	return list[Invoice](ctx, s.c, "/invoices", q)
}

// All iterates over every invoice matching opts.
func (s *InvoicesService) All(ctx context.Context, opts *InvoiceListOptions) iter.Seq2[Invoice, error] {
	q, lo := opts.query()
	return all[Invoice](ctx, s.c, "/invoices", q, lo)
}

// Get returns one invoice.
func (s *InvoicesService) Get(ctx context.Context, id string) (*Invoice, error) {
	p, err := pathf("/invoices/%s", id)
	if err != nil {
		return nil, err
	}
	var out Invoice
	if err := s.c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Items returns one page of an invoice's line items.
func (s *InvoicesService) Items(ctx context.Context, invoiceID string, opts *ListOptions) (*Page[InvoiceItem], error) {
	p, err := pathf("/invoices/%s/items", invoiceID)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if opts != nil {
		opts.values(q)
	}
	return list[InvoiceItem](ctx, s.c, p, q)
}

// AllItems iterates over every line item of an invoice.
func (s *InvoicesService) AllItems(ctx context.Context, invoiceID string, opts *ListOptions) iter.Seq2[InvoiceItem, error] {
	p, err := pathf("/invoices/%s/items", invoiceID)
	if err != nil {
		return errSeq[InvoiceItem](err)
	}
	var lo ListOptions
	if opts != nil {
		lo = *opts
	}
	return all[InvoiceItem](ctx, s.c, p, url.Values{}, lo)
}

// DraftItemListOptions filters [InvoicesService.DraftItems]. MonthOffset
// selects the draft: nil means Pax8's default (1, next month's invoice),
// 0 the current month's.
type DraftItemListOptions struct {
	ListOptions
	MonthOffset *int
	CompanyID   string
}

// DraftItems returns one page of the items that will appear on a coming
// invoice (GET /invoices/draftItems).
func (s *InvoicesService) DraftItems(ctx context.Context, opts *DraftItemListOptions) (*Page[InvoiceItem], error) {
	q := url.Values{}
	if opts != nil {
		opts.values(q)
		if opts.MonthOffset != nil {
			q.Set("monthOffset", strconv.Itoa(*opts.MonthOffset))
		}
		setString(q, "companyId", opts.CompanyID)
	}
	return list[InvoiceItem](ctx, s.c, "/invoices/draftItems", q)
}

func setAmount(q url.Values, k string, v *Amount) {
	if v != nil {
		q.Set(k, v.String())
	}
}

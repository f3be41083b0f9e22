package pax8

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
)

// OrdersService reads and places orders under /orders. Reach it through
// [Client.Orders]. Pax8 does not support scheduled orders (orders with a
// future date) in this API.
type OrdersService struct{ c *Client }

// OrderListOptions filters [OrdersService.List].
type OrderListOptions struct {
	ListOptions
	CompanyID string
}

func (o *OrderListOptions) query() (url.Values, ListOptions) {
	q := url.Values{}
	if o == nil {
		return q, ListOptions{}
	}
	setString(q, "companyId", o.CompanyID)
	return q, o.ListOptions
}

// List returns one page of orders. Listing is slow on large portfolios:
// filter by company where possible.
func (s *OrdersService) List(ctx context.Context, opts *OrderListOptions) (*Page[Order], error) {
	q, lo := opts.query()
	lo.values(q)
	return list[Order](ctx, s.c, "/orders", q)
}

// All iterates over every order matching opts.
func (s *OrdersService) All(ctx context.Context, opts *OrderListOptions) iter.Seq2[Order, error] {
	q, lo := opts.query()
	return all[Order](ctx, s.c, "/orders", q, lo)
}

// Get returns one order.
func (s *OrdersService) Get(ctx context.Context, id string) (*Order, error) {
	p, err := pathf("/orders/%s", id)
	if err != nil {
		return nil, err
	}
	var out Order
	if err := s.c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create places an order. With mock set, Pax8 only validates it (isMock=true)
// and nothing is bought. Create is never retried after a network error or a
// 5xx, since the order may have been placed; it is retried after a 429,
// which means the request was not processed.
func (s *OrdersService) Create(ctx context.Context, o *OrderCreate, mock bool) (*Order, error) {
	if o == nil || o.CompanyID == "" || len(o.LineItems) == 0 {
		return nil, errors.New("pax8: create order: companyId and at least one line item are required")
	}
	var q url.Values
	if mock {
		q = url.Values{"isMock": {"true"}}
	}
	var out Order
	if err := s.c.do(ctx, http.MethodPost, "/orders", q, o, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

package pax8

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// SubscriptionsService reads, updates and cancels subscriptions under
// /subscriptions. Reach it through [Client.Subscriptions].
type SubscriptionsService struct{ c *Client }

// SubscriptionListOptions filters [SubscriptionsService.List]. Sort takes a
// field and a direction: quantity, startDate, endDate, createdDate,
// billingStart or price, then ",asc" or ",desc" (e.g. "startDate,desc").
type SubscriptionListOptions struct {
	ListOptions
	Status      SubscriptionStatus
	BillingTerm BillingTerm
	CompanyID   string
	ProductID   string
}

func (o *SubscriptionListOptions) query() (url.Values, ListOptions) {
	q := url.Values{}
	if o == nil {
		return q, ListOptions{}
	}
	setString(q, "status", string(o.Status))
	setString(q, "billingTerm", string(o.BillingTerm))
	setString(q, "companyId", o.CompanyID)
	setString(q, "productId", o.ProductID)
	return q, o.ListOptions
}

// List returns one page of subscriptions. An unknown CompanyID is a 403
// ("Invalid companyId"), matching [ErrForbidden].
func (s *SubscriptionsService) List(ctx context.Context, opts *SubscriptionListOptions) (*Page[Subscription], error) {
	q, lo := opts.query()
	lo.values(q)
	return list[Subscription](ctx, s.c, "/subscriptions", q)
}

// All iterates over every subscription matching opts.
func (s *SubscriptionsService) All(ctx context.Context, opts *SubscriptionListOptions) iter.Seq2[Subscription, error] {
	q, lo := opts.query()
	return all[Subscription](ctx, s.c, "/subscriptions", q, lo)
}

// Get returns one subscription.
func (s *SubscriptionsService) Get(ctx context.Context, id string) (*Subscription, error) {
	p, err := pathf("/subscriptions/%s", id)
	if err != nil {
		return nil, err
	}
	var out Subscription
	if err := s.c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes a subscription (PUT) and returns it as Pax8 now has it.
// Pax8 does not support updating subscriptions with a future start date.
func (s *SubscriptionsService) Update(ctx context.Context, id string, u *SubscriptionUpdate) (*Subscription, error) {
	if err := u.validate(); err != nil {
		return nil, err
	}
	p, err := pathf("/subscriptions/%s", id)
	if err != nil {
		return nil, err
	}
	var out Subscription
	if err := s.c.do(ctx, http.MethodPut, p, nil, u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Cancel cancels a subscription (DELETE). A zero cancelDate cancels it as
// soon as Pax8 allows; otherwise the cancellation takes effect at
// cancelDate, sent as an RFC 3339 date-time.
func (s *SubscriptionsService) Cancel(ctx context.Context, id string, cancelDate time.Time) error {
	p, err := pathf("/subscriptions/%s", id)
	if err != nil {
		return err
	}
	var q url.Values
	if !cancelDate.IsZero() {
		q = url.Values{"cancelDate": {cancelDate.Format(time.RFC3339)}}
	}
	return s.c.do(ctx, http.MethodDelete, p, q, nil, nil)
}

// History returns the past versions of a subscription, newest first.
func (s *SubscriptionsService) History(ctx context.Context, id string) ([]Subscription, error) {
	p, err := pathf("/subscriptions/%s/history", id)
	if err != nil {
		return nil, err
	}
	return content[Subscription](ctx, s.c, p, nil)
}

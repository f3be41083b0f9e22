package action

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grantd/grantd/pax8"
)

// The look functions below read Pax8 to learn whether a write whose answer
// was lost happened (see [Action]); since is when it was first sent.

// lookOrder returns the company's orders created on or after since's day
// (Pax8 dates orders to the day) whose lines match in's (product id,
// quantity and billing term, in any order), newest first. A mock order
// creates nothing, so it has no match.
func lookOrder(ctx context.Context, c *pax8.Client, in *createOrderInput, since time.Time) ([]*pax8.Order, error) {
	if in.Mock {
		return nil, nil
	}
	want := orderLines(in.Order.LineItems)
	day := since.UTC().Truncate(24 * time.Hour)
	var out []*pax8.Order
	for o, err := range c.Orders.All(ctx, &pax8.OrderListOptions{CompanyID: in.Order.CompanyID, ListOptions: pax8.ListOptions{Size: pax8.MaxPageSize}}) {
		if err != nil {
			return nil, err
		}
		if !o.CreatedDate.IsZero() && o.CreatedDate.Time(time.UTC).Before(day) {
			continue
		}
		got := make([]string, len(o.LineItems))
		for i, li := range o.LineItems {
			got[i] = lineKey(li.ProductID, li.Quantity, li.BillingTerm)
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			out = append(out, &o)
		}
	}
	slices.Reverse(out)
	return out, nil
}

func orderLines(lines []pax8.LineItemCreate) []string {
	out := make([]string, len(lines))
	for i, li := range lines {
		out[i] = lineKey(li.ProductID, li.Quantity, li.BillingTerm)
	}
	slices.Sort(out)
	return out
}

func lineKey(product string, qty pax8.Number, term pax8.BillingTerm) string {
	return fmt.Sprintf("%s\x00%v\x00%s", product, float64(qty), term)
}

// lookUpdated returns the subscription when every field the update sets
// already has the target value.
func lookUpdated(ctx context.Context, c *pax8.Client, in *updateSubscriptionInput, _ time.Time) ([]*pax8.Subscription, error) {
	s, err := c.Subscriptions.Get(ctx, in.SubscriptionID)
	if err != nil {
		return nil, err
	}
	u := in.Update
	switch {
	case u.Quantity != nil && s.Quantity != *u.Quantity,
		u.Price != nil && s.Price != *u.Price,
		u.BillingTerm != "" && s.BillingTerm != u.BillingTerm,
		!u.StartDate.IsZero() && !s.StartDate.Equal(u.StartDate.Time):
		return nil, nil
	}
	return []*pax8.Subscription{s}, nil
}

// lookCancelled reports the cancellation when the subscription is
// cancelled or pending cancellation.
func lookCancelled(ctx context.Context, c *pax8.Client, in *cancelInput, _ time.Time) ([]Cancelled, error) {
	s, err := c.Subscriptions.Get(ctx, in.SubscriptionID)
	if err != nil {
		return nil, err
	}
	if s.Status != pax8.SubscriptionCancelled && s.Status != pax8.SubscriptionPendingCancel {
		return nil, nil
	}
	return []Cancelled{{SubscriptionID: s.ID, Cancelled: true}}, nil
}

// lookCompany returns the companies with in's name (ignoring case and
// surrounding space) last updated a minute before since or later (Pax8
// gives companies no creation date), newest first.
func lookCompany(ctx context.Context, c *pax8.Client, in *createCompanyInput, since time.Time) ([]*pax8.Company, error) {
	name := strings.TrimSpace(in.Company.Name)
	var out []*pax8.Company
	for co, err := range c.Companies.All(ctx, &pax8.CompanyListOptions{ListOptions: pax8.ListOptions{Size: pax8.MaxPageSize}}) {
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(strings.TrimSpace(co.Name), name) {
			continue
		}
		if !co.UpdatedDate.IsZero() && co.UpdatedDate.Before(since.Add(-time.Minute)) {
			continue
		}
		out = append(out, &co)
	}
	slices.SortStableFunc(out, func(a, b *pax8.Company) int { return b.UpdatedDate.Compare(a.UpdatedDate.Time) })
	return out, nil
}

// setQuantityInput is the input of pax8.set_quantity.
type setQuantityInput struct {
	IdempotencyField
	SubscriptionID string `json:"subscription_id" required:"true" desc:"subscription id"`
	Quantity       *int   `json:"quantity" required:"true" min:"1" desc:"the target quantity"`
}

// setQuantity reads the subscription and updates its quantity only when
// it differs from the target.
func setQuantity(ctx context.Context, c *pax8.Client, in *setQuantityInput) (*pax8.Subscription, error) {
	s, err := c.Subscriptions.Get(ctx, in.SubscriptionID)
	if err != nil {
		return nil, err
	}
	if s.Quantity == pax8.Number(*in.Quantity) {
		return s, nil
	}
	return c.Subscriptions.Update(ctx, in.SubscriptionID, &pax8.SubscriptionUpdate{Quantity: new(pax8.Number(*in.Quantity))})
}

func lookQuantity(ctx context.Context, c *pax8.Client, in *setQuantityInput, _ time.Time) ([]*pax8.Subscription, error) {
	s, err := c.Subscriptions.Get(ctx, in.SubscriptionID)
	if err != nil || s.Quantity != pax8.Number(*in.Quantity) {
		return nil, err
	}
	return []*pax8.Subscription{s}, nil
}

package pax8

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// UsageSummariesService reads usage-based charges: the usage summaries of a
// subscription and their daily usage lines. Reach it through
// [Client.UsageSummaries].
type UsageSummariesService struct{ c *Client }

// UsageSummaryListOptions filters [UsageSummariesService.ListForSubscription].
// Sort accepts resourceGroup, currentCharges and partnerTotal.
type UsageSummaryListOptions struct {
	ListOptions
	ResourceGroup string
	CompanyID     string
}

func (o *UsageSummaryListOptions) query() (url.Values, ListOptions) {
	q := url.Values{}
	if o == nil {
		return q, ListOptions{}
	}
	setString(q, "resourceGroup", o.ResourceGroup)
	setString(q, "companyId", o.CompanyID)
	return q, o.ListOptions
}

// ListForSubscription returns one page of a subscription's usage summaries.
func (s *UsageSummariesService) ListForSubscription(ctx context.Context, subscriptionID string, opts *UsageSummaryListOptions) (*Page[UsageSummary], error) {
	p, err := pathf("/subscriptions/%s/usage-summaries", subscriptionID)
	if err != nil {
		return nil, err
	}
	q, lo := opts.query()
	lo.values(q)
	return list[UsageSummary](ctx, s.c, p, q)
}

// AllForSubscription iterates over every usage summary of a subscription.
func (s *UsageSummariesService) AllForSubscription(ctx context.Context, subscriptionID string, opts *UsageSummaryListOptions) iter.Seq2[UsageSummary, error] {
	p, err := pathf("/subscriptions/%s/usage-summaries", subscriptionID)
	if err != nil {
		return errSeq[UsageSummary](err)
	}
	q, lo := opts.query()
	return all[UsageSummary](ctx, s.c, p, q, lo)
}

// Get returns one usage summary.
func (s *UsageSummariesService) Get(ctx context.Context, id string) (*UsageSummary, error) {
	p, err := pathf("/usage-summaries/%s", id)
	if err != nil {
		return nil, err
	}
	var out UsageSummary
	if err := s.c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UsageLineListOptions filters [UsageSummariesService.Lines]. Pax8 pages
// usage lines although its spec does not say so.
type UsageLineListOptions struct {
	ListOptions
	UsageDate Date
	ProductID string
}

func (o *UsageLineListOptions) query() (url.Values, ListOptions) {
	q := url.Values{}
	if o == nil {
		return q, ListOptions{}
	}
	setDate(q, "usageDate", o.UsageDate)
	setString(q, "productId", o.ProductID)
	return q, o.ListOptions
}

// Lines returns one page of a usage summary's usage lines.
func (s *UsageSummariesService) Lines(ctx context.Context, usageSummaryID string, opts *UsageLineListOptions) (*Page[UsageLine], error) {
	p, err := pathf("/usage-summaries/%s/usage-lines", usageSummaryID)
	if err != nil {
		return nil, err
	}
	q, lo := opts.query()
	lo.values(q)
	return list[UsageLine](ctx, s.c, p, q)
}

// AllLines iterates over every usage line of a usage summary.
func (s *UsageSummariesService) AllLines(ctx context.Context, usageSummaryID string, opts *UsageLineListOptions) iter.Seq2[UsageLine, error] {
	p, err := pathf("/usage-summaries/%s/usage-lines", usageSummaryID)
	if err != nil {
		return errSeq[UsageLine](err)
	}
	q, lo := opts.query()
	return all[UsageLine](ctx, s.c, p, q, lo)
}

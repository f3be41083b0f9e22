package pax8

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// ProductsService reads the product catalogue under /products. Reach it
// through [Client.Products]. Pricing, provisioning details and dependencies
// are dynamic data: fetch them when needed rather than caching them.
type ProductsService struct{ c *Client }

// ProductListOptions filters [ProductsService.List]. Sort accepts name and
// vendor. Search matches product names and SKUs.
type ProductListOptions struct {
	ListOptions
	Search     string
	VendorName string
}

func (o *ProductListOptions) query() (url.Values, ListOptions) {
	q := url.Values{}
	if o == nil {
		return q, ListOptions{}
	}
	setString(q, "search", o.Search)
	setString(q, "vendorName", o.VendorName)
	return q, o.ListOptions
}

// List returns one page of products.
func (s *ProductsService) List(ctx context.Context, opts *ProductListOptions) (*Page[Product], error) {
	q, lo := opts.query()
	lo.values(q)
	return list[Product](ctx, s.c, "/products", q)
}

// All iterates over every product matching opts.
func (s *ProductsService) All(ctx context.Context, opts *ProductListOptions) iter.Seq2[Product, error] {
	q, lo := opts.query()
	return all[Product](ctx, s.c, "/products", q, lo)
}

// Get returns a product with its long description.
func (s *ProductsService) Get(ctx context.Context, id string) (*ProductDetail, error) {
	p, err := pathf("/products/%s", id)
	if err != nil {
		return nil, err
	}
	var out ProductDetail
	if err := s.c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ProvisionDetails returns the questions an order for the product must
// answer in its line item's ProvisioningDetails.
func (s *ProductsService) ProvisionDetails(ctx context.Context, id string) ([]ProvisioningDetail, error) {
	p, err := pathf("/products/%s/provision-details", id)
	if err != nil {
		return nil, err
	}
	return content[ProvisioningDetail](ctx, s.c, p, nil)
}

// Pricing returns the product's prices, one per billing and commitment
// term. With a non-empty companyID the prices are those for that company.
func (s *ProductsService) Pricing(ctx context.Context, id, companyID string) ([]Pricing, error) {
	p, err := pathf("/products/%s/pricing", id)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	setString(q, "companyId", companyID)
	return content[Pricing](ctx, s.c, p, q)
}

// Dependencies returns the commitments the product can be ordered with and
// the products it depends on.
func (s *ProductsService) Dependencies(ctx context.Context, id string) (*Dependencies, error) {
	p, err := pathf("/products/%s/dependencies", id)
	if err != nil {
		return nil, err
	}
	var out Dependencies
	if err := s.c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

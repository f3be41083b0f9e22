package pax8

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// CompaniesService manages companies: GET, POST /companies and GET, PATCH
// /companies/{companyId}. Reach it through [Client.Companies].
type CompaniesService struct{ c *Client }

// CompanyListOptions filters [CompaniesService.List]. Sort accepts name,
// city, country, stateOrProvince and postalCode, optionally with ",desc".
// Nil booleans and empty strings do not filter.
type CompanyListOptions struct {
	ListOptions
	City                  string
	Country               string
	StateOrProvince       string
	PostalCode            string
	SelfServiceAllowed    *bool
	BillOnBehalfOfEnabled *bool
	OrderApprovalRequired *bool
	Status                CompanyStatus
}

func (o *CompanyListOptions) query() (url.Values, ListOptions) {
	q := url.Values{}
	if o == nil {
		return q, ListOptions{}
	}
	setString(q, "city", o.City)
	setString(q, "country", o.Country)
	setString(q, "stateOrProvince", o.StateOrProvince)
	setString(q, "postalCode", o.PostalCode)
	setBool(q, "selfServiceAllowed", o.SelfServiceAllowed)
	setBool(q, "billOnBehalfOfEnabled", o.BillOnBehalfOfEnabled)
	setBool(q, "orderApprovalRequired", o.OrderApprovalRequired)
	setString(q, "status", string(o.Status))
	return q, o.ListOptions
}

// List returns one page of companies.
func (s *CompaniesService) List(ctx context.Context, opts *CompanyListOptions) (*Page[Company], error) {
	q, lo := opts.query()
	lo.values(q)
	return list[Company](ctx, s.c, "/companies", q)
}

// All iterates over every company matching opts, page by page (see
// [WithConcurrency]). Iteration stops at the first error, which is yielded.
func (s *CompaniesService) All(ctx context.Context, opts *CompanyListOptions) iter.Seq2[Company, error] {
	q, lo := opts.query()
	return all[Company](ctx, s.c, "/companies", q, lo)
}

// Get returns the company with the given id; a missing company is an
// [*Error] matching [ErrNotFound].
func (s *CompaniesService) Get(ctx context.Context, id string) (*Company, error) {
	p, err := pathf("/companies/%s", id)
	if err != nil {
		return nil, err
	}
	var out Company
	if err := s.c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create creates a company. Pax8 requires Name, Address, Phone, Website and
// the three booleans; the company is Inactive until it has a primary
// contact of each type (pass them in c.Contacts to activate it at once).
func (s *CompaniesService) Create(ctx context.Context, c *Company) (*Company, error) {
	if c == nil || c.Name == "" {
		return nil, errors.New("pax8: create company: name is required")
	}
	var out Company
	if err := s.c.do(ctx, http.MethodPost, "/companies", nil, c, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes the fields of the company set in u (PATCH).
func (s *CompaniesService) Update(ctx context.Context, id string, u *CompanyUpdate) (*Company, error) {
	if u.empty() {
		return nil, errors.New("pax8: update company: no field to change")
	}
	p, err := pathf("/companies/%s", id)
	if err != nil {
		return nil, err
	}
	var out Company
	if err := s.c.do(ctx, http.MethodPatch, p, nil, u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func setString(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func setBool(q url.Values, k string, v *bool) {
	if v != nil {
		q.Set(k, strconv.FormatBool(*v))
	}
}

func setDate(q url.Values, k string, d Date) {
	if !d.IsZero() {
		q.Set(k, d.String())
	}
}

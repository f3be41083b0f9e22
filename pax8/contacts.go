package pax8

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
)

// ContactsService manages the contacts of a company, under
// /companies/{companyId}/contacts. Reach it through [Client.Contacts].
type ContactsService struct{ c *Client }

// List returns one page of a company's contacts, newest first.
func (s *ContactsService) List(ctx context.Context, companyID string, opts *ListOptions) (*Page[Contact], error) {
	p, err := pathf("/companies/%s/contacts", companyID)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if opts != nil {
		opts.values(q)
	}
	return list[Contact](ctx, s.c, p, q)
}

// All iterates over every contact of a company.
func (s *ContactsService) All(ctx context.Context, companyID string, opts *ListOptions) iter.Seq2[Contact, error] {
	p, err := pathf("/companies/%s/contacts", companyID)
	if err != nil {
		return errSeq[Contact](err)
	}
	var lo ListOptions
	if opts != nil {
		lo = *opts
	}
	return all[Contact](ctx, s.c, p, url.Values{}, lo)
}

// Get returns one contact of a company.
func (s *ContactsService) Get(ctx context.Context, companyID, contactID string) (*Contact, error) {
	p, err := pathf("/companies/%s/contacts/%s", companyID, contactID)
	if err != nil {
		return nil, err
	}
	var out Contact
	if err := s.c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create adds a contact to a company. FirstName, LastName, Email and Phone
// are required.
func (s *ContactsService) Create(ctx context.Context, companyID string, ct *Contact) (*Contact, error) {
	if ct == nil {
		return nil, errors.New("pax8: create contact: nil contact")
	}
	p, err := pathf("/companies/%s/contacts", companyID)
	if err != nil {
		return nil, err
	}
	var out Contact
	if err := s.c.do(ctx, http.MethodPost, p, nil, ct, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update replaces a contact (PUT): fields left empty in ct are cleared.
func (s *ContactsService) Update(ctx context.Context, companyID, contactID string, ct *Contact) (*Contact, error) {
	if ct == nil {
		return nil, errors.New("pax8: update contact: nil contact")
	}
	p, err := pathf("/companies/%s/contacts/%s", companyID, contactID)
	if err != nil {
		return nil, err
	}
	var out Contact
	if err := s.c.do(ctx, http.MethodPut, p, nil, ct, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes a contact from a company.
func (s *ContactsService) Delete(ctx context.Context, companyID, contactID string) error {
	p, err := pathf("/companies/%s/contacts/%s", companyID, contactID)
	if err != nil {
		return err
	}
	return s.c.do(ctx, http.MethodDelete, p, nil, nil, nil)
}

// errSeq returns a sequence that yields err once.
func errSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}

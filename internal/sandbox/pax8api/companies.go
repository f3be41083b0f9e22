package pax8api

import (
	"fmt"
	"net/http"
	"strings"
)

// address is Pax8's Address schema.
type address struct {
	Street          string `json:"street,omitempty"`
	Street2         string `json:"street2,omitempty"`
	City            string `json:"city,omitempty"`
	StateOrProvince string `json:"stateOrProvince,omitempty"`
	PostalCode      string `json:"postalCode,omitempty"`
	Country         string `json:"country,omitempty"`
}

// company is Pax8's Company schema as the API returns it. Contacts are kept
// separately; the API accepts them only on create.
type company struct {
	ID                    string  `json:"id"`
	Name                  string  `json:"name"`
	Address               address `json:"address"`
	Phone                 string  `json:"phone"`
	Website               string  `json:"website"`
	ExternalID            string  `json:"externalId,omitempty"`
	BillOnBehalfOfEnabled bool    `json:"billOnBehalfOfEnabled"`
	SelfServiceAllowed    bool    `json:"selfServiceAllowed"`
	OrderApprovalRequired bool    `json:"orderApprovalRequired"`
	Status                string  `json:"status"`
	UpdatedDate           string  `json:"updatedDate"`
}

// Company statuses: a company is Inactive until it has a primary contact of
// each type.
const (
	companyActive   = "Active"
	companyInactive = "Inactive"
	companyDeleted  = "Deleted"
)

// companyInput is the body of POST and PATCH /companies; pointers tell a
// missing field from a zero one.
type companyInput struct {
	Name                  *string        `json:"name"`
	Address               *address       `json:"address"`
	Phone                 *string        `json:"phone"`
	Website               *string        `json:"website"`
	ExternalID            *string        `json:"externalId"`
	BillOnBehalfOfEnabled *bool          `json:"billOnBehalfOfEnabled"`
	SelfServiceAllowed    *bool          `json:"selfServiceAllowed"`
	OrderApprovalRequired *bool          `json:"orderApprovalRequired"`
	Contacts              []contactInput `json:"contacts"`
}

var companySort = sortKeys[company]{
	"name":            byString(func(c *company) string { return c.Name }),
	"city":            byString(func(c *company) string { return c.Address.City }),
	"country":         byString(func(c *company) string { return c.Address.Country }),
	"stateOrProvince": byString(func(c *company) string { return c.Address.StateOrProvince }),
	"postalCode":      byString(func(c *company) string { return c.Address.PostalCode }),
}

// company returns the company with that id or a Pax8 404.
func (d *dataset) company(id string) (*company, error) {
	c, ok := d.companyByID[id]
	if !ok {
		return nil, notFound("Company", id)
	}
	return c, nil
}

func (a *API) listCompanies(w http.ResponseWriter, r *http.Request, d *dataset) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	status, err := oneOf(q, "status", companyActive, companyInactive, companyDeleted)
	if err != nil {
		return err
	}
	type boolFilter struct {
		want, set bool
		get       func(*company) bool
	}
	var bools []boolFilter
	for name, get := range map[string]func(*company) bool{
		"selfServiceAllowed":    func(c *company) bool { return c.SelfServiceAllowed },
		"billOnBehalfOfEnabled": func(c *company) bool { return c.BillOnBehalfOfEnabled },
		"orderApprovalRequired": func(c *company) bool { return c.OrderApprovalRequired },
	} {
		v, set, err := parseBool(q, name)
		if err != nil {
			return err
		}
		if set {
			bools = append(bools, boolFilter{v, set, get})
		}
	}
	city, country := q.Get("city"), q.Get("country")
	region, postal := q.Get("stateOrProvince"), q.Get("postalCode")

	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []*company
outer:
	for _, c := range d.companies {
		switch {
		case status != "" && c.Status != status,
			city != "" && !strings.EqualFold(c.Address.City, city),
			country != "" && !strings.EqualFold(c.Address.Country, country),
			region != "" && !strings.EqualFold(c.Address.StateOrProvince, region),
			postal != "" && !strings.EqualFold(c.Address.PostalCode, postal):
			continue
		}
		for _, f := range bools {
			if f.get(c) != f.want {
				continue outer
			}
		}
		out = append(out, c)
	}
	if err := sortBy(out, q, companySort); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(out, p))
	return nil
}

func (a *API) getCompany(w http.ResponseWriter, r *http.Request, d *dataset) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, err := d.company(r.PathValue("companyId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, *c)
	return nil
}

func (a *API) createCompany(w http.ResponseWriter, r *http.Request, d *dataset) error {
	var in companyInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	var v validation
	if blank(in.Name) {
		v.addf("name is required")
	}
	if in.Address == nil {
		v.addf("address is required")
	} else if !countryPattern.MatchString(in.Address.Country) {
		v.addf("address.country must match ^[A-Z]{2}$")
	}
	if blank(in.Phone) {
		v.addf("phone is required")
	}
	if blank(in.Website) {
		v.addf("website is required")
	}
	if in.BillOnBehalfOfEnabled == nil {
		v.addf("billOnBehalfOfEnabled is required")
	}
	if in.SelfServiceAllowed == nil {
		v.addf("selfServiceAllowed is required")
	}
	if in.OrderApprovalRequired == nil {
		v.addf("orderApprovalRequired is required")
	}
	for i := range in.Contacts {
		in.Contacts[i].validate(&v, fmt.Sprintf("contacts[%d].", i))
	}
	if err := v.err("Invalid Company"); err != nil {
		return err
	}

	now := a.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	c := &company{
		ID:                    d.rng.uuid(),
		Name:                  strings.TrimSpace(*in.Name),
		Address:               *in.Address,
		Phone:                 *in.Phone,
		Website:               *in.Website,
		BillOnBehalfOfEnabled: *in.BillOnBehalfOfEnabled,
		SelfServiceAllowed:    *in.SelfServiceAllowed,
		OrderApprovalRequired: *in.OrderApprovalRequired,
		Status:                companyInactive,
		UpdatedDate:           offsetStamp(now),
	}
	if in.ExternalID != nil {
		c.ExternalID = *in.ExternalID
	}
	d.addCompany(c)
	for _, ci := range in.Contacts {
		d.addContact(c, ci.toContact(d.rng.uuid(), c.Address.Country, now))
	}
	d.refreshStatus(c)
	writeJSON(w, http.StatusOK, *c)
	return nil
}

// updateCompany applies a PATCH: only the fields present change, and at least
// one must actually change ("ATTENTION - at least one parameter has to be
// modified").
func (a *API) updateCompany(w http.ResponseWriter, r *http.Request, d *dataset) error {
	var in companyInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old, err := d.company(r.PathValue("companyId"))
	if err != nil {
		return err
	}
	next := *old
	var v validation
	if in.Name != nil {
		if blank(in.Name) {
			v.addf("name must not be empty")
		}
		next.Name = strings.TrimSpace(*in.Name)
	}
	if in.Address != nil {
		next.Address = mergeAddress(old.Address, *in.Address)
		if !countryPattern.MatchString(next.Address.Country) {
			v.addf("address.country must match ^[A-Z]{2}$")
		}
	}
	setString(&next.Phone, in.Phone)
	setString(&next.Website, in.Website)
	setString(&next.ExternalID, in.ExternalID)
	setBool(&next.BillOnBehalfOfEnabled, in.BillOnBehalfOfEnabled)
	setBool(&next.SelfServiceAllowed, in.SelfServiceAllowed)
	setBool(&next.OrderApprovalRequired, in.OrderApprovalRequired)
	if len(in.Contacts) > 0 {
		v.addf("contacts can only be set when a company is created; use the contacts endpoints")
	}
	if v.ok() && next == *old {
		v.addf("at least one parameter has to be modified")
	}
	if err := v.err("Invalid Company"); err != nil {
		return err
	}
	next.UpdatedDate = offsetStamp(a.now())
	*old = next
	writeJSON(w, http.StatusOK, next)
	return nil
}

// mergeAddress overlays the non-empty fields of patch on base.
func mergeAddress(base, patch address) address {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&base.Street, patch.Street}, {&base.Street2, patch.Street2}, {&base.City, patch.City},
		{&base.StateOrProvince, patch.StateOrProvince}, {&base.PostalCode, patch.PostalCode},
		{&base.Country, patch.Country},
	} {
		if f.src != "" {
			*f.dst = f.src
		}
	}
	return base
}

func setString(dst *string, src *string) {
	if src != nil {
		*dst = *src
	}
}

func setBool(dst *bool, src *bool) {
	if src != nil {
		*dst = *src
	}
}

package pax8api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Contact types; a company needs a primary contact of each to be Active.
var contactTypes = []string{"Admin", "Billing", "Technical"}

// contactType is Pax8's ContactType schema.
type contactType struct {
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

// contact is Pax8's Contact schema. The phone* fields are undocumented but
// returned by the live API (provider facts §1.9).
type contact struct {
	ID                      string        `json:"id"`
	FirstName               string        `json:"firstName"`
	LastName                string        `json:"lastName"`
	Email                   string        `json:"email"`
	Phone                   string        `json:"phone"`
	PhoneNumber             string        `json:"phoneNumber,omitempty"`
	PhoneCountryCode        string        `json:"phoneCountryCode,omitempty"`
	PhoneCountryCallingcode string        `json:"phoneCountryCallingcode,omitempty"`
	CreatedDate             string        `json:"createdDate"`
	Types                   []contactType `json:"types"`
}

// contactInput is the body of POST and PUT contacts and an item of a new
// company's contacts.
type contactInput struct {
	FirstName *string       `json:"firstName"`
	LastName  *string       `json:"lastName"`
	Email     *string       `json:"email"`
	Phone     *string       `json:"phone"`
	Types     []contactType `json:"types"`
}

// validate reports missing required fields and bad types, prefixing field
// names with prefix.
func (in *contactInput) validate(v *validation, prefix string) {
	for _, f := range []struct {
		name string
		val  *string
	}{{"firstName", in.FirstName}, {"lastName", in.LastName}, {"email", in.Email}, {"phone", in.Phone}} {
		if blank(f.val) {
			v.addf("%s%s is required", prefix, f.name)
		}
	}
	if !blank(in.Email) && !emailPattern.MatchString(*in.Email) {
		v.addf("%semail is not a valid email address", prefix)
	}
	seen := map[string]bool{}
	for _, t := range in.Types {
		if !slices.Contains(contactTypes, t.Type) {
			v.addf("%stypes: %q is not one of Admin, Billing, Technical", prefix, t.Type)
		}
		if seen[t.Type] {
			v.addf("%stypes: %q is listed twice", prefix, t.Type)
		}
		seen[t.Type] = true
	}
}

// toContact builds the stored contact; the inputs were validated.
func (in *contactInput) toContact(id, country string, now time.Time) *contact {
	c := &contact{
		ID:          id,
		FirstName:   strings.TrimSpace(*in.FirstName),
		LastName:    strings.TrimSpace(*in.LastName),
		Email:       strings.TrimSpace(*in.Email),
		Phone:       strings.TrimSpace(*in.Phone),
		CreatedDate: day(now),
		Types:       slices.Clone(in.Types),
	}
	if c.Types == nil {
		c.Types = []contactType{}
	}
	setPhoneParts(c, country)
	return c
}

// setPhoneParts fills the live API's split phone fields.
func setPhoneParts(c *contact, country string) {
	if code, ok := callingCodes[country]; ok {
		c.PhoneNumber = strings.NewReplacer("-", "", " ", "", "(", "", ")", "").Replace(c.Phone)
		c.PhoneCountryCode = country
		c.PhoneCountryCallingcode = code
	}
}

// addContact stores c for the company, demoting any other contact that was
// primary for a type c is primary for. Types slices are replaced, never
// edited in place, because readers copy contacts under the read lock.
func (d *dataset) addContact(co *company, c *contact) {
	d.demote(co.ID, c)
	d.contacts[co.ID] = append(d.contacts[co.ID], c)
	d.contactCount++
}

func (d *dataset) demote(companyID string, primary *contact) {
	for _, t := range primary.Types {
		if !t.Primary {
			continue
		}
		for _, other := range d.contacts[companyID] {
			if other.ID == primary.ID {
				continue
			}
			if i := slices.IndexFunc(other.Types, func(o contactType) bool { return o.Type == t.Type && o.Primary }); i >= 0 {
				types := slices.Clone(other.Types)
				types[i].Primary = false
				other.Types = types
			}
		}
	}
}

// hasAllPrimaries reports whether contacts include a primary contact of each
// type.
func hasAllPrimaries(contacts []*contact) bool {
	for _, want := range contactTypes {
		found := false
		for _, c := range contacts {
			if slices.Contains(c.Types, contactType{Type: want, Primary: true}) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// refreshStatus activates an Inactive company once it has every primary
// contact type.
func (d *dataset) refreshStatus(co *company) {
	if co.Status == companyInactive && hasAllPrimaries(d.contacts[co.ID]) {
		co.Status = companyActive
	}
}

// contact returns the company and its contact with that id, or a Pax8 404.
func (d *dataset) contact(companyID, contactID string) (*company, *contact, int, error) {
	co, err := d.company(companyID)
	if err != nil {
		return nil, nil, 0, err
	}
	for i, c := range d.contacts[companyID] {
		if c.ID == contactID {
			return co, c, i, nil
		}
	}
	return nil, nil, 0, notFound("Contact", contactID)
}

// listContacts returns the company's contacts ordered by createdDate
// descending, newest first.
func (a *API) listContacts(w http.ResponseWriter, r *http.Request, d *dataset) error {
	p, err := parsePage(r.URL.Query())
	if err != nil {
		return err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	co, err := d.company(r.PathValue("companyId"))
	if err != nil {
		return err
	}
	list := slices.Clone(d.contacts[co.ID])
	slices.Reverse(list)
	writeJSON(w, http.StatusOK, pageOf(list, p))
	return nil
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request, d *dataset) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, c, _, err := d.contact(r.PathValue("companyId"), r.PathValue("contactId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, *c)
	return nil
}

func (a *API) createContact(w http.ResponseWriter, r *http.Request, d *dataset) error {
	var in contactInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	co, err := d.company(r.PathValue("companyId"))
	if err != nil {
		return err
	}
	var v validation
	in.validate(&v, "")
	if err := v.err("Invalid Contact"); err != nil {
		return err
	}
	c := in.toContact(d.rng.uuid(), co.Address.Country, a.now())
	d.addContact(co, c)
	d.refreshStatus(co)
	writeJSON(w, http.StatusOK, *c)
	return nil
}

// updateContact replaces a contact's fields. A change that would leave an
// Active company without a primary contact of some type is refused.
func (a *API) updateContact(w http.ResponseWriter, r *http.Request, d *dataset) error {
	var in contactInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	co, old, i, err := d.contact(r.PathValue("companyId"), r.PathValue("contactId"))
	if err != nil {
		return err
	}
	var v validation
	in.validate(&v, "")
	if err := v.err("Invalid Contact"); err != nil {
		return err
	}
	next := in.toContact(old.ID, co.Address.Country, a.now())
	next.CreatedDate = old.CreatedDate
	after := slices.Clone(d.contacts[co.ID])
	after[i] = next
	if co.Status == companyActive && !hasAllPrimaries(withDemotion(after, next)) {
		return unprocessable("Invalid contact update", "a company must have a primary contact for each contact type")
	}
	d.contacts[co.ID][i] = next
	d.demote(co.ID, next)
	d.refreshStatus(co)
	writeJSON(w, http.StatusOK, *next)
	return nil
}

// withDemotion returns contacts as they would be once primary's primary types
// are taken from the others, without changing them.
func withDemotion(contacts []*contact, primary *contact) []*contact {
	out := make([]*contact, len(contacts))
	for i, c := range contacts {
		cp := *c
		if c.ID != primary.ID {
			cp.Types = slices.Clone(c.Types)
			for j, t := range cp.Types {
				if slices.Contains(primary.Types, contactType{Type: t.Type, Primary: true}) {
					cp.Types[j].Primary = false
				}
			}
		}
		out[i] = &cp
	}
	return out
}

// deleteContact removes a contact; the last primary contact of a type on an
// Active company cannot be deleted.
func (a *API) deleteContact(w http.ResponseWriter, r *http.Request, d *dataset) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	co, _, i, err := d.contact(r.PathValue("companyId"), r.PathValue("contactId"))
	if err != nil {
		return err
	}
	after := slices.Delete(slices.Clone(d.contacts[co.ID]), i, i+1)
	if co.Status == companyActive && !hasAllPrimaries(after) {
		return unprocessable("Invalid contact delete",
			fmt.Sprintf("contact %s is a primary contact; a company must have a primary contact for each contact type", r.PathValue("contactId")))
	}
	d.contacts[co.ID] = after
	d.contactCount--
	w.WriteHeader(http.StatusNoContent)
	return nil
}

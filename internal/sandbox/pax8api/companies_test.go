package pax8api

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// validCompany returns a create-company body that passes validation; tests
// delete or change fields from it.
func validCompany() map[string]any {
	return map[string]any{
		"name":                  "VFC Network, Inc",
		"address":               map[string]any{"street": "48918 Liberty Lane Ave", "city": "Denver", "postalCode": "80210", "country": "US", "stateOrProvince": "Colorado"},
		"phone":                 "123-456-5555",
		"website":               "vfc-network-inc-liberty.com",
		"billOnBehalfOfEnabled": false,
		"selfServiceAllowed":    false,
		"orderApprovalRequired": false,
	}
}

func contactBody(first string, types ...string) map[string]any {
	var ts []map[string]any
	for _, typ := range types {
		ts = append(ts, map[string]any{"type": typ, "primary": true})
	}
	return map[string]any{"firstName": first, "lastName": "Doe", "email": strings.ToLower(first) + "@example.com", "phone": "555-555-5555", "types": ts}
}

func TestCreateCompanyValidation(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	tests := []struct {
		name       string
		edit       func(m map[string]any)
		wantDetail string
	}{
		{"missing name", func(m map[string]any) { delete(m, "name") }, "name is required"},
		{"blank name", func(m map[string]any) { m["name"] = "  " }, "name is required"},
		{"missing address", func(m map[string]any) { delete(m, "address") }, "address is required"},
		{"lowercase country", func(m map[string]any) { m["address"].(map[string]any)["country"] = "us" }, "address.country must match ^[A-Z]{2}$"},
		{"three-letter country", func(m map[string]any) { m["address"].(map[string]any)["country"] = "USA" }, "address.country must match ^[A-Z]{2}$"},
		{"missing phone", func(m map[string]any) { delete(m, "phone") }, "phone is required"},
		{"missing website", func(m map[string]any) { delete(m, "website") }, "website is required"},
		{"missing billOnBehalfOfEnabled", func(m map[string]any) { delete(m, "billOnBehalfOfEnabled") }, "billOnBehalfOfEnabled is required"},
		{"missing selfServiceAllowed", func(m map[string]any) { delete(m, "selfServiceAllowed") }, "selfServiceAllowed is required"},
		{"missing orderApprovalRequired", func(m map[string]any) { delete(m, "orderApprovalRequired") }, "orderApprovalRequired is required"},
		{"contact without email", func(m map[string]any) {
			c := contactBody("Ann", "Admin")
			delete(c, "email")
			m["contacts"] = []any{c}
		}, "contacts[0].email is required"},
		{"contact with bad type", func(m map[string]any) { m["contacts"] = []any{contactBody("Ann", "Owner")} }, `contacts[0].types: "Owner" is not one of Admin, Billing, Technical`},
	}
	before, _ := s.api.Counts("partner-a")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := validCompany()
			tt.edit(body)
			got := call[pax8Error](s, "", http.MethodPost, "/companies", body, http.StatusUnprocessableEntity)
			if !hasDetail(got, tt.wantDetail) {
				t.Errorf("POST /companies details = %+v, want %q", got.Details, tt.wantDetail)
			}
		})
	}
	if after, _ := s.api.Counts("partner-a"); after != before {
		t.Errorf("rejected creates changed the company count from %d to %d", before, after)
	}
}

func hasDetail(e pax8Error, want string) bool {
	for _, d := range e.Details {
		if strings.Contains(d.Message, want) {
			return true
		}
	}
	return false
}

// TestCompanyActivation follows Pax8's rule: a company is Inactive until it
// has a primary Admin, Billing and Technical contact.
func TestCompanyActivation(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})

	c := call[company](s, "", http.MethodPost, "/companies", validCompany(), http.StatusOK)
	if c.Status != companyInactive || c.ID == "" {
		t.Fatalf("new company without contacts = %+v, want an Inactive company with an id", c)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0600$`).MatchString(c.UpdatedDate) {
		t.Errorf("updatedDate = %q, want the -0600 offset form", c.UpdatedDate)
	}
	path := "/companies/" + c.ID
	call[contact](s, "", http.MethodPost, path+"/contacts", contactBody("Ann", "Admin", "Billing"), http.StatusOK)
	if got := get[company](s, path).Status; got != companyInactive {
		t.Errorf("status with Admin and Billing primaries = %q, want Inactive", got)
	}
	tech := call[contact](s, "", http.MethodPost, path+"/contacts", contactBody("Tom", "Technical"), http.StatusOK)
	if got := get[company](s, path).Status; got != companyActive {
		t.Errorf("status with all three primaries = %q, want Active", got)
	}

	// The last primary Technical contact of an Active company stays.
	e := call[pax8Error](s, "", http.MethodDelete, path+"/contacts/"+tech.ID, nil, http.StatusUnprocessableEntity)
	if !hasDetail(e, "primary contact for each contact type") {
		t.Errorf("deleting the only Technical primary: %+v", e)
	}
	// Once another contact takes over as Technical primary, it can go.
	bob := call[contact](s, "", http.MethodPost, path+"/contacts", contactBody("Bob", "Technical"), http.StatusOK)
	call[struct{}](s, "", http.MethodDelete, path+"/contacts/"+tech.ID, nil, http.StatusNoContent)
	call[pax8Error](s, "", http.MethodGet, path+"/contacts/"+tech.ID, nil, http.StatusNotFound)

	list := get[paged[contact]](s, path+"/contacts")
	var names []string
	for _, ct := range list.Content {
		names = append(names, ct.FirstName)
	}
	if strings.Join(names, ",") != "Bob,Ann" {
		t.Errorf("contacts listed as %v, want newest first [Bob Ann]", names)
	}
	if got := get[contact](s, path+"/contacts/"+bob.ID); got.Email != "bob@example.com" || got.PhoneCountryCallingcode != "1" {
		t.Errorf("GET contact = %+v", got)
	}
}

func TestCreateCompanyWithContactsIsActive(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	body := validCompany()
	body["contacts"] = []any{contactBody("John", "Admin", "Billing", "Technical")}
	c := call[company](s, "", http.MethodPost, "/companies", body, http.StatusOK)
	if c.Status != companyActive {
		t.Errorf("company created with primary contacts has status %q, want Active", c.Status)
	}
	if got := get[paged[contact]](s, "/companies/"+c.ID+"/contacts").Page.TotalElements; got != 1 {
		t.Errorf("company has %d contacts, want 1", got)
	}
	if got := get[company](s, "/companies/"+c.ID); got != c {
		t.Errorf("GET company = %+v, want %+v", got, c)
	}
}

func TestUpdateCompany(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	c := get[paged[company]](s, "/companies?status=Active&size=1").Content[0]
	path := "/companies/" + c.ID

	e := call[pax8Error](s, "", http.MethodPatch, path, map[string]any{"name": c.Name}, http.StatusUnprocessableEntity)
	if !hasDetail(e, "at least one parameter has to be modified") {
		t.Errorf("PATCH without a change: %+v", e)
	}
	call[pax8Error](s, "", http.MethodPatch, path, map[string]any{"address": map[string]any{"country": "usa"}}, http.StatusUnprocessableEntity)

	got := call[company](s, "", http.MethodPatch, path, map[string]any{"name": "Renamed Ltd", "address": map[string]any{"city": "Boulder"}}, http.StatusOK)
	want := c
	want.Name, want.Address.City, want.UpdatedDate = "Renamed Ltd", "Boulder", got.UpdatedDate
	if got != want {
		t.Errorf("PATCH result = %+v, want %+v", got, want)
	}
	if again := get[company](s, path); again != got {
		t.Errorf("GET after PATCH = %+v, want %+v", again, got)
	}
}

func TestCompanyFilters(t *testing.T) {
	s := newTestServer(t, Options{Seed: 5, Size: Size{Companies: 120}})
	all := allPages[company](s, "/companies")
	filters := map[string]func(c company) bool{
		"status=Inactive":            func(c company) bool { return c.Status == companyInactive },
		"status=Deleted":             func(c company) bool { return c.Status == companyDeleted },
		"country=CA":                 func(c company) bool { return c.Address.Country == "CA" },
		"city=denver":                func(c company) bool { return c.Address.City == "Denver" },
		"selfServiceAllowed=true":    func(c company) bool { return c.SelfServiceAllowed },
		"billOnBehalfOfEnabled=true": func(c company) bool { return c.BillOnBehalfOfEnabled },
		"orderApprovalRequired=false&country=US": func(c company) bool {
			return !c.OrderApprovalRequired && c.Address.Country == "US"
		},
	}
	for q, match := range filters {
		want := 0
		for _, c := range all {
			if match(c) {
				want++
			}
		}
		got := allPages[company](s, "/companies?"+q)
		if len(got) != want || want == 0 {
			t.Errorf("GET /companies?%s returned %d, want %d (and more than 0)", q, len(got), want)
		}
		for _, c := range got {
			if !match(c) {
				t.Errorf("GET /companies?%s returned non-matching %+v", q, c)
			}
		}
	}
	for _, q := range []string{"status=Gone", "selfServiceAllowed=maybe"} {
		call[pax8Error](s, "", http.MethodGet, "/companies?"+q, nil, http.StatusBadRequest)
	}
}

func TestContactValidation(t *testing.T) {
	s := newTestServer(t, Options{Seed: 1})
	c := get[paged[company]](s, "/companies?size=1").Content[0]
	for _, field := range []string{"firstName", "lastName", "email", "phone"} {
		body := contactBody("Ann", "Admin")
		delete(body, field)
		e := call[pax8Error](s, "", http.MethodPost, "/companies/"+c.ID+"/contacts", body, http.StatusUnprocessableEntity)
		if !hasDetail(e, field+" is required") {
			t.Errorf("contact without %s: %+v", field, e)
		}
	}
	body := contactBody("Ann", "Admin")
	body["email"] = "not-an-email"
	call[pax8Error](s, "", http.MethodPost, "/companies/"+c.ID+"/contacts", body, http.StatusUnprocessableEntity)
	call[pax8Error](s, "", http.MethodPost, "/companies/nope/contacts", contactBody("Ann", "Admin"), http.StatusNotFound)

	ct := call[contact](s, "", http.MethodPost, "/companies/"+c.ID+"/contacts", contactBody("Ann"), http.StatusOK)
	upd := contactBody("Annie")
	got := call[contact](s, "", http.MethodPut, "/companies/"+c.ID+"/contacts/"+ct.ID, upd, http.StatusOK)
	if got.FirstName != "Annie" || got.ID != ct.ID || got.CreatedDate != ct.CreatedDate {
		t.Errorf("PUT contact = %+v", got)
	}
	delete(upd, "phone")
	call[pax8Error](s, "", http.MethodPut, "/companies/"+c.ID+"/contacts/"+ct.ID, upd, http.StatusUnprocessableEntity)
}

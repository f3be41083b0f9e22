package orgmap_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/grantd/grantd/internal/orgmap"
	"github.com/grantd/grantd/internal/sandbox/pax8api"
)

// TestMappingFlow runs the whole mapping life cycle over the JSON API
// against the sandbox's seeded companies: upload organisations, get
// suggestions, accept them, set, replace and delete single mappings.
func TestMappingFlow(t *testing.T) {
	v := newEnv(t)
	conn := v.connA.ID

	res := v.mappings(v.keyA, conn)
	if got := len(res.UnmappedCompanies); got != pax8api.DefaultCompanies {
		t.Fatalf("unmapped companies before any upload = %d, want the sandbox's %d", got, pax8api.DefaultCompanies)
	}
	if len(res.Mappings)+len(res.Suggestions)+len(res.UnmappedOrganizations) != 0 {
		t.Errorf("with no organisations: %+v, want only unmapped companies", res)
	}
	companies := res.UnmappedCompanies // sorted by name

	// The tenant's own records: three companies spelt differently, one
	// unrelated organisation.
	orgs := []orgmap.Organization{
		{ID: "org-1", Name: strings.ToUpper(companies[0].Name) + ", Inc."},
		{ID: "org-2", Name: "The " + companies[1].Name},
		{ID: "org-3", Name: strings.ReplaceAll(companies[2].Name, " ", "  ") + " L.L.C."},
		{ID: "org-9", Name: "Zzyzx Unrelated Holdings"},
	}
	var listed struct{ Organizations []orgmap.Organization }
	if st := v.do(v.keyA, http.MethodPut, "/v1/organizations", map[string]any{"organizations": orgs}, &listed); st != http.StatusOK {
		t.Fatalf("PUT /v1/organizations = %d, want 200", st)
	}
	if diff := cmp.Diff(orgs, listed.Organizations); diff != "" {
		t.Errorf("PUT /v1/organizations response (-want +got):\n%s", diff)
	}

	res = v.mappings(v.keyA, conn)
	wantSug := []orgmap.Suggestion{
		{CompanyID: companies[0].ID, CompanyName: companies[0].Name, OrgID: "org-1", OrgName: orgs[0].Name, Score: 1},
		{CompanyID: companies[1].ID, CompanyName: companies[1].Name, OrgID: "org-2", OrgName: orgs[1].Name, Score: 1},
		{CompanyID: companies[2].ID, CompanyName: companies[2].Name, OrgID: "org-3", OrgName: strings.TrimSpace(orgs[2].Name), Score: 1},
	}
	if diff := cmp.Diff(wantSug, res.Suggestions); diff != "" {
		t.Errorf("suggestions (-want +got):\n%s", diff)
	}
	if got := len(res.UnmappedOrganizations); got != 4 {
		t.Errorf("unmapped organisations = %d, want 4", got)
	}

	var accepted struct{ Mappings []orgmap.Mapping }
	if st := v.do(v.keyA, http.MethodPost, "/v1/connections/"+conn+"/org-mappings/accept-suggestions", nil, &accepted); st != http.StatusOK {
		t.Fatalf("accept-suggestions = %d, want 200", st)
	}
	if len(accepted.Mappings) != 3 {
		t.Errorf("accept-suggestions made %d mappings, want 3", len(accepted.Mappings))
	}
	res = v.mappings(v.keyA, conn)
	var wantMapped []orgmap.Mapping
	for _, s := range wantSug {
		wantMapped = append(wantMapped, orgmap.Mapping{CompanyID: s.CompanyID, CompanyName: s.CompanyName, OrgID: s.OrgID, OrgName: s.OrgName})
	}
	ignoreTime := cmpopts.IgnoreFields(orgmap.Mapping{}, "UpdatedAt")
	if diff := cmp.Diff(wantMapped, res.Mappings, ignoreTime); diff != "" {
		t.Errorf("mappings after accepting (-want +got):\n%s", diff)
	}
	if len(res.Suggestions) != 0 || len(res.UnmappedCompanies) != pax8api.DefaultCompanies-3 {
		t.Errorf("after accepting: %d suggestions, %d unmapped companies; want 0, %d",
			len(res.Suggestions), len(res.UnmappedCompanies), pax8api.DefaultCompanies-3)
	}
	if diff := cmp.Diff([]orgmap.Organization{orgs[3]}, res.UnmappedOrganizations); diff != "" {
		t.Errorf("unmapped organisations after accepting (-want +got):\n%s", diff)
	}

	// Set one by hand, then move it.
	c4 := companies[3]
	var m orgmap.Mapping
	if st := v.do(v.keyA, http.MethodPut, "/v1/connections/"+conn+"/org-mappings/"+c4.ID, map[string]string{"org_id": "org-9"}, &m); st != http.StatusOK {
		t.Fatalf("PUT mapping = %d, want 200", st)
	}
	want := orgmap.Mapping{CompanyID: c4.ID, CompanyName: c4.Name, OrgID: "org-9", OrgName: orgs[3].Name}
	if diff := cmp.Diff(want, m, ignoreTime); diff != "" {
		t.Errorf("PUT mapping (-want +got):\n%s", diff)
	}
	if m.UpdatedAt.IsZero() {
		t.Error("PUT mapping: updated_at is zero")
	}
	if st := v.do(v.keyA, http.MethodPut, "/v1/connections/"+conn+"/org-mappings/"+c4.ID, map[string]string{"org_id": "org-1"}, &m); st != http.StatusOK || m.OrgID != "org-1" {
		t.Errorf("PUT mapping again = %d, %+v; want 200 with org-1", st, m)
	}
	if st := v.do(v.keyA, http.MethodDelete, "/v1/connections/"+conn+"/org-mappings/"+c4.ID, nil, nil); st != http.StatusNoContent {
		t.Errorf("DELETE mapping = %d, want 204", st)
	}
	if got := len(v.mappings(v.keyA, conn).Mappings); got != 3 {
		t.Errorf("mappings after delete = %d, want 3", got)
	}
	var e apiError
	if st := v.do(v.keyA, http.MethodDelete, "/v1/connections/"+conn+"/org-mappings/"+c4.ID, nil, &e); st != http.StatusNotFound {
		t.Errorf("DELETE deleted mapping = %d, want 404", st)
	}
}

// TestMappingBadInput checks that each bad request gets a clear error and
// changes nothing.
func TestMappingBadInput(t *testing.T) {
	v := newEnv(t)
	conn := v.connA.ID
	orgs := map[string]any{"organizations": []orgmap.Organization{{ID: "org-1", Name: "One"}}}
	if st := v.do(v.keyA, http.MethodPut, "/v1/organizations", orgs, nil); st != http.StatusOK {
		t.Fatalf("PUT /v1/organizations = %d", st)
	}
	company := v.mappings(v.keyA, conn).UnmappedCompanies[0].ID
	before := v.mappings(v.keyA, conn)

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"duplicate org ids", "PUT", "/v1/organizations", `{"organizations":[{"id":"a","name":"A"},{"id":"a","name":"B"}]}`, 400, "invalid_request"},
		{"org without name", "PUT", "/v1/organizations", `{"organizations":[{"id":"a","name":"  "}]}`, 400, "invalid_request"},
		{"unknown field", "PUT", "/v1/organizations", `{"orgs":[]}`, 400, "invalid_request"},
		{"wrong type", "PUT", "/v1/organizations", `{"organizations":{"id":"a"}}`, 400, "invalid_request"},
		{"missing list", "PUT", "/v1/organizations", `{}`, 400, "invalid_request"},
		{"not json", "PUT", "/v1/organizations", `id,name`, 400, "invalid_request"},
		{"missing org_id", "PUT", "/v1/connections/" + conn + "/org-mappings/" + company, `{}`, 400, "invalid_request"},
		{"unknown org", "PUT", "/v1/connections/" + conn + "/org-mappings/" + company, `{"org_id":"org-404"}`, 404, "not_found"},
		{"unknown company", "PUT", "/v1/connections/" + conn + "/org-mappings/00000000-0000-0000-0000-000000000000", `{"org_id":"org-1"}`, 404, "not_found"},
		{"unknown connection", "GET", "/v1/connections/conn_nope/org-mappings", nil, 404, "not_found"},
		{"unknown connection link", "POST", "/v1/connections/conn_nope/mapping-links", nil, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			if st := v.do(v.keyA, tc.method, tc.path, tc.body, &e); st != tc.status || e.Error.Code != tc.code {
				t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, st, e.Error.Code, tc.status, tc.code)
			}
			if e.Error.Message == "" {
				t.Errorf("%s %s: empty error message", tc.method, tc.path)
			}
		})
	}
	if diff := cmp.Diff(before, v.mappings(v.keyA, conn)); diff != "" {
		t.Errorf("state changed after bad requests (-before +after):\n%s", diff)
	}
}

// TestMappingTenantIsolationSEC43 checks that organisations are per tenant
// and that another tenant's connection is not found on every route.
func TestMappingTenantIsolationSEC43(t *testing.T) {
	v := newEnv(t)
	if st := v.do(v.keyA, http.MethodPut, "/v1/organizations",
		map[string]any{"organizations": []orgmap.Organization{{ID: "org-a", Name: "A's org"}}}, nil); st != http.StatusOK {
		t.Fatalf("PUT organizations as A = %d", st)
	}
	var got struct{ Organizations []orgmap.Organization }
	if st := v.do(v.keyB, http.MethodGet, "/v1/organizations", nil, &got); st != http.StatusOK || len(got.Organizations) != 0 {
		t.Errorf("GET organizations as B = %d, %v; want 200 and none", st, got.Organizations)
	}
	company := v.mappings(v.keyA, v.connA.ID).UnmappedCompanies[0].ID
	a := "/v1/connections/" + v.connA.ID
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", a + "/org-mappings", nil},
		{"PUT", a + "/org-mappings/" + company, `{"org_id":"org-a"}`},
		{"DELETE", a + "/org-mappings/" + company, nil},
		{"POST", a + "/org-mappings/accept-suggestions", nil},
		{"POST", a + "/mapping-links", nil},
	} {
		var e apiError
		if st := v.do(v.keyB, tc.method, tc.path, tc.body, &e); st != http.StatusNotFound {
			t.Errorf("%s %s as tenant B = %d %q, want 404", tc.method, tc.path, st, e.Error.Code)
		}
	}
	// B's own connection is another partner, with other companies.
	resA, resB := v.mappings(v.keyA, v.connA.ID), v.mappings(v.keyB, v.connB.ID)
	idsA := map[string]bool{}
	for _, c := range resA.UnmappedCompanies {
		idsA[c.ID] = true
	}
	for _, c := range resB.UnmappedCompanies {
		if idsA[c.ID] {
			t.Errorf("company %s is listed for both partners", c.ID)
		}
	}
	if len(resB.UnmappedOrganizations) != 0 {
		t.Errorf("tenant B sees organisations %v", resB.UnmappedOrganizations)
	}
}

// TestMappingLinks checks link creation, hashing and expiry.
func TestMappingLinks(t *testing.T) {
	v := newEnv(t)
	var l struct {
		ID        string    `json:"id"`
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if st := v.do(v.keyA, http.MethodPost, "/v1/connections/"+v.connA.ID+"/mapping-links", nil, &l); st != http.StatusCreated {
		t.Fatalf("POST mapping-links = %d, want 201", st)
	}
	i := strings.Index(l.URL, orgmap.PagePath)
	if i < 0 {
		t.Fatalf("link URL %q has no %s", l.URL, orgmap.PagePath)
	}
	token := l.URL[i+len(orgmap.PagePath):]
	if len(token) < 40 {
		t.Errorf("link token %q is short", token)
	}
	if d := l.ExpiresAt.Sub(v.clk.Now()); d <= 0 || d > time.Hour+time.Second {
		t.Errorf("link expires in %s, want at most 1h", d)
	}
	got, err := v.svc.ResolveLink(t.Context(), token)
	if err != nil {
		t.Fatalf("ResolveLink = %v", err)
	}
	if got.TenantID != v.tenA.ID || got.ConnectionID != v.connA.ID {
		t.Errorf("ResolveLink = %+v, want tenant %s connection %s", got, v.tenA.ID, v.connA.ID)
	}
	if string(got.TokenHash) == token {
		t.Error("the link token is stored in clear")
	}
	if _, err := v.svc.ResolveLink(t.Context(), token+"x"); err == nil {
		t.Error("ResolveLink(wrong token) = nil error")
	}
	v.clk.Advance(time.Hour)
	if _, err := v.svc.ResolveLink(t.Context(), token); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("ResolveLink after an hour = %v, want expired", err)
	}
}

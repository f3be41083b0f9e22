package orgmap_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/orgmap"
)

// raw sends body with the Content-Type ct ("" sends none) as tenant A and
// returns the status and the error code, if any.
func (v *env) raw(method, path, ct, body string) (int, string) {
	v.t.Helper()
	req, err := http.NewRequestWithContext(v.t.Context(), method, v.srv.URL+path, strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+v.keyA)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e apiError
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error.Code
}

// TestMappingRoutesRequireJSON: the org-mapping JSON routes answer a body
// declared as anything but application/json with 415, like every other
// API route, and store nothing; before, a form post was decoded as JSON.
func TestMappingRoutesRequireJSON(t *testing.T) {
	v := newEnv(t)
	conn := v.connA.ID
	for _, rt := range []struct{ method, path, body string }{
		{"PUT", "/v1/organizations", `{"organizations":[{"id":"o1","name":"Org"}]}`},
		{"PUT", "/v1/connections/" + conn + "/org-mappings/c1", `{"org_id":"o1"}`},
		{"POST", "/v1/connections/" + conn + "/org-mappings/accept-suggestions", `{"company_ids":[]}`},
	} {
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/jsonx"} {
			if st, code := v.raw(rt.method, rt.path, ct, rt.body); st != http.StatusUnsupportedMediaType || code != "invalid_request" {
				t.Errorf("%s %s with Content-Type %s = %d %s, want 415 invalid_request", rt.method, rt.path, ct, st, code)
			}
		}
	}
	var orgs struct{ Organizations []orgmap.Organization }
	if st := v.do(v.keyA, "GET", "/v1/organizations", nil, &orgs); st != http.StatusOK || len(orgs.Organizations) != 0 {
		t.Errorf("organizations after the refusals = %d %+v, want none", st, orgs.Organizations)
	}
	if st, _ := v.raw("PUT", "/v1/organizations", "application/json; charset=utf-8", `{"organizations":[{"id":"o1","name":"Org"}]}`); st != http.StatusOK {
		t.Errorf("PUT /v1/organizations as application/json = %d, want 200", st)
	}
}

// TestMappingRoutesStrictJSON: duplicate, wrongly cased and NUL-bearing
// input is refused with 400 and changes nothing.
func TestMappingRoutesStrictJSON(t *testing.T) {
	v := newEnv(t)
	for _, body := range []string{
		`{"organizations":[{"id":"o1","name":"Org"}],"organizations":[]}`,
		`{"Organizations":[{"id":"o1","name":"Org"}]}`,
		`{"organizations":[{"id":"o1","Name":"Org"}]}`,
		`{"organizations":[{"id":"o1","name":"Org\u0000"}]}`,
		`{"organizations":[{"id":"o1","name":"Org","id":"o2"}]}`,
	} {
		if st, code := v.raw("PUT", "/v1/organizations", "application/json", body); st != http.StatusBadRequest || code != "invalid_request" {
			t.Errorf("PUT /v1/organizations %s = %d %s, want 400 invalid_request", body, st, code)
		}
	}
	var orgs struct{ Organizations []orgmap.Organization }
	if st := v.do(v.keyA, "GET", "/v1/organizations", nil, &orgs); st != http.StatusOK || len(orgs.Organizations) != 0 {
		t.Errorf("organizations after the refusals = %d %+v, want none", st, orgs.Organizations)
	}
}

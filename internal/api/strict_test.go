package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/grantd/grantd/internal/store/storetest"
)

// detailBody is the error shape with its details.
type detailBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
		Details []struct {
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

// TestNULAndInvalidUTF8RefusedOnBothBackends: a NUL byte or invalid UTF-8
// in any body string or path id is a 400 invalid_request naming the field,
// the same on SQLite and PostgreSQL, and stores nothing. Before the strict
// decoder, a tenant named "a\u0000b" was created on SQLite (201) and was an
// internal error on PostgreSQL (500).
func TestNULAndInvalidUTF8RefusedOnBothBackends(t *testing.T) {
	backends := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return storetest.NewSQLite(t) },
		"postgres": func(t *testing.T) string { return storetest.NewPostgres(t) },
	}
	for name, dsn := range backends {
		t.Run(name, func(t *testing.T) {
			e := newEnvOn(t, dsn(t))
			tenantID, key := e.tenant("acme")
			conn := e.connection(tenantID, "at-strict", "active")
			for _, tc := range []struct {
				name, method, path, key, body string
				wantField, wantReason         string
			}{
				{"TenantNameNUL", "POST", "/v1/tenants", e.adminKey, `{"name":"a\u0000b"}`, "/name", "nul_byte"},
				{"TenantNameInvalidUTF8", "POST", "/v1/tenants", e.adminKey, "{\"name\":\"a\xc3\x28b\"}", "", "invalid_utf8"},
				{"TenantNameLoneSurrogate", "POST", "/v1/tenants", e.adminKey, `{"name":"a\udc00b"}`, "/name", "invalid_utf8"},
				{"IntegrationClientIDNUL", "POST", "/v1/integrations", key, `{"provider":"pax8","client_id":"c\u0000","client_secret":"s"}`, "/client_id", "nul_byte"},
				{"ScopeNUL", "POST", "/v1/integrations", key, `{"provider":"pax8","client_id":"c","client_secret":"s","scopes":["a\u0000"]}`, "/scopes/0", "nul_byte"},
				{"ConnectSessionReturnToNUL", "POST", "/v1/connect-sessions", key, `{"provider":"pax8","return_to":"https://app.example/\u0000"}`, "/return_to", "nul_byte"},
				{"PathIDNUL", "GET", "/v1/connections/" + conn + "%00", key, "", "id", "nul_byte"},
				{"PathIDInvalidUTF8", "GET", "/v1/connections/%ff%fe", key, "", "id", "invalid_utf8"},
				{"PathIDNULDelete", "DELETE", "/v1/connections/%00", key, "", "id", "nul_byte"},
				{"PathIDNULRefresh", "POST", "/v1/connections/a%00/refresh", key, "", "id", "nul_byte"},
			} {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				res := e.do(tc.method, tc.path, tc.key, body)
				var b detailBody
				_ = json.Unmarshal(res.body, &b)
				if res.status != http.StatusBadRequest || b.Error.Code != "invalid_request" {
					t.Errorf("%s: %s %s = %d %s, want 400 invalid_request", tc.name, tc.method, tc.path, res.status, res.body)
					continue
				}
				if len(b.Error.Details) != 1 || b.Error.Details[0].Field != tc.wantField || b.Error.Details[0].Reason != tc.wantReason {
					t.Errorf("%s: details %+v, want field %q reason %q", tc.name, b.Error.Details, tc.wantField, tc.wantReason)
				}
			}
			res := e.do("GET", "/v1/tenants", e.adminKey, nil)
			got := decodeJSON[struct {
				Tenants []struct{ Name string } `json:"tenants"`
			}](t, res.body)
			if len(got.Tenants) != 1 || got.Tenants[0].Name != "acme" {
				t.Errorf("tenants after the refusals = %+v, want only acme", got.Tenants)
			}
			ins := decodeJSON[struct {
				Integrations []struct{ ID string } `json:"integrations"`
			}](t, e.do("GET", "/v1/integrations", key, nil).body)
			if len(ins.Integrations) != 1 {
				t.Errorf("integrations after the refusals = %+v, want only the operator's", ins.Integrations)
			}
		})
	}
}

// TestStrictJSONThroughAPI: duplicate names, wrongly cased names and
// unknown names are each a 400 invalid_request that creates nothing
// (encoding/json would take the last duplicate and match "Name" to name).
func TestStrictJSONThroughAPI(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, body, wantField, wantReason string }{
		{"DuplicateName", `{"name":"a","name":"b"}`, "/name", "duplicate_field"},
		{"WrongCaseName", `{"Name":"a"}`, "/Name", "unknown_field"},
		{"UpperCaseName", `{"NAME":"a"}`, "/NAME", "unknown_field"},
		{"UnknownName", `{"name":"a","admin":true}`, "/admin", "unknown_field"},
		{"WrongType", `{"name":7}`, "/name", "wrong_type"},
	} {
		res := e.do("POST", "/v1/tenants", e.adminKey, tc.body)
		var b detailBody
		_ = json.Unmarshal(res.body, &b)
		if res.status != http.StatusBadRequest || b.Error.Code != "invalid_request" ||
			len(b.Error.Details) != 1 || b.Error.Details[0].Field != tc.wantField || b.Error.Details[0].Reason != tc.wantReason {
			t.Errorf("%s: POST /v1/tenants %s = %d %s, want 400 invalid_request with field %q reason %q",
				tc.name, tc.body, res.status, res.body, tc.wantField, tc.wantReason)
		}
	}
	res := e.do("GET", "/v1/tenants", e.adminKey, nil)
	if got := decodeJSON[struct{ Tenants []any }](t, res.body); len(got.Tenants) != 0 {
		t.Errorf("tenants = %v, want none", got.Tenants)
	}
}

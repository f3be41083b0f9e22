package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/store"
)

// TestListConnectionsRefusesUnknownStatus: the status filter is an enum in
// the OpenAPI document; an unknown value is bad input, answered with 400,
// not an empty list that reads as "no connections".
func TestListConnectionsRefusesUnknownStatus(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	e.connection(tid, "at-1", store.StatusActive)
	for _, bad := range []string{"Active", "bogus", "active,needs_reauth"} {
		res := e.do("GET", "/v1/connections?status="+bad, key, nil)
		if res.status != http.StatusBadRequest || res.errorCode() != "invalid_request" {
			t.Errorf("status=%s: %d %s, want 400 invalid_request", bad, res.status, res.body)
		}
	}
	for status, want := range map[string]int{"active": 1, "needs_reauth": 0, "revoked": 0, "": 1} {
		res := e.do("GET", "/v1/connections?status="+status, key, nil)
		got := decodeJSON[struct {
			Connections []map[string]any `json:"connections"`
		}](t, res.body)
		if res.status != http.StatusOK || len(got.Connections) != want {
			t.Errorf("status=%q: %d with %d connections, want 200 with %d", status, res.status, len(got.Connections), want)
		}
	}
}

// TestDecodeMediaType: media types are case-insensitive and may carry
// parameters (RFC 9110 §8.3.1), but a different type that merely starts
// with "application/json" is not JSON.
func TestDecodeMediaType(t *testing.T) {
	e := newEnv(t)
	_, key := e.tenant("acme")
	body := map[string]string{"provider": "pax8"}
	for ct, want := range map[string]int{
		"application/json":                  http.StatusCreated,
		"application/json; charset=utf-8":   http.StatusCreated,
		"Application/JSON":                  http.StatusCreated,
		"application/jsonx":                 http.StatusUnsupportedMediaType,
		"application/json-patch+json":       http.StatusUnsupportedMediaType,
		"text/plain":                        http.StatusUnsupportedMediaType,
		"application/x-www-form-urlencoded": http.StatusUnsupportedMediaType,
	} {
		res := e.do("POST", "/v1/connect-sessions", key, body, "Content-Type", ct)
		if res.status != want {
			t.Errorf("Content-Type %q: %d %s, want %d", ct, res.status, res.body, want)
		}
		// The body is usually JSON already (curl -d without -H): the
		// message must name the header to send, without echoing ours.
		if want == http.StatusUnsupportedMediaType {
			var b errorBody
			_ = json.Unmarshal(res.body, &b)
			if !strings.Contains(b.Error.Message, "Content-Type: application/json") || strings.Contains(b.Error.Message, ct) {
				t.Errorf("Content-Type %q: message %q, want one naming Content-Type: application/json", ct, b.Error.Message)
			}
		}
	}
}

// TestCreateTenantRefusesBlankName: a name of spaces is bad input (400),
// not an internal error, and creates nothing.
func TestCreateTenantRefusesBlankName(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"   ", "\t\n"} {
		res := e.do("POST", "/v1/tenants", e.adminKey, map[string]string{"name": name})
		if res.status != http.StatusBadRequest || res.errorCode() != "invalid_request" {
			t.Errorf("name %q: %d %s, want 400 invalid_request", name, res.status, res.body)
		}
	}
	if ts, err := e.st.ListTenants(t.Context()); err != nil || len(ts) != 0 {
		t.Errorf("ListTenants = %d tenants, %v; want none", len(ts), err)
	}
}

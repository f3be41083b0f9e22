package action_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/testenv"
)

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// TestInvalidInputSendsNothing: each invalid input gets 400 invalid_input
// naming the field, and the sandbox API sees no request.
func TestInvalidInputSendsNothing(t *testing.T) {
	e := newEnv(t, action.Options{})
	before := e.APICalls()
	for _, tc := range []struct{ action, body, field string }{
		{"pax8.get_company", `{}`, "company_id"},
		{"pax8.get_company", `{"company_id":""}`, "company_id"},
		{"pax8.get_company", `{"company_id":42}`, "company_id"},
		{"pax8.get_company", `{"company_id":"x","extra":1}`, "extra"},
		{"pax8.get_company_contact", `{"company_id":"x"}`, "contact_id"},
		{"pax8.list_companies", `{"size":201}`, "size"},
		{"pax8.list_companies", `{"size":0}`, "size"},
		{"pax8.list_companies", `{"page":-1}`, "page"},
		{"pax8.list_companies", `{"size":"10"}`, "size"},
		{"pax8.list_companies", `{"all":"yes"}`, "all"},
		{"pax8.list_companies", `{"all":true,"page":2}`, "page"},
		{"pax8.list_subscriptions", `{"size":1.5}`, "size"},
		{"pax8.list_company_contacts", `{"size":5}`, "company_id"},
		{"pax8.create_company", `{}`, "company"},
		{"pax8.create_company", `{"company":{"name":"x","bogus":true}}`, "bogus"},
		{"pax8.create_company", `{"company":{"name":" "}}`, "company.name"},
		{"pax8.create_company", `{"company":{"name":"x","address":{"city":7}}}`, "company.address.city"},
		{"pax8.update_subscription", `{"subscription_id":"x","update":{}}`, "update"},
		{"pax8.create_order", `{"order":{"companyId":"x"}}`, "order.lineItems"},
		{"pax8.update_subscription", `{"subscription_id":"x"}`, "update"},
		{"pax8.create_order", `{"order":{"companyId":"x"},"mock":"true"}`, "mock"},
		{"pax8.list_companies", `[]`, ""},
		{"pax8.list_companies", `{"size":5}{}`, ""},
		{"pax8.list_companies", `{"size":`, ""},
	} {
		got := e.call(e.conn.ID, tc.action, tc.body)
		if got.status != http.StatusBadRequest || got.Error.Code != "invalid_input" || got.Error.Field != tc.field {
			t.Errorf("%s %s = %d %s, want 400 invalid_input for field %q", tc.action, tc.body, got.status, got.raw, tc.field)
		}
		if tc.field != "" && !strings.Contains(got.Error.Message, tc.field) {
			t.Errorf("%s %s: message %q does not name %q", tc.action, tc.body, got.Error.Message, tc.field)
		}
	}
	if n := e.APICalls() - before; n != 0 {
		t.Errorf("the sandbox API received %d requests for invalid input, want 0", n)
	}
}

// TestContentType: the body is JSON, sent as application/json or with no
// Content-Type, as the OpenAPI document says; any other type (curl -d sends
// application/x-www-form-urlencoded) is 415 and reaches no API.
func TestContentType(t *testing.T) {
	e := newEnv(t, action.Options{})
	for _, tc := range []struct {
		ctype string
		want  int
	}{
		{"application/json", http.StatusOK},
		{"Application/JSON; charset=utf-8", http.StatusOK},
		{"", http.StatusOK},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/jsonx", http.StatusUnsupportedMediaType},
		{"not a media type", http.StatusUnsupportedMediaType},
	} {
		before := e.APICalls()
		got := e.callAs(e.conn.ID, "pax8.list_companies", `{"size":1}`, tc.ctype)
		if got.status != tc.want {
			t.Errorf("Content-Type %q = %d %s, want %d", tc.ctype, got.status, got.raw, tc.want)
			continue
		}
		if tc.want != http.StatusUnsupportedMediaType {
			continue
		}
		if got.Error.Code != "invalid_request" || !strings.Contains(got.Error.Message, "application/json") {
			t.Errorf("Content-Type %q: error %s, want invalid_request naming application/json", tc.ctype, got.raw)
		}
		if n := e.APICalls() - before; n != 0 {
			t.Errorf("Content-Type %q: the sandbox API received %d requests, want 0", tc.ctype, n)
		}
	}
}

// TestUnknownActionAndConnection: unknown actions and connections, and
// another tenant's connection (SEC-43), are 404 and reach nothing upstream.
func TestUnknownActionAndConnection(t *testing.T) {
	e := newEnv(t, action.Options{})
	other, _ := e.Tenant(t, "northwind")
	theirs := e.Connect(t, other, testenv.OtherPartner)
	before := e.APICalls()

	got := e.call(e.conn.ID, "pax8.drop_tables", `{}`)
	if got.status != http.StatusNotFound || got.Error.Code != "unknown_action" {
		t.Errorf("unknown action = %d %s, want 404 unknown_action", got.status, got.raw)
	}
	for _, id := range []string{theirs.ID, "con_missing"} {
		got := e.call(id, "pax8.list_companies", `{}`)
		if got.status != http.StatusNotFound || got.Error.Code != "not_found" {
			t.Errorf("connection %s = %d %s, want 404 not_found", id, got.status, got.raw)
		}
	}
	if n := e.APICalls() - before; n != 0 {
		t.Errorf("the sandbox API received %d requests, want 0", n)
	}
}

// TestUpstreamErrors: Pax8's errors keep their type and message; a 401
// forces one refresh and a retry, through the same transport as the proxy.
func TestUpstreamErrors(t *testing.T) {
	zero := 0
	e := newEnv(t, action.Options{MaxRetries: &zero})

	got := e.call(e.conn.ID, "pax8.get_company", `{"company_id":"00000000-0000-0000-0000-000000000000"}`)
	if got.status != http.StatusNotFound || got.Error.Code != "upstream_not_found" || got.Error.Upstream == nil || got.Error.Upstream.Type != "NOT_FOUND" {
		t.Errorf("missing company = %d %s, want 404 upstream_not_found with Pax8's NOT_FOUND", got.status, got.raw)
	}
	if got.Error.Upstream == nil || !strings.HasPrefix(got.Error.Upstream.Instance, "/public/v1/companies/") {
		t.Errorf("missing company = %s, want Pax8's instance kept in upstream", got.raw)
	}

	got = e.call(e.conn.ID, "pax8.create_order", `{"order":{"companyId":"nope","lineItems":[{"productId":"nope","lineItemNumber":1,"quantity":1,"billingTerm":"Monthly"}]},"mock":true}`)
	if got.status/100 != 4 || got.Error.Upstream == nil || got.Error.Upstream.Message == "" {
		t.Errorf("order for an unknown company = %d %s, want Pax8's 4xx with its message", got.status, got.raw)
	}

	fault := func(kind string) {
		if err := e.Sandbox.AddFault(sandbox.Fault{Endpoint: "api", Kind: kind}); err != nil {
			t.Fatal(err)
		}
	}
	fault("rate_limited")
	got = e.call(e.conn.ID, "pax8.list_companies", `{}`)
	if got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") != "1" || got.Error.Upstream.Type != "TOO_MANY_REQUESTS" {
		t.Errorf("rate limited = %d Retry-After %q %s, want 429 with Retry-After 1", got.status, got.header.Get("Retry-After"), got.raw)
	}
	fault("server_error")
	got = e.call(e.conn.ID, "pax8.list_companies", `{}`)
	if got.status != http.StatusBadGateway || got.Error.Code != "upstream_error" || got.Error.Upstream.Status != 500 {
		t.Errorf("server error = %d %s, want 502 upstream_error with status 500", got.status, got.raw)
	}
	fault("html")
	got = e.call(e.conn.ID, "pax8.list_companies", `{}`)
	if got.status != http.StatusBadGateway || strings.Contains(got.raw, "<html>") {
		t.Errorf("html error = %d %s, want 502 without the page", got.status, got.raw)
	}
	fault("malformed")
	got = e.call(e.conn.ID, "pax8.list_companies", `{}`)
	if got.status != http.StatusBadGateway {
		t.Errorf("malformed = %d %s, want 502", got.status, got.raw)
	}

	refreshes := func() int {
		n := 0
		for _, v := range e.Sandbox.Stats().Providers["pax8"].TokenRequests["refresh_token"] {
			n += v
		}
		return n
	}
	fault("unauthorized")
	got = e.call(e.conn.ID, "pax8.list_companies", `{"size":1}`)
	if got.status != http.StatusOK || refreshes() != 1 {
		t.Errorf("after one 401 = %d %s with %d refreshes, want 200 after 1 refresh", got.status, got.raw, refreshes())
	}
	if tok := e.token(); strings.Contains(got.raw, tok) {
		t.Errorf("the answer contains the access token")
	}
}

func (e *env) token() string {
	e.t.Helper()
	tok, err := e.Broker.TenantToken(e.t.Context(), e.tenant, e.conn.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

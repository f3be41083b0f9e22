package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/grantd/grantd/internal/store"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	for _, tc := range []struct {
		name       string
		path       string
		key        string
		header     []string
		wantStatus int
		wantCode   string
	}{
		{"no key", "/v1/connections", "", nil, 401, "unauthorized"},
		{"unknown key", "/v1/connections", "gdk_" + strings.Repeat("A", 43), nil, 401, "unauthorized"},
		{"garbage key", "/v1/connections", "hunter2", nil, 401, "unauthorized"},
		{"tenant key", "/v1/connections", key, nil, 200, ""},
		{"tenant key on admin route", "/v1/tenants", key, nil, 403, "forbidden"},
		{"admin key without tenant", "/v1/connections", e.adminKey, nil, 400, "invalid_request"},
		{"admin key as tenant", "/v1/connections", e.adminKey, []string{"X-Grantd-Tenant", tid}, 200, ""},
		{"admin key as unknown tenant", "/v1/connections", e.adminKey, []string{"X-Grantd-Tenant", "ten_nope"}, 404, "not_found"},
		{"admin key on admin route", "/v1/tenants", e.adminKey, nil, 200, ""},
		{"tenant header ignored for tenant keys", "/v1/connections", key, []string{"X-Grantd-Tenant", "ten_other"}, 200, ""},
		{"openapi needs no key", "/v1/openapi.json", "", nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("GET", tc.path, tc.key, nil, tc.header...)
			if res.status != tc.wantStatus {
				t.Fatalf("GET %s status = %d, want %d; body %s", tc.path, res.status, tc.wantStatus, res.body)
			}
			if tc.wantCode != "" {
				if got := res.errorCode(); got != tc.wantCode {
					t.Errorf("error code = %q, want %q", got, tc.wantCode)
				}
				if got := res.header.Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", got)
				}
			}
			if tc.wantStatus == 401 && res.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newEnv(t)
	_, key := e.tenant("acme")
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/connections", nil)
	req.Header.Set("Authorization", "bEaReR "+key)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("status = %d, want 200", res.StatusCode)
	}
}

// TestCrossTenantSEC43 checks that tenant B gets, for each of tenant A's
// connections, exactly what it gets for an id that does not exist.
func TestCrossTenantSEC43(t *testing.T) {
	e := newEnv(t)
	a, _ := e.tenant("a")
	_, keyB := e.tenant("b")
	conn := e.connection(a, "at-secret-of-a", store.StatusActive)
	needs := e.connection(a, "at-2", store.StatusNeedsReauth)
	const missing = "conn_doesnotexist00000"
	for _, route := range []struct{ method, suffix string }{
		{"GET", ""}, {"GET", "/token"}, {"POST", "/refresh"}, {"GET", "/events"}, {"DELETE", ""},
	} {
		for _, id := range []string{conn, needs} {
			got := e.do(route.method, "/v1/connections/"+id+route.suffix, keyB, nil)
			want := e.do(route.method, "/v1/connections/"+missing+route.suffix, keyB, nil)
			if got.status != http.StatusNotFound || want.status != http.StatusNotFound {
				t.Errorf("%s %s: status %d (missing id: %d), want 404 for both", route.method, route.suffix, got.status, want.status)
			}
			wantBody := strings.ReplaceAll(string(want.body), missing, id)
			if diff := cmp.Diff(wantBody, string(got.body)); diff != "" {
				t.Errorf("%s %s: another tenant's connection answers differently from a missing one (-want +got):\n%s", route.method, route.suffix, diff)
			}
			if strings.Contains(string(got.body), "at-") {
				t.Errorf("%s %s leaked a token: %s", route.method, route.suffix, got.body)
			}
		}
	}
	// Nothing was deleted or refreshed for A.
	c, err := e.st.GetConnection(t.Context(), conn)
	if err != nil {
		t.Fatalf("A's connection is gone: %v", err)
	}
	if c.Version != 1 {
		t.Errorf("A's connection version = %d, want 1 (untouched)", c.Version)
	}
	list := decodeJSON[struct {
		Connections []map[string]any `json:"connections"`
	}](t, e.do("GET", "/v1/connections", keyB, nil).body)
	if len(list.Connections) != 0 {
		t.Errorf("tenant B lists %d connections, want 0", len(list.Connections))
	}
}

func TestConnectionJSONHasNoTokens(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	id := e.connection(tid, "at-canary-123", store.StatusActive)
	res := e.do("GET", "/v1/connections/"+id, key, nil)
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	got := decodeJSON[map[string]any](t, res.body)
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	want := []string{"access_expires_at", "connected_at", "email", "id", "integration_id", "provider", "scopes", "status", "subject", "tenant_id", "version"}
	if diff := cmp.Diff(want, keys, sortStrings); diff != "" {
		t.Errorf("connection fields (-want +got):\n%s", diff)
	}
	if strings.Contains(string(res.body), "canary") {
		t.Errorf("connection JSON contains the token: %s", res.body)
	}
	list := e.do("GET", "/v1/connections?status=needs_reauth", key, nil)
	if n := len(decodeJSON[struct{ Connections []any }](t, list.body).Connections); n != 0 {
		t.Errorf("status filter: %d connections, want 0", n)
	}
}

func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	id := e.connection(tid, "at-value", store.StatusActive)
	type tokenJSON struct {
		AccessToken  string    `json:"access_token"`
		TokenType    string    `json:"token_type"`
		ExpiresAt    time.Time `json:"expires_at"`
		ExpiresIn    int64     `json:"expires_in"`
		Scopes       []string  `json:"scopes"`
		ConnectionID string    `json:"connection_id"`
		Provider     string    `json:"provider"`
	}
	res := e.do("GET", "/v1/connections/"+id+"/token", key, nil)
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	got := decodeJSON[tokenJSON](t, res.body)
	c, _ := e.st.GetConnection(t.Context(), id)
	want := tokenJSON{AccessToken: "at-value", TokenType: "Bearer", ExpiresAt: c.AccessExpiresAt, ExpiresIn: got.ExpiresIn,
		Scopes: []string{"Manage:Pax8Data", "offline_access"}, ConnectionID: id, Provider: "pax8"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	if got.ExpiresIn < 3590 || got.ExpiresIn > 3600 {
		t.Errorf("expires_in = %d, want about 3600", got.ExpiresIn)
	}

	// Hot path: with the key and token cached, no database read.
	keyReads, connReads := e.st.keyReads.Load(), e.st.connReads.Load()
	for range 20 {
		if res := e.do("GET", "/v1/connections/"+id+"/token", key, nil); res.status != 200 {
			t.Fatalf("status %d", res.status)
		}
	}
	if d := e.st.keyReads.Load() - keyReads; d != 0 {
		t.Errorf("hot path read the API key %d times, want 0", d)
	}
	if d := e.st.connReads.Load() - connReads; d != 0 {
		t.Errorf("hot path read the connection %d times, want 0", d)
	}
}

func TestTokenStatusErrors(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	for _, tc := range []struct {
		status     store.Status
		wantStatus int
		wantCode   string
	}{
		{store.StatusNeedsReauth, http.StatusConflict, "needs_reauth"},
		{store.StatusRevoked, http.StatusGone, "revoked"},
	} {
		id := e.connection(tid, "at-x", tc.status)
		for _, m := range []string{"GET /token", "POST /refresh"} {
			method, suffix, _ := strings.Cut(m, " ")
			res := e.do(method, "/v1/connections/"+id+suffix, key, nil)
			if res.status != tc.wantStatus || res.errorCode() != tc.wantCode {
				t.Errorf("%s of a %s connection = %d %s, want %d %s", m, tc.status, res.status, res.errorCode(), tc.wantStatus, tc.wantCode)
			}
		}
	}
}

func TestDeleteConnection(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	id := e.connection(tid, "at-x", store.StatusActive)
	if res := e.do("GET", "/v1/connections/"+id+"/token", key, nil); res.status != 200 {
		t.Fatalf("token before delete: %d", res.status)
	}
	res := e.do("DELETE", "/v1/connections/"+id, key, nil)
	if res.status != http.StatusNoContent {
		t.Fatalf("DELETE status = %d, want 204: %s", res.status, res.body)
	}
	if got := res.header.Get("Grantd-Revoked"); got != "true" || e.revokes.Load() != 1 {
		t.Errorf("DELETE Grantd-Revoked = %q after %d revocation requests, want true after 1", got, e.revokes.Load())
	}
	for _, p := range []string{"", "/token"} {
		if res := e.do("GET", "/v1/connections/"+id+p, key, nil); res.status != 404 {
			t.Errorf("GET %s after delete = %d, want 404", p, res.status)
		}
	}
}

// TestDeleteConnectionRevocationFails: a vendor answering 500 does not stop
// the disconnect; the answer says the grant was not revoked.
func TestDeleteConnectionRevocationFails(t *testing.T) {
	e := newEnv(t)
	e.revokeStatus.Store(http.StatusInternalServerError)
	tid, key := e.tenant("acme")
	id := e.connection(tid, "at-x", store.StatusActive)
	res := e.do("DELETE", "/v1/connections/"+id, key, nil)
	if res.status != http.StatusNoContent || res.header.Get("Grantd-Revoked") != "false" {
		t.Fatalf("DELETE = %d Grantd-Revoked %q, want 204 false: %s", res.status, res.header.Get("Grantd-Revoked"), res.body)
	}
	if res := e.do("GET", "/v1/connections/"+id, key, nil); res.status != 404 {
		t.Errorf("GET after delete = %d, want 404", res.status)
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	id := e.connection(tid, "at-x", store.StatusActive)
	for _, kind := range []string{"connected", "refreshed"} {
		if _, err := e.st.AddEvent(t.Context(), store.Event{TenantID: tid, ConnectionID: id, Kind: kind, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	res := e.do("GET", "/v1/connections/"+id+"/events", key, nil)
	got := decodeJSON[struct {
		Events []struct{ Kind string } `json:"events"`
	}](t, res.body)
	if len(got.Events) != 2 {
		t.Errorf("events = %+v, want 2", got.Events)
	}
	for _, bad := range []string{"0", "x", "501"} {
		if res := e.do("GET", "/v1/connections/"+id+"/events?limit="+bad, key, nil); res.status != 400 {
			t.Errorf("limit=%s status = %d, want 400", bad, res.status)
		}
	}
}

func TestFallbackErrors(t *testing.T) {
	e := newEnv(t)
	res := e.do("GET", "/v1/nope", "", nil)
	if res.status != 404 || res.errorCode() != "not_found" {
		t.Errorf("GET /v1/nope = %d %s, want 404 not_found", res.status, res.body)
	}
	res = e.do("PUT", "/v1/connections", "", nil)
	if res.status != 405 || res.errorCode() != "method_not_allowed" {
		t.Errorf("PUT /v1/connections = %d %s, want 405 method_not_allowed", res.status, res.body)
	}
	if got := res.header.Get("Allow"); got != "GET, POST, HEAD" {
		t.Errorf("Allow = %q, want GET, POST, HEAD", got)
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// TestCreateConnectionRefusesBadInput: POST /v1/connections is for
// client-credentials and partner-token integrations only; bad input stores
// nothing. The successful paths run against the sandbox in the broker's
// tests.
func TestCreateConnectionRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	_, key := e.tenant("Acme")
	dx := store.Integration{ID: "int_daxko", Provider: "daxko", Name: "Daxko", ClientID: "daxko_api_user", TenantsListed: true, Tenants: []string{store.AllTenants}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := e.st.CreateIntegration(t.Context(), dx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"missing integration", map[string]string{}, 400, "invalid_request"},
		{"unknown field", map[string]string{"integration": "x"}, 400, "invalid_request"},
		{"unknown integration", map[string]string{"integration_id": "int_nope"}, 404, "not_found"},
		{"authorization-code integration", map[string]string{"integration_id": e.integration.ID}, 400, "unsupported_grant"},
		{"daxko without a client scope", map[string]any{"integration_id": dx.ID}, 400, "invalid_request"},
		{"daxko client not an integer", map[string]any{"integration_id": dx.ID, "scopes": []string{"client:abc"}}, 400, "invalid_request"},
		{"daxko two clients", map[string]any{"integration_id": dx.ID, "scopes": []string{"client:1", "client:2"}}, 400, "invalid_request"},
		{"scopes not a list", map[string]any{"integration_id": dx.ID, "scopes": "client:9999"}, 400, "invalid_request"},
	} {
		res := e.do("POST", "/v1/connections", key, tc.body)
		if res.status != tc.status || res.errorCode() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, res.status, res.body, tc.status, tc.code)
		}
	}
	if cs, _ := e.st.ListConnections(t.Context(), store.ConnectionFilter{}); len(cs) != 0 {
		t.Errorf("stored %d connections, want 0", len(cs))
	}
}

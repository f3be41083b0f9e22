package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/internal/orgmap"
	"github.com/grantd/grantd/internal/proxy"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
	"github.com/grantd/grantd/internal/vault"
)

func TestConnectSessions(t *testing.T) {
	e := newEnv(t)
	_, key := e.tenant("acme")
	res := e.do("POST", "/v1/connect-sessions", key, map[string]string{"provider": "pax8", "return_to": appURL})
	if res.status != http.StatusCreated {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	got := decodeJSON[struct {
		ID, URL, IntegrationID string
		ExpiresAt              string `json:"expires_at"`
	}](t, res.body)
	if !strings.HasPrefix(got.URL, publicURL+"/connect/") || len(got.URL) < len(publicURL)+40 {
		t.Errorf("url = %q, want %s/connect/<token>", got.URL, publicURL)
	}
	if got.ID == "" || got.ExpiresAt == "" {
		t.Errorf("session = %+v, want id and expires_at", got)
	}
	// The link resolves to the operator's pax8 integration.
	token := strings.TrimPrefix(got.URL, publicURL+"/connect/")
	page, err := e.broker.Link(t.Context(), token)
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	if page.Integration.ID != e.integration.ID || page.Link.ReturnTo != appURL {
		t.Errorf("link = %+v, want integration %s and return_to %s", page.Link, e.integration.ID, appURL)
	}
}

func TestConnectSessionBadRequests(t *testing.T) {
	e := newEnv(t)
	_, key := e.tenant("acme")
	for _, tc := range []struct {
		name, body, wantCode, wantMsg string
		wantStatus                    int
	}{
		{"empty body", "", "invalid_request", "empty", 400},
		{"not json", "{", "invalid_request", "truncated", 400},
		{"syntax", `{"provider":}`, "invalid_request", "not valid JSON", 400},
		{"unknown field", `{"provider":"pax8","scope":"x"}`, "invalid_request", `unknown field "scope"`, 400},
		{"wrong type", `{"provider":7}`, "invalid_request", `field "provider" must be a JSON string`, 400},
		{"two values", `{"provider":"pax8"}{}`, "invalid_request", "single JSON object", 400},
		{"neither provider nor integration", `{}`, "invalid_request", "provider, integration_id or connection_id", 400},
		{"end_user.id too long", `{"provider":"pax8","end_user":{"id":"` + strings.Repeat("u", 257) + `"}}`, "invalid_request", "end_user.id is 257 bytes", 400},
		{"end_user.email control character", `{"provider":"pax8","end_user":{"email":"a\u0001@b"}}`, "invalid_request", "end_user.email holds a control character", 400},
		{"end_user.display_name newline", `{"provider":"pax8","end_user":{"display_name":"a\nb"}}`, "invalid_request", "control character", 400},
		{"end_user unknown field", `{"provider":"pax8","end_user":{"name":"x"}}`, "invalid_request", `unknown field "end_user/name"`, 400},
		{"too many tags", `{"provider":"pax8","tags":[` + strings.TrimSuffix(strings.Repeat(`"t",`, 21), ",") + `]}`, "invalid_request", "tags has 21 entries", 400},
		{"tag too long", `{"provider":"pax8","tags":["` + strings.Repeat("t", 65) + `"]}`, "invalid_request", "tags is 65 bytes", 400},
		{"tag with tab", `{"provider":"pax8","tags":["a\tb"]}`, "invalid_request", "tags holds a control character", 400},
		{"empty tag", `{"provider":"pax8","tags":[""]}`, "invalid_request", "tags[0] is empty", 400},
		{"unknown connection alone", `{"connection_id":"conn_missing"}`, "not_found", "", 404},
		{"unknown provider", `{"provider":"nope"}`, "not_found", "", 404},
		{"other tenant's integration", `{"integration_id":"int_missing"}`, "not_found", "", 404},
		// SEC-09: return_to off the allow-list.
		{"open redirect", `{"provider":"pax8","return_to":"https://evil.example/"}`, "invalid_return_to", "", 400},
		{"open redirect scheme-relative", `{"provider":"pax8","return_to":"//evil.example/"}`, "invalid_return_to", "", 400},
		{"too large", `{"provider":"` + strings.Repeat("a", 1<<20) + `"}`, "request_too_large", "larger than", 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("POST", "/v1/connect-sessions", key, tc.body)
			if res.status != tc.wantStatus || res.errorCode() != tc.wantCode {
				t.Fatalf("status %d code %s, want %d %s; body %.200s", res.status, res.errorCode(), tc.wantStatus, tc.wantCode, res.body)
			}
			var b errorBody
			json.Unmarshal(res.body, &b)
			if !strings.Contains(b.Error.Message, tc.wantMsg) {
				t.Errorf("message %q does not contain %q", b.Error.Message, tc.wantMsg)
			}
		})
	}
}

func TestIntegrations(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	_, keyB := e.tenant("b")
	req := map[string]any{"provider": "pax8", "client_id": "tenant-client", "client_secret": "tenant-secret-canary", "is_default": true}
	res := e.do("POST", "/v1/integrations", key, req)
	if res.status != http.StatusCreated {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), "canary") {
		t.Errorf("response contains the client secret: %s", res.body)
	}
	got := decodeJSON[map[string]any](t, res.body)
	id, _ := got["id"].(string)
	if got["redirect_uri"] != publicURL+"/oauth/callback/"+id || got["owner"] != "tenant" || got["audience"] != "https://api.pax8.com" || got["has_client_secret"] != true {
		t.Errorf("integration = %v, want default redirect, tenant owner, pax8 audience", got)
	}
	stored, err := e.st.GetIntegration(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored.ClientSecret), "canary") {
		t.Errorf("client secret stored in the clear")
	}
	pt, err := e.vault.Open(stored.ClientSecret, vault.AAD("integration", id, "client_secret"))
	if err != nil || string(pt) != "tenant-secret-canary" {
		t.Errorf("sealed secret opens to %q, %v; want the secret under AAD integration:<id>:client_secret", pt, err)
	}
	if stored.TenantID != tid || !stored.IsDefault {
		t.Errorf("stored = %+v, want tenant %s and default", stored, tid)
	}

	// A second default replaces the first.
	res2 := e.do("POST", "/v1/integrations", key, req)
	id2 := decodeJSON[map[string]any](t, res2.body)["id"].(string)
	if first, _ := e.st.GetIntegration(t.Context(), id); first.IsDefault {
		t.Errorf("first integration still default after a second default")
	}

	// The connect session for pax8 now uses the tenant's default.
	cs := e.do("POST", "/v1/connect-sessions", key, map[string]string{"provider": "pax8"})
	if got := decodeJSON[map[string]any](t, cs.body)["integration_id"]; got != id2 {
		t.Errorf("connect session integration = %v, want the tenant default %s", got, id2)
	}

	list := func(k string) []string {
		var ids []string
		for _, in := range decodeJSON[struct{ Integrations []struct{ ID string } }](t, e.do("GET", "/v1/integrations", k, nil).body).Integrations {
			ids = append(ids, in.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if diff := cmp.Diff([]string{id, id2, e.integration.ID}, list(key), sortStrings); diff != "" {
		t.Errorf("tenant's integrations (-want +got):\n%s", diff)
	}
	// SEC-43: another tenant sees only the operator's.
	if diff := cmp.Diff([]string{e.integration.ID}, list(keyB)); diff != "" {
		t.Errorf("other tenant's integrations (-want +got):\n%s", diff)
	}
	cs = e.do("POST", "/v1/connect-sessions", keyB, map[string]string{"integration_id": id})
	if cs.status != 404 {
		t.Errorf("other tenant's connect session on %s = %d, want 404", id, cs.status)
	}
}

func TestIntegrationBadRequests(t *testing.T) {
	e := newEnv(t)
	_, key := e.tenant("acme")
	for name, body := range map[string]string{
		"no provider":       `{"client_id":"a","client_secret":"b"}`,
		"unknown provider":  `{"provider":"nope","client_id":"a","client_secret":"b"}`,
		"no client id":      `{"provider":"pax8","client_secret":"b"}`,
		"no secret":         `{"provider":"pax8","client_id":"a"}`,
		"bad scope":         `{"provider":"pax8","client_id":"a","client_secret":"b","scopes":["a b"]}`,
		"http redirect":     `{"provider":"pax8","client_id":"a","client_secret":"b","redirect_uri":"http://evil.example/cb"}`,
		"wildcard redirect": `{"provider":"pax8","client_id":"a","client_secret":"b","redirect_uri":"https://*.example/cb"}`,
		"unknown field":     `{"provider":"pax8","client_id":"a","client_secret":"b","secret":"c"}`,
	} {
		res := e.do("POST", "/v1/integrations", key, body)
		if res.status != 400 || res.errorCode() != "invalid_request" {
			t.Errorf("%s: %d %s, want 400 invalid_request", name, res.status, res.body)
		}
	}
	ins, _ := e.st.ListIntegrations(t.Context(), "")
	if len(ins) != 1 {
		t.Errorf("rejected requests stored integrations: %d, want only the operator's", len(ins))
	}
}

func TestAdminTenants(t *testing.T) {
	e := newEnv(t)
	res := e.do("POST", "/v1/tenants", e.adminKey, map[string]string{"name": "Example MSP"})
	if res.status != http.StatusCreated {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	got := decodeJSON[struct {
		Tenant struct{ ID, Name string }
		APIKey string `json:"api_key"`
	}](t, res.body)
	if got.Tenant.Name != "Example MSP" || !tenant.LooksLikeKey(got.APIKey) {
		t.Errorf("created = %+v", got)
	}
	if r := e.do("GET", "/v1/connections", got.APIKey, nil); r.status != 200 {
		t.Errorf("new key: GET /v1/connections = %d, want 200", r.status)
	}
	list := decodeJSON[struct{ Tenants []struct{ ID string } }](t, e.do("GET", "/v1/tenants", e.adminKey, nil).body)
	if len(list.Tenants) != 1 || list.Tenants[0].ID != got.Tenant.ID {
		t.Errorf("tenants = %+v, want [%s]", list.Tenants, got.Tenant.ID)
	}
	if r := e.do("POST", "/v1/tenants", e.adminKey, `{"name":""}`); r.status != 400 {
		t.Errorf("empty name = %d, want 400", r.status)
	}
}

func TestProviders(t *testing.T) {
	e := newEnv(t)
	_, key := e.tenant("acme")
	if r := e.do("GET", "/v1/providers", "", nil); r.status != 401 {
		t.Errorf("anonymous GET /v1/providers = %d, want 401", r.status)
	}
	got := decodeJSON[struct {
		Providers []struct{ Name, Grant string }
	}](t, e.do("GET", "/v1/providers", key, nil).body)
	var names []string
	for _, p := range got.Providers {
		names = append(names, p.Name)
	}
	if !slices.Contains(names, "pax8") {
		t.Errorf("providers = %v, want pax8 among them", names)
	}
}

// TestOpenAPICoversRoutes checks that every registered route is in the
// document and every documented operation is a route.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t)
	// Routes other packages add through Server.Handle are documented here
	// too.
	orgs, err := orgmap.New(orgmap.Options{Broker: e.broker, Store: e.st, Transport: http.DefaultTransport})
	if err != nil {
		t.Fatal(err)
	}
	orgs.Routes(e.api)
	actions, err := action.New(action.Options{Tokens: e.broker, Providers: e.broker.Providers()})
	if err != nil {
		t.Fatal(err)
	}
	action.Register(e.api, actions)
	res := e.do("GET", "/v1/openapi.json", "", nil)
	doc := decodeJSON[struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}](t, res.body)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		if strings.HasPrefix(path, proxy.Prefix) {
			continue // mounted in front of the mux, not a route (proxy.Mount)
		}
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	if diff := cmp.Diff(e.api.Routes(), documented, sortStrings); diff != "" {
		t.Errorf("routes vs OpenAPI operations (-routes +documented):\n%s", diff)
	}
	// Every $ref resolves.
	var raw map[string]any
	json.Unmarshal(res.body, &raw)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(raw, ref) {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(raw)
}

func resolves(doc map[string]any, ref string) bool {
	var cur any = doc
	for part := range strings.SplitSeq(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		part, _ = url.PathUnescape(part)
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestMetricsLabels(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	id := e.connection(tid, "at-x", store.StatusActive)
	e.do("GET", "/v1/connections/"+id+"/token", key, nil)
	e.do("GET", "/v1/connections/"+id+"/token", "", nil)
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
				if strings.Contains(l.GetValue(), id) || strings.Contains(l.GetValue(), tid) {
					t.Errorf("metric %s has an id in label %s", mf.GetName(), l.GetValue())
				}
			}
			seen[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = true
		}
	}
	for _, want := range []string{
		"grantd_http_requests_total{route=GET /v1/connections/{id}/token,status=200}",
		"grantd_http_requests_total{route=GET /v1/connections/{id}/token,status=401}",
		"grantd_http_request_duration_seconds{route=GET /v1/connections/{id}/token}",
	} {
		if !seen[want] {
			t.Errorf("metric %s missing; have %v", want, seen)
		}
	}
}

// TestNoSecretsInLogsSEC61 sends keys and tokens through successful and
// failing requests and scans the logs for them.
func TestNoSecretsInLogsSEC61(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	id := e.connection(tid, "at-canary-logs", store.StatusActive)
	e.do("GET", "/v1/connections/"+id+"/token", key, nil)
	e.do("GET", "/v1/connections/"+id+"/token", key+"x", nil)
	e.do("GET", "/v1/connections/"+id+"/token", e.adminKey, nil)
	e.do("POST", "/v1/integrations", key, `{"provider":"pax8","client_id":"a","client_secret":"sec-canary","bogus":1}`)
	e.do("POST", "/v1/integrations", key, `{"provider":"pax8","client_id":"a","client_secret":"sec-canary"}`)
	logs := e.logs.String()
	if !strings.Contains(logs, "api error") {
		t.Fatalf("no error was logged; logs:\n%s", logs)
	}
	for _, secret := range []string{"at-canary-logs", key, key[len("gdk_"):], e.adminKey, "sec-canary"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain a secret %.12s…:\n%s", secret, logs)
		}
	}
}

// TestConnectSessionLabels: end_user and tags reach the link, a
// reauthorization session needs nothing but connection_id, and the list
// of connections filters by tag and end user.
func TestConnectSessionLabels(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	_, keyB := e.tenant("b")
	res := e.do("POST", "/v1/connect-sessions", key, map[string]any{
		"provider": "pax8", "end_user": map[string]string{"id": "u-1", "email": "ops@customer.example", "display_name": "Ops"},
		"tags": []string{"plan:gold", "eu"},
	})
	if res.status != http.StatusCreated {
		t.Fatalf("POST /v1/connect-sessions = %d %s", res.status, res.body)
	}
	var cs struct{ URL string }
	json.Unmarshal(res.body, &cs)
	page, err := e.broker.Link(t.Context(), cs.URL[strings.LastIndex(cs.URL, "/")+1:])
	if err != nil {
		t.Fatal(err)
	}
	want := store.EndUser{ID: "u-1", Email: "ops@customer.example", DisplayName: "Ops"}
	if page.Link.EndUser != want || !slices.Equal(page.Link.Tags, []string{"plan:gold", "eu"}) {
		t.Errorf("link end user %+v, tags %v", page.Link.EndUser, page.Link.Tags)
	}

	conn := e.connection(tid, "at-1", store.StatusActive)
	if _, err := e.st.UpdateConnection(t.Context(), conn, func(c store.Connection) (store.Connection, error) {
		c.EndUser, c.Tags = want, []string{"plan:gold"}
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	other := e.connection(tid, "at-2", store.StatusActive)
	res = e.do("POST", "/v1/connect-sessions", key, map[string]any{"connection_id": conn})
	if res.status != http.StatusCreated {
		t.Fatalf("reauthorization session with connection_id alone = %d %s", res.status, res.body)
	}
	var rs struct {
		URL           string `json:"url"`
		IntegrationID string `json:"integration_id"`
	}
	json.Unmarshal(res.body, &rs)
	if rs.IntegrationID != e.integration.ID {
		t.Errorf("reauthorization integration = %q, want %q", rs.IntegrationID, e.integration.ID)
	}
	if page, err := e.broker.Link(t.Context(), rs.URL[strings.LastIndex(rs.URL, "/")+1:]); err != nil || page.Link.ConnectionID != conn {
		t.Errorf("reauthorization link = %+v, %v; want one for %s", page.Link, err, conn)
	}
	if res := e.do("POST", "/v1/connect-sessions", keyB, map[string]any{"connection_id": conn}); res.status != http.StatusNotFound {
		t.Errorf("another tenant's connection_id = %d, want 404", res.status)
	}

	for q, wantIDs := range map[string][]string{
		"?tag=plan:gold":       {conn},
		"?end_user_id=u-1":     {conn},
		"?end_user_id=u-2":     nil,
		"?tag=eu":              nil,
		"":                     {conn, other},
		"?status=active&tag=x": nil,
	} {
		res := e.do("GET", "/v1/connections"+q, key, nil)
		var out struct {
			Connections []struct {
				ID      string   `json:"id"`
				Tags    []string `json:"tags"`
				EndUser struct {
					ID string `json:"id"`
				} `json:"end_user"`
			} `json:"connections"`
		}
		if err := json.Unmarshal(res.body, &out); err != nil || res.status != 200 {
			t.Fatalf("GET /v1/connections%s = %d %s", q, res.status, res.body)
		}
		var got []string
		for _, c := range out.Connections {
			got = append(got, c.ID)
			if c.ID == conn && (c.EndUser.ID != "u-1" || !slices.Equal(c.Tags, []string{"plan:gold"})) {
				t.Errorf("connection JSON end user %q tags %v", c.EndUser.ID, c.Tags)
			}
		}
		slices.Sort(got)
		slices.Sort(wantIDs)
		if !slices.Equal(got, wantIDs) {
			t.Errorf("GET /v1/connections%s = %v, want %v", q, got, wantIDs)
		}
	}
}

func TestConnectResultKey(t *testing.T) {
	e := newEnv(t)
	tid, key := e.tenant("acme")
	res := e.do("GET", "/v1/connect-result-key", key, nil)
	var out struct{ Key, Algorithm string }
	if err := json.Unmarshal(res.body, &out); err != nil || res.status != 200 || out.Algorithm != "HMAC-SHA256" {
		t.Fatalf("GET /v1/connect-result-key = %d %s", res.status, res.body)
	}
	if want := base64.RawURLEncoding.EncodeToString(e.broker.ResultKey(tid)); out.Key != want {
		t.Errorf("key = %q, want the broker's key for %s", out.Key, tid)
	}
	_, keyB := e.tenant("b")
	resB := e.do("GET", "/v1/connect-result-key", keyB, nil)
	if string(resB.body) == string(res.body) {
		t.Errorf("two tenants share one result key")
	}
	if res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", res.header.Get("Cache-Control"))
	}
}

package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
)

const adminKey = "admin-key-for-tests-0123456789abcdef"

type keyJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// TestAPIKeyRotationSEC43: a tenant creates a second key, both work,
// revoking the first ends it at once while the second goes on (rotation
// without downtime); the key value is shown only at creation; an expired
// key is refused with 401; another tenant's keys are 404 whatever the
// route, and stay.
func TestAPIKeyRotationSEC43(t *testing.T) {
	s, otherKey := accessStack(t)
	acme, other := s, s.as(otherKey)
	keys := "/v1/tenants/" + s.tenantID + "/keys"

	var created struct {
		Key    keyJSON `json:"key"`
		APIKey string  `json:"api_key"`
	}
	if st := acme.call(t, http.MethodPost, keys, map[string]string{"name": "ci"}, &created, nil); st != http.StatusCreated {
		t.Fatalf("POST %s = %d, want 201", keys, st)
	}
	if !tenant.LooksLikeKey(created.APIKey) || created.Key.Name != "ci" || !strings.HasPrefix(created.APIKey, created.Key.Prefix) {
		t.Fatalf("created key = %+v (value %d chars), want a named gdk_ key", created.Key, len(created.APIKey))
	}
	second := s.as(created.APIKey)
	for name, who := range map[string]*stack{"first": acme, "second": second} {
		if st := who.call(t, http.MethodGet, "/v1/connections", nil, nil, nil); st != http.StatusOK {
			t.Errorf("%s key before the switch: GET /v1/connections = %d, want 200", name, st)
		}
	}
	var raw json.RawMessage
	if st := second.callRaw(t, http.MethodGet, keys, nil, &raw, nil); st != http.StatusOK {
		t.Fatalf("GET %s = %d", keys, st)
	}
	if strings.Contains(string(raw), created.APIKey) || strings.Contains(string(raw), s.apiKey) {
		t.Errorf("the key list shows a key value: %s", raw)
	}
	var list struct{ Keys []keyJSON }
	json.Unmarshal(raw, &list)
	if len(list.Keys) != 2 || list.Keys[1].ID != created.Key.ID || list.Keys[1].LastUsedAt.IsZero() {
		t.Fatalf("keys = %+v, want the first and the second, the second used", list.Keys)
	}
	first := list.Keys[0]

	// The other tenant sees none of acme's keys and cannot revoke them.
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, keys},
		{http.MethodPost, keys},
		{http.MethodDelete, keys + "/" + first.ID},
		{http.MethodDelete, "/v1/tenants/" + listedID + "/keys/" + first.ID},
	} {
		var body any
		if tc.method == http.MethodPost {
			body = map[string]string{}
		}
		if st, code := other.callErr(t, tc.method, tc.path, body, nil); st != http.StatusNotFound || code != "not_found" {
			t.Errorf("other tenant: %s %s = %d %s, want 404 not_found", tc.method, tc.path, st, code)
		}
	}
	if st := acme.call(t, http.MethodGet, "/v1/connections", nil, nil, nil); st != http.StatusOK {
		t.Errorf("first key after the other tenant's attempts = %d, want 200", st)
	}

	// Switch, then revoke the first key with the second.
	if st := second.call(t, http.MethodDelete, keys+"/"+first.ID, nil, nil, nil); st != http.StatusNoContent {
		t.Fatalf("DELETE first key = %d, want 204", st)
	}
	if st, _ := acme.callErr(t, http.MethodGet, "/v1/connections", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("revoked key: GET /v1/connections = %d, want 401", st)
	}
	if st := second.call(t, http.MethodGet, "/v1/connections", nil, nil, nil); st != http.StatusOK {
		t.Errorf("second key after the revocation = %d, want 200", st)
	}
	if st, _ := second.callErr(t, http.MethodDelete, keys+"/"+first.ID, nil, nil); st != http.StatusNotFound {
		t.Errorf("DELETE the revoked key again = %d, want 404", st)
	}

	// Expiry: a key past its expires_at is refused; creating one already
	// expired is a 400.
	if st, code := second.callErr(t, http.MethodPost, keys, map[string]any{"expires_at": time.Now().Add(-time.Minute)}, nil); st != http.StatusBadRequest || code != "invalid_request" {
		t.Errorf("POST a key expiring in the past = %d %s, want 400 invalid_request", st, code)
	}
	expired := "gdk_" + strings.Repeat("E", 43)
	if err := s.app.Store().CreateAPIKey(t.Context(), store.APIKey{ID: "key_expired", TenantID: s.tenantID, Hash: tenant.HashKey(expired),
		Prefix: expired[:12], CreatedAt: time.Now().Add(-time.Hour), ExpiresAt: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if st, code := s.as(expired).callErr(t, http.MethodGet, "/v1/connections", nil, nil); st != http.StatusUnauthorized || code != "unauthorized" {
		t.Errorf("expired key = %d %s, want 401 unauthorized", st, code)
	}

	// The admin manages any tenant's keys; an unknown tenant is 404.
	admin := s.as(adminKey)
	if st := admin.call(t, http.MethodGet, keys, nil, &list, nil); st != http.StatusOK || len(list.Keys) != 2 {
		t.Errorf("admin: GET %s = %d with %d keys, want 200 with 2", keys, st, len(list.Keys))
	}
	if st, _ := admin.callErr(t, http.MethodGet, "/v1/tenants/ten_unknown/keys", nil, nil); st != http.StatusNotFound {
		t.Errorf("admin: GET keys of an unknown tenant = %d, want 404", st)
	}
}

// TestDeleteTenantRevokesGrants: deleting a tenant revokes its grant at
// the sandbox, deletes its rows and keys, records deleted events that
// outlive it, and leaves the other tenant alone; only the admin may.
func TestDeleteTenantRevokesGrants(t *testing.T) {
	s, otherKey := accessStack(t)
	conn := s.connect(t)
	ctx := t.Context()
	if err := s.app.Store().PutOrganizations(ctx, s.tenantID, []store.Organization{{ID: "org-1", Name: "Org"}}); err != nil {
		t.Fatal(err)
	}
	s.connectSession(t, nil)
	path := "/v1/tenants/" + s.tenantID
	if st, code := s.callErr(t, http.MethodDelete, path, nil, nil); st != http.StatusForbidden {
		t.Errorf("tenant key: DELETE %s = %d %s, want 403", path, st, code)
	}
	revokedBefore := s.sandbox.Stats().Providers[sandbox.Pax8].FamiliesRevoked
	var out struct {
		Connections, Revoked int
		RevocationFailed     int `json:"revocation_failed"`
	}
	if st := s.as(adminKey).call(t, http.MethodDelete, path, nil, &out, nil); st != http.StatusOK {
		t.Fatalf("admin: DELETE %s = %d, want 200", path, st)
	}
	if out.Connections != 1 || out.Revoked != 1 || out.RevocationFailed != 0 {
		t.Errorf("deletion = %+v, want 1 connection, 1 revoked", out)
	}
	if n := s.sandbox.Stats().Providers[sandbox.Pax8].FamiliesRevoked - revokedBefore; n != 1 {
		t.Errorf("families revoked at the sandbox = %d, want 1", n)
	}
	if st, _ := s.callErr(t, http.MethodGet, "/v1/connections", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("deleted tenant's key = %d, want 401", st)
	}
	st := s.app.Store()
	if _, err := st.GetTenant(ctx, s.tenantID); err == nil {
		t.Error("the tenant is still stored")
	}
	if _, err := st.GetConnection(ctx, conn); err == nil {
		t.Error("the connection is still stored")
	}
	if ks, _ := st.ListAPIKeys(ctx, s.tenantID); len(ks) != 0 {
		t.Errorf("%d keys still stored", len(ks))
	}
	if os, _ := st.ListOrganizations(ctx, s.tenantID); len(os) != 0 {
		t.Errorf("%d organisations still stored", len(os))
	}
	if n, _, _ := st.CountConnectLinks(ctx, s.tenantID, time.Time{}); n != 0 {
		t.Errorf("%d connect links still stored", n)
	}
	es, _ := st.ListEvents(ctx, conn, 0)
	if len(es) == 0 || es[0].Kind != "deleted" {
		t.Errorf("events after the deletion = %+v, want the history ending in deleted", es)
	}
	if code := s.as(otherKey).call(t, http.MethodGet, "/v1/connections", nil, nil, nil); code != http.StatusOK {
		t.Errorf("other tenant after the deletion = %d, want 200", code)
	}
	if code, _ := s.as(adminKey).callErr(t, http.MethodDelete, path, nil, nil); code != http.StatusNotFound {
		t.Errorf("DELETE %s again = %d, want 404", path, code)
	}
}

// TestQuotas: a tenant's integrations beyond the count quota get 403
// quota_exceeded, an organisation import beyond the upload quota gets 413,
// connect links beyond the hourly quota 429 with Retry-After, and
// connections beyond the count quota 403 quota_exceeded; another tenant
// has its own.
func TestQuotas(t *testing.T) {
	s, otherKey := accessStack(t, func(cfg *config.Config) {
		cfg.Quotas.ConnectLinksPerHour = 2
		cfg.Quotas.Connections = 1
		cfg.Quotas.OrgImportBytes = 200
		cfg.Quotas.Integrations = 1
	})
	own := map[string]any{"provider": "pax8", "name": "Own", "client_id": "own-client", "client_secret": "own-secret-canary"}
	if st := s.call(t, http.MethodPost, "/v1/integrations", own, nil, nil); st != http.StatusCreated {
		t.Errorf("first own integration = %d, want 201", st)
	}
	if st, code := s.callErr(t, http.MethodPost, "/v1/integrations", own, nil); st != http.StatusForbidden || code != "quota_exceeded" {
		t.Errorf("second own integration = %d %s, want 403 quota_exceeded", st, code)
	}
	small := map[string]any{"organizations": []map[string]string{{"id": "org-1", "name": "Org"}}}
	if st := s.call(t, http.MethodPut, "/v1/organizations", small, nil, nil); st != http.StatusOK {
		t.Errorf("PUT /v1/organizations within the upload quota = %d, want 200", st)
	}
	big := map[string]any{"organizations": []map[string]string{{"id": "org-1", "name": strings.Repeat("x", 300)}}}
	if st, code := s.callErr(t, http.MethodPut, "/v1/organizations", big, nil); st != http.StatusRequestEntityTooLarge || code != "request_too_large" {
		t.Errorf("PUT /v1/organizations over the upload quota = %d %s, want 413 request_too_large", st, code)
	}
	for range 2 {
		s.connectSession(t, nil)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.publicURL+"/v1/connect-sessions", strings.NewReader(`{"integration_id":"`+stackIntegration+`"}`))
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "rate_limited") || ra < 1 || ra > 3600 {
		t.Errorf("third link in the hour = %d %s, Retry-After %q; want 429 rate_limited with 1..3600", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	other := s.as(otherKey)
	other.connectSession(t, nil)

	if code := other.call(t, http.MethodPost, "/v1/connections", map[string]string{"integration_id": opListed}, nil, nil); code != http.StatusCreated {
		t.Fatalf("first connection = %d, want 201", code)
	}
	if code, ec := other.callErr(t, http.MethodPost, "/v1/connections", map[string]string{"integration_id": opListed}, nil); code != http.StatusForbidden || ec != "quota_exceeded" {
		t.Errorf("second connection = %d %s, want 403 quota_exceeded", code, ec)
	}
}

// TestSpentLinkPage: once a link has produced a connection, opening it
// again shows a page that says so and starts nothing.
func TestSpentLinkPage(t *testing.T) {
	s := startStack(t, testLogger(t))
	link := s.connectSession(t, nil)
	s.consentVia(t, link, firstPartner().Username)
	authorizes := s.sandbox.Stats().Providers[sandbox.Pax8].AuthorizeRequests
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone || !strings.Contains(string(page), "already used") || startFormRE.Match(page) {
		t.Errorf("GET the spent link = %d, want 410 saying it was already used, without the start form:\n%s", resp.StatusCode, page)
	}
	if n := s.sandbox.Stats().Providers[sandbox.Pax8].AuthorizeRequests; n != authorizes {
		t.Errorf("authorize requests = %d, want %d", n, authorizes)
	}
}

func firstPartner() sandbox.Account {
	for _, a := range sandbox.Accounts() {
		if a.Kind == sandbox.KindPartner {
			return a
		}
	}
	panic("the sandbox has no partner account")
}

// consentVia runs the connect flow of link as the sandbox account
// username and returns the callback's status.
func (s *stack) consentVia(t *testing.T, link, username string) int {
	t.Helper()
	browser, authorize := s.startConnect(t, link, nil)
	var password string
	for _, a := range sandbox.Accounts() {
		if a.Username == username {
			password = a.Password
		}
	}
	cb, err := sandboxtest.Login(t.Context(), browser, authorize.String(), username, password, true)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := browser.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebhooksTellReauthorized: a new connection is announced as
// connected, a reauthorization through a link made for it as
// reauthorized, followed by the revocation of the replaced grant.
func TestWebhooksTellReauthorized(t *testing.T) {
	types := make(chan string, 20)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.Payload
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &p)
		types <- p.Type
	}))
	defer rcv.Close()
	s := startStack(t, testLogger(t), func(cfg *config.Config) {
		cfg.Webhooks = []config.Webhook{{URL: rcv.URL + "/hooks", Secret: "hook-secret-0123456789", Events: []string{"connected", "reauthorized", "revoked"}}}
	})
	next := func() string {
		t.Helper()
		select {
		case typ := <-types:
			return typ
		case <-time.After(10 * time.Second):
			t.Fatal("no webhook within 10 s")
			return ""
		}
	}
	conn := s.connect(t)
	if typ := next(); typ != "connected" {
		t.Errorf("first webhook = %q, want connected", typ)
	}
	var out struct {
		URL string `json:"url"`
	}
	if st := s.call(t, http.MethodPost, "/v1/connect-sessions", map[string]string{"integration_id": stackIntegration, "connection_id": conn}, &out, nil); st != http.StatusCreated {
		t.Fatalf("POST /v1/connect-sessions (reauthorize) = %d", st)
	}
	if st := s.consentVia(t, out.URL, firstPartner().Username); st != http.StatusSeeOther {
		t.Fatalf("reauthorization callback = %d, want 303 to the success page", st)
	}
	got := map[string]bool{next(): true, next(): true}
	if !got["reauthorized"] || !got["revoked"] {
		t.Errorf("webhooks after the reauthorization = %v, want reauthorized and revoked", got)
	}
	if cs, _ := s.app.Store().ListConnections(t.Context(), store.ConnectionFilter{TenantID: s.tenantID}); len(cs) != 1 || cs[0].ID != conn || cs[0].Version < 2 {
		t.Errorf("connections after the reauthorization = %+v, want %s alone, its version bumped", cs, conn)
	}
}

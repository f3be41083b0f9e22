package api_test

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/vault"
)

const (
	partnerClient = "partner-api-client"
	partnerSecret = "partner-secret-canary"
	daxkoUser     = "daxko_api_user"
	daxkoPassword = "daxko-password-canary"
	daxkoToken    = "eyJ.daxko-partner-token-canary"
)

// sandboxEnv is the API in front of a broker whose pax8, pax8-partner and
// daxko providers all point at a sandbox, so credentials are checked with
// a real (emulated) token endpoint. The operator's pax8 integration is
// e.integration.
func sandboxEnv(t *testing.T) (*env, *sandbox.Server) {
	t.Helper()
	sb, ep := sandboxtest.Start(t, sandbox.Options{})
	pax8 := testenv.SandboxProvider(t, "pax8", ep)
	var partner, daxko provider.Provider
	for _, p := range provider.Builtin() {
		switch p.Name {
		case "pax8-partner":
			partner = p
		case "daxko":
			daxko = p
		}
	}
	partner.TokenURL, partner.API.BaseURL = ep.APITokenURL, ep.APIBaseURL
	dep := sb.Endpoints(sandbox.Daxko)
	daxko.TokenURL, daxko.API.BaseURL = dep.TokenURL, dep.APIBaseURL
	reg, err := provider.NewRegistry(pax8, partner, daxko)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(t.Context(), storetest.NewSQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := vault.New([]vault.Key{key}, 1)
	if err != nil {
		t.Fatal(err)
	}
	logs := newSyncBuffer()
	logger := slog.New(slog.NewTextHandler(logs, nil))
	b, err := broker.New(broker.Options{Store: db, Vault: kr, Providers: reg, PublicURL: publicURL,
		ReturnToAllow: []string{"https://app.example/"}, Logger: logger, TokenCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: &countingStore{Store: db}, vault: kr, broker: b, reg: prometheus.NewRegistry(), logs: logs, adminKey: "admin-" + rand.Text()}
	e.api = api.New(api.Options{Broker: b, Store: e.st, Vault: kr, AdminKey: e.adminKey, Logger: logger, Registry: e.reg})
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	now := time.Now().UTC()
	e.integration = store.Integration{ID: "int_operator_pax8", Provider: "pax8", Name: "Pax8", ClientID: "operator-client",
		RedirectURI: publicURL + "/oauth/callback/int_operator_pax8", Scopes: pax8.Scopes, Audience: pax8.Audience,
		IsDefault: true, CreatedAt: now, UpdatedAt: now}
	if e.integration.ClientSecret, err = kr.Seal([]byte("operator-secret"), vault.AAD("integration", e.integration.ID, "client_secret")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateIntegration(t.Context(), e.integration); err != nil {
		t.Fatal(err)
	}
	sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: partnerClient, Secret: partnerSecret})
	if err := sb.RegisterDaxkoPartner(sandbox.DaxkoPartner{Username: daxkoUser, Password: daxkoPassword, RefreshToken: daxkoToken, Clients: []int{9999}}); err != nil {
		t.Fatal(err)
	}
	return e, sb
}

// savedIntegration is the answer of a create or update.
type savedIntegration struct {
	ID                 string `json:"id"`
	IsDefault          bool   `json:"is_default"`
	LastError          string `json:"last_error"`
	BrokenAt           string `json:"broken_at"`
	CredentialsChecked bool   `json:"credentials_checked"`
	CredentialsCheck   string `json:"credentials_check"`
}

// integrationCount counts the operator's integrations and every tenant's.
func (e *env) integrationCount() int {
	e.t.Helper()
	ts, err := e.st.ListTenants(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, tn := range append([]store.Tenant{{}}, ts...) {
		ins, err := e.st.ListIntegrations(e.t.Context(), tn.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, in := range ins {
			ids[in.ID] = true
		}
	}
	return len(ids)
}

// TestPartnerWrongSecret: a pax8-partner integration with a wrong secret
// is refused on save (422 provider_rejected_credentials with Pax8's reason,
// nothing stored); saved with the right one it is checked and connects;
// when the vendor later refuses it, POST /v1/connections says
// provider_rejected_credentials (not 502 "try again later") and the
// integration shows last_error and broken_at until a PATCH with a secret
// the vendor accepts clears them.
func TestPartnerWrongSecret(t *testing.T) {
	e, sb := sandboxEnv(t)
	tid, key := e.tenant("acme")
	body := map[string]any{"provider": "pax8-partner", "client_id": partnerClient, "client_secret": "wrong-secret-canary"}
	res := e.do("POST", "/v1/integrations", key, body)
	if res.status != http.StatusUnprocessableEntity || res.errorCode() != "provider_rejected_credentials" {
		t.Fatalf("create with a wrong secret = %d %s, want 422 provider_rejected_credentials", res.status, res.body)
	}
	msg := decodeJSON[errorBody](t, res.body).Error.Message
	if !strings.Contains(msg, "access_denied") || strings.Contains(msg, "try again later") || strings.Contains(string(res.body), "canary") {
		t.Errorf("message %q: want Pax8's reason, no try-again, no secret", msg)
	}
	ins, _ := e.st.ListIntegrations(t.Context(), tid)
	if len(ins) != 1 {
		t.Errorf("a refused create stored an integration: %d, want only the operator's", len(ins))
	}

	body["client_secret"] = partnerSecret
	res = e.do("POST", "/v1/integrations", key, body)
	if res.status != http.StatusCreated {
		t.Fatalf("create with the right secret = %d %s", res.status, res.body)
	}
	in := decodeJSON[savedIntegration](t, res.body)
	if !in.CredentialsChecked {
		t.Errorf("credentials_checked = false for a client-credentials integration")
	}
	if res := e.do("POST", "/v1/connections", key, map[string]any{"integration_id": in.ID}); res.status != http.StatusCreated {
		t.Fatalf("connect = %d %s", res.status, res.body)
	}

	// The vendor's registration changes: the stored secret is now wrong.
	sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: partnerClient, Secret: "rotated-at-pax8"})
	res = e.do("POST", "/v1/connections", key, map[string]any{"integration_id": in.ID})
	if res.status != http.StatusUnprocessableEntity || res.errorCode() != "provider_rejected_credentials" {
		t.Fatalf("connect with a refused secret = %d %s, want 422 provider_rejected_credentials", res.status, res.body)
	}
	got := decodeJSON[savedIntegration](t, e.do("GET", "/v1/integrations/"+in.ID, key, nil).body)
	if !strings.Contains(got.LastError, "access_denied") || got.BrokenAt == "" {
		t.Errorf("integration last_error %q broken_at %q, want access_denied and set", got.LastError, got.BrokenAt)
	}

	// A PATCH with a secret the vendor refuses changes nothing.
	before, _ := e.st.GetIntegration(t.Context(), in.ID)
	res = e.do("PATCH", "/v1/integrations/"+in.ID, key, map[string]any{"client_secret": "still-wrong"})
	if res.status != http.StatusUnprocessableEntity {
		t.Errorf("PATCH with a wrong secret = %d %s, want 422", res.status, res.body)
	}
	if after, _ := e.st.GetIntegration(t.Context(), in.ID); !slices.Equal(after.ClientSecret, before.ClientSecret) {
		t.Errorf("a refused PATCH changed the stored secret")
	}
	res = e.do("PATCH", "/v1/integrations/"+in.ID, key, map[string]any{"client_secret": "rotated-at-pax8"})
	if res.status != http.StatusOK {
		t.Fatalf("PATCH with the vendor's secret = %d %s", res.status, res.body)
	}
	got = decodeJSON[savedIntegration](t, res.body)
	if !got.CredentialsChecked || got.LastError != "" || got.BrokenAt != "" {
		t.Errorf("after a checked PATCH: %+v, want checked and no longer broken", got)
	}
	if res := e.do("POST", "/v1/connections", key, map[string]any{"integration_id": in.ID}); res.status != http.StatusCreated {
		t.Errorf("connect after the fix = %d %s", res.status, res.body)
	}
}

// TestDaxkoRefusedClient: a Daxko client the partner may not use is
// Daxko refusing the integration's credentials for it: 422
// provider_rejected_credentials with Daxko's reason, not 502. A Daxko
// integration saved through the API needs its partner token, and a wrong
// password is refused on save.
func TestDaxkoRefusedClient(t *testing.T) {
	e, _ := sandboxEnv(t)
	_, key := e.tenant("acme")
	res := e.do("POST", "/v1/integrations", key, map[string]any{"provider": "daxko", "client_id": daxkoUser, "client_secret": daxkoPassword})
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "/partner_token") {
		t.Errorf("daxko without partner_token = %d %s, want 400 naming /partner_token", res.status, res.body)
	}
	res = e.do("POST", "/v1/integrations", key, map[string]any{"provider": "daxko", "client_id": daxkoUser, "client_secret": "wrong", "partner_token": daxkoToken})
	if res.status != http.StatusUnprocessableEntity || res.errorCode() != "provider_rejected_credentials" {
		t.Errorf("daxko with a wrong password = %d %s, want 422", res.status, res.body)
	}
	res = e.do("POST", "/v1/integrations", key, map[string]any{"provider": "daxko", "client_id": daxkoUser, "client_secret": daxkoPassword, "partner_token": daxkoToken})
	if res.status != http.StatusCreated {
		t.Fatalf("daxko integration = %d %s", res.status, res.body)
	}
	in := decodeJSON[savedIntegration](t, res.body)
	if !in.CredentialsChecked {
		t.Errorf("credentials_checked = false for a partner-token integration")
	}
	if strings.Contains(string(res.body), "canary") {
		t.Errorf("answer reveals a secret: %s", res.body)
	}
	res = e.do("POST", "/v1/connections", key, map[string]any{"integration_id": in.ID, "scopes": []string{"client:4242"}})
	if res.status != http.StatusUnprocessableEntity || res.errorCode() != "provider_rejected_credentials" {
		t.Fatalf("connect a client the partner may not use = %d %s, want 422 provider_rejected_credentials", res.status, res.body)
	}
	if msg := decodeJSON[errorBody](t, res.body).Error.Message; !strings.Contains(msg, "access_denied") {
		t.Errorf("message %q lacks Daxko's reason", msg)
	}
	// Only that client was refused: the partner's credentials work, so the
	// integration is not marked broken.
	if got := decodeJSON[savedIntegration](t, e.do("GET", "/v1/integrations/"+in.ID, key, nil).body); got.LastError != "" || got.BrokenAt != "" {
		t.Errorf("a refused Daxko client marked the integration broken: %+v", got)
	}
	if res := e.do("POST", "/v1/connections", key, map[string]any{"integration_id": in.ID, "scopes": []string{"client:9999"}}); res.status != http.StatusCreated {
		t.Errorf("connect an allowed client = %d %s", res.status, res.body)
	}
}

// TestIntegrationInputProblems: bad input lists every problem in details
// and saves nothing; an authorization-code secret is saved unchecked, and
// the answer says so.
func TestIntegrationInputProblems(t *testing.T) {
	e, _ := sandboxEnv(t)
	_, key := e.tenant("acme")
	res := e.do("POST", "/v1/integrations", key, map[string]any{"provider": "nope", "client_id": "", "client_secret": "", "redirect_uri": "http://evil.example/cb", "scopes": []string{"a b"}})
	if res.status != http.StatusBadRequest || res.errorCode() != "invalid_request" {
		t.Fatalf("bad input = %d %s, want 400", res.status, res.body)
	}
	got := decodeJSON[struct {
		Error struct {
			Details []struct{ Field string } `json:"details"`
		} `json:"error"`
	}](t, res.body)
	var fields []string
	for _, d := range got.Error.Details {
		fields = append(fields, d.Field)
	}
	want := []string{"/provider", "/client_id", "/client_secret", "/redirect_uri", "/scopes/0"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	if n := e.integrationCount(); n != 1 {
		t.Errorf("bad input stored integrations: %d, want only the operator's", n)
	}
	res = e.do("POST", "/v1/integrations", key, map[string]any{"provider": "pax8", "client_id": "c", "client_secret": "s"})
	if res.status != http.StatusCreated {
		t.Fatalf("pax8 integration = %d %s", res.status, res.body)
	}
	in := decodeJSON[savedIntegration](t, res.body)
	if in.CredentialsChecked || !strings.Contains(in.CredentialsCheck, "authorization-code") {
		t.Errorf("authorization-code save = %+v, want credentials_checked false with the reason", in)
	}
	res = e.do("PATCH", "/v1/integrations/"+in.ID, key, map[string]any{"client_id": "", "redirect_uri": "ftp://x"})
	if res.status != http.StatusBadRequest || strings.Count(string(res.body), `"field"`) != 2 {
		t.Errorf("bad PATCH = %d %s, want 400 with two details", res.status, res.body)
	}
}

// TestIntegrationDefaultRule: a tenant's integration created as
// non-default never takes over its provider; making one default does, and
// unsets the tenant's previous default. SEC-43: another tenant cannot see,
// change or delete it.
func TestIntegrationDefaultRule(t *testing.T) {
	e, _ := sandboxEnv(t)
	_, key := e.tenant("acme")
	_, keyB := e.tenant("b")
	sessionIntegration := func() string {
		res := e.do("POST", "/v1/connect-sessions", key, map[string]string{"provider": "pax8"})
		return decodeJSON[map[string]any](t, res.body)["integration_id"].(string)
	}
	a := decodeJSON[savedIntegration](t, e.do("POST", "/v1/integrations", key, map[string]any{"provider": "pax8", "client_id": "a", "client_secret": "s", "is_default": false}).body)
	if got := sessionIntegration(); got != e.integration.ID {
		t.Errorf("with a non-default tenant integration, provider pax8 uses %s, want the operator's %s", got, e.integration.ID)
	}
	if res := e.do("PATCH", "/v1/integrations/"+a.ID, key, map[string]any{"is_default": true}); res.status != http.StatusOK {
		t.Fatalf("PATCH is_default = %d %s", res.status, res.body)
	}
	if got := sessionIntegration(); got != a.ID {
		t.Errorf("after making %s default, provider pax8 uses %s", a.ID, got)
	}
	b := decodeJSON[savedIntegration](t, e.do("POST", "/v1/integrations", key, map[string]any{"provider": "pax8", "client_id": "b", "client_secret": "s", "is_default": true}).body)
	if got := sessionIntegration(); got != b.ID {
		t.Errorf("after a second default, provider pax8 uses %s, want %s", got, b.ID)
	}
	if first := decodeJSON[savedIntegration](t, e.do("GET", "/v1/integrations/"+a.ID, key, nil).body); first.IsDefault {
		t.Errorf("first default still default after a second one")
	}
	if res := e.do("PATCH", "/v1/integrations/"+b.ID, key, map[string]any{"is_default": false}); res.status != http.StatusOK {
		t.Fatal(res.status)
	}
	if got := sessionIntegration(); got != e.integration.ID {
		t.Errorf("with no tenant default, provider pax8 uses %s, want the operator's", got)
	}
	for _, req := range [][2]string{{"GET", ""}, {"PATCH", `{"name":"x"}`}, {"DELETE", ""}} {
		var body any
		if req[1] != "" {
			body = req[1]
		}
		if res := e.do(req[0], "/v1/integrations/"+a.ID, keyB, body); res.status != http.StatusNotFound {
			t.Errorf("other tenant %s = %d, want 404", req[0], res.status)
		}
		if res := e.do(req[0], "/v1/integrations/"+e.integration.ID, key, body); res.status != http.StatusNotFound {
			t.Errorf("tenant %s on the operator's integration = %d, want 404", req[0], res.status)
		}
	}
}

// TestIntegrationDelete: an integration with connections is refused with
// 409 in_use, changing nothing; cascade=true disconnects them (as DELETE
// /v1/connections does) and deletes it. The admin deletes the operator's.
func TestIntegrationDelete(t *testing.T) {
	e, _ := sandboxEnv(t)
	_, key := e.tenant("acme")
	in := decodeJSON[savedIntegration](t, e.do("POST", "/v1/integrations", key, map[string]any{"provider": "pax8-partner", "client_id": partnerClient, "client_secret": partnerSecret}).body)
	conn := decodeJSON[map[string]any](t, e.do("POST", "/v1/connections", key, map[string]any{"integration_id": in.ID}).body)["id"].(string)
	res := e.do("DELETE", "/v1/integrations/"+in.ID, key, nil)
	if res.status != http.StatusConflict || res.errorCode() != "in_use" {
		t.Fatalf("DELETE in use = %d %s, want 409 in_use", res.status, res.body)
	}
	if res := e.do("GET", "/v1/connections/"+conn, key, nil); res.status != http.StatusOK {
		t.Errorf("refused delete lost the connection: %d", res.status)
	}
	if res := e.do("DELETE", "/v1/integrations/"+in.ID+"?cascade=maybe", key, nil); res.status != http.StatusBadRequest {
		t.Errorf("cascade=maybe = %d, want 400", res.status)
	}
	res = e.do("DELETE", "/v1/integrations/"+in.ID+"?cascade=true", key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("DELETE cascade = %d %s", res.status, res.body)
	}
	if got := decodeJSON[map[string]any](t, res.body); got["connections_deleted"] != float64(1) || got["deleted"] != true {
		t.Errorf("DELETE cascade = %v, want 1 connection deleted", got)
	}
	if res := e.do("GET", "/v1/connections/"+conn, key, nil); res.status != http.StatusNotFound {
		t.Errorf("connection after cascade = %d, want 404", res.status)
	}
	if res := e.do("GET", "/v1/integrations/"+in.ID, key, nil); res.status != http.StatusNotFound {
		t.Errorf("integration after delete = %d, want 404", res.status)
	}
	if res := e.do("DELETE", "/v1/integrations/"+e.integration.ID, e.adminKey, nil); res.status != http.StatusOK {
		t.Errorf("admin DELETE of the operator's integration = %d %s", res.status, res.body)
	}
}

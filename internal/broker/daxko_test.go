package broker_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

const (
	daxkoUser     = "daxko_api_user"
	daxkoPassword = "d9a2652cf96d734661c10d5ff2f8061f"
	daxkoPartner  = "eyJ.daxko-partner-token-canary"
)

// daxkoEnv adds the built-in daxko provider, pointed at the sandbox's daxko
// personality, a registered partner and a tenant integration holding the
// sealed partner token.
func daxkoEnv(t *testing.T, st sandbox.Settings) (*env, *broker.Broker, store.Integration) {
	t.Helper()
	e := newEnv(t)
	if st != (sandbox.Settings{}) {
		e.sb.Configure(sandbox.Daxko, st)
	}
	var dp provider.Provider
	for _, p := range provider.Builtin() {
		if p.Name == "daxko" {
			dp = p
		}
	}
	dep := e.sb.Endpoints(sandbox.Daxko)
	dp.TokenURL, dp.API.BaseURL = dep.TokenURL, dep.APIBaseURL
	reg, err := provider.NewRegistry(e.provider, dp)
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	b := e.newBroker("dx", -1)
	const id = "int_daxko"
	secret, err := e.keys.Seal([]byte(daxkoPassword), vault.AAD("integration", id, "client_secret"))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := e.keys.Seal([]byte(daxkoPartner), vault.AAD("integration", id, "partner_token"))
	if err != nil {
		t.Fatal(err)
	}
	in := store.Integration{ID: id, TenantID: e.tenant, Provider: dp.Name, Name: "Daxko partner",
		ClientID: daxkoUser, ClientSecret: secret, PartnerToken: pt, CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}
	if err := e.st.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.RegisterDaxkoPartner(sandbox.DaxkoPartner{Username: daxkoUser, Password: daxkoPassword, RefreshToken: daxkoPartner}); err != nil {
		t.Fatal(err)
	}
	return e, b, in
}

// daxkoUnit GETs a unit at the sandbox's Daxko API with a token.
func daxkoUnit(t *testing.T, e *env, unit, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.sb.Endpoints(sandbox.Daxko).APIBaseURL+"/units/"+unit, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func daxkoTokenRequests(e *env) int {
	n := 0
	for _, v := range e.sb.Stats().Providers[sandbox.Daxko].TokenRequests["client_credentials"] {
		n += v
	}
	return n
}

// TestDaxkoClientScopedConnections: one partner credential yields two
// connections, one per Daxko client, whose tokens work only for their own
// client; expires_in arrives as the string "86400" and is honoured; an
// expired token is renewed with exactly one request under 100 concurrent
// callers (RT-01, SEC-36).
func TestDaxkoClientScopedConnections(t *testing.T) {
	e, b, in := daxkoEnv(t, sandbox.Settings{})
	ctx := t.Context()
	a, err := b.ConnectClient(ctx, e.tenant, in.ID, "client:9999")
	if err != nil {
		t.Fatalf("ConnectClient(client:9999) = %v", err)
	}
	c, err := b.ConnectClient(ctx, e.tenant, in.ID, "client:4242")
	if err != nil {
		t.Fatalf("ConnectClient(client:4242) = %v", err)
	}
	if got, want := a.AccessExpiresAt.Sub(e.clk.Now()), 24*time.Hour; got < want-2*time.Second || got > want+time.Second {
		t.Errorf("access token lifetime %s, want %s (expires_in \"86400\")", got, want)
	}
	if len(a.RefreshToken) != 0 || strings.Join(a.Scopes, " ") != "client:9999" {
		t.Errorf("connection a: refresh %d bytes, scopes %v; want none and [client:9999]", len(a.RefreshToken), a.Scopes)
	}

	ta, err := b.Token(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := b.Token(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, unit, token string
		want              int
	}{
		{"9999's token, 9999's unit", "101", ta.AccessToken, http.StatusOK},
		{"9999's token, 4242's unit", "201", ta.AccessToken, http.StatusForbidden},
		{"4242's token, 4242's unit", "201", tc.AccessToken, http.StatusOK},
		{"4242's token, 9999's unit", "102", tc.AccessToken, http.StatusForbidden},
	} {
		if got := daxkoUnit(t, e, tt.unit, tt.token); got != tt.want {
			t.Errorf("%s: GET units/%s = %d, want %d", tt.name, tt.unit, got, tt.want)
		}
	}

	e.clk.Advance(24*time.Hour + time.Minute)
	if got := daxkoUnit(t, e, "101", ta.AccessToken); got != http.StatusUnauthorized {
		t.Fatalf("expired token at the API = %d, want 401", got)
	}
	before := daxkoTokenRequests(e)
	tokens, errs := concurrentTokens(t, a.ID, 100, b)
	if len(errs) > 0 {
		t.Fatalf("%d callers failed, first: %v", len(errs), errs[0])
	}
	if len(tokens) != 1 {
		t.Errorf("%d distinct tokens, want 1", len(tokens))
	}
	if n := daxkoTokenRequests(e) - before; n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	for tok := range tokens {
		if tok == ta.AccessToken {
			t.Errorf("Token returned the expired token")
		}
		if got := daxkoUnit(t, e, "101", tok); got != http.StatusOK {
			t.Errorf("renewed token at the API = %d, want 200", got)
		}
	}
}

// TestDaxkoExpiresInNumber: the broker takes expires_in as a number too;
// an integration whose scopes name a client connects without scopes.
func TestDaxkoExpiresInNumber(t *testing.T) {
	st := sandbox.DaxkoSettings()
	st.ExpiresInNumber, st.AccessTTL = true, time.Hour
	e, b, in := daxkoEnv(t, st)
	err := e.st.UpdateIntegration(t.Context(), in.ID, func(in store.Integration) (store.Integration, error) {
		in.Scopes = []string{"client:4242"}
		return in, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.ConnectClient(t.Context(), e.tenant, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Scopes, " "); got != "client:4242" {
		t.Errorf("connection scopes = %q, want the integration's client:4242", got)
	}
	if got, want := c.AccessExpiresAt.Sub(e.clk.Now()), time.Hour; got < want-2*time.Second || got > want+time.Second {
		t.Errorf("access token lifetime %s, want %s", got, want)
	}
}

// TestDaxkoConnectRefused: bad scopes are refused before any request, a
// client the partner may not use and a wrong partner token are refused by
// Daxko, and nothing is stored (SEC-38: the partner token never reaches an
// error message).
func TestDaxkoConnectRefused(t *testing.T) {
	e, b, in := daxkoEnv(t, sandbox.Settings{})
	ctx := t.Context()
	for _, scopes := range [][]string{nil, {"client:abc"}, {"client:1", "client:2"}, {"tokenize"}, {"client:9999 client:4242"}} {
		if _, err := b.ConnectClient(ctx, e.tenant, in.ID, scopes...); broker.CodeOf(err) != broker.CodeInvalidRequest {
			t.Errorf("ConnectClient(%q) = %v, want invalid_request", scopes, err)
		}
	}
	if n := daxkoTokenRequests(e); n != 0 {
		t.Errorf("bad scopes sent %d token requests, want 0", n)
	}
	if _, err := b.ConnectClient(ctx, e.tenant, in.ID, "client:1234"); broker.CodeOf(err) != broker.CodeRejectedCredentials {
		t.Errorf("ConnectClient(unknown client) = %v, want provider_rejected_credentials", err)
	} else if !strings.Contains(err.Error(), "access_denied") {
		t.Errorf("ConnectClient(unknown client) = %v, want Daxko's reason (access_denied)", err)
	}
	if got, _ := e.st.GetIntegration(ctx, in.ID); !got.BrokenAt.IsZero() {
		t.Errorf("a client the partner may not use marked the integration broken (%q)", got.LastError)
	}
	if err := e.sb.RegisterDaxkoPartner(sandbox.DaxkoPartner{Username: daxkoUser, Password: daxkoPassword, RefreshToken: "a-newer-token"}); err != nil {
		t.Fatal(err)
	}
	_, err := b.ConnectClient(ctx, e.tenant, in.ID, "client:9999")
	if broker.CodeOf(err) != broker.CodeRejectedCredentials {
		t.Errorf("ConnectClient with a replaced partner token = %v, want provider_rejected_credentials", err)
	}
	if got, _ := e.st.GetIntegration(ctx, in.ID); got.BrokenAt.IsZero() || !strings.Contains(got.LastError, "invalid_client") {
		t.Errorf("a refused partner token left the integration unmarked: last_error %q", got.LastError)
	}
	if err != nil && strings.Contains(err.Error(), daxkoPartner) {
		t.Errorf("error %q reveals the partner token", err)
	}
	if _, err := b.ConnectClient(ctx, e.tenant, e.integ.ID, "client:9999"); broker.CodeOf(err) != broker.CodeUnsupportedGrant {
		t.Errorf("ConnectClient on a pax8 integration = %v, want unsupported_grant", err)
	}
	if n := len(e.connections()); n != 0 {
		t.Errorf("stored %d connections, want 0", n)
	}
}

package broker_test

import (
	"testing"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// clientCredsEnv adds the built-in pax8-partner provider, pointed at the
// sandbox's documented token URL, and a partner integration for the tenant.
func clientCredsEnv(t *testing.T) (*env, *broker.Broker, store.Integration) {
	t.Helper()
	e := newEnv(t)
	var pp provider.Provider
	for _, p := range provider.Builtin() {
		if p.Name == "pax8-partner" {
			pp = p
		}
	}
	pp.TokenURL, pp.API.BaseURL = e.ep.APITokenURL, e.ep.APIBaseURL
	reg, err := provider.NewRegistry(e.provider, pp)
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	b := e.newBroker("cc", -1)
	const id = "int_partner_api"
	sealed, err := e.keys.Seal([]byte(secret), vault.AAD("integration", id, "client_secret"))
	if err != nil {
		t.Fatal(err)
	}
	in := store.Integration{ID: id, TenantID: e.tenant, Provider: pp.Name, Name: "Pax8 API credentials",
		ClientID: "partner-api-client", ClientSecret: sealed, Audience: pp.Audience, CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}
	if err := e.st.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	e.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: in.ClientID, Secret: secret})
	return e, b, in
}

// TestClientCredentialsSingleFlight is SEC-36 and RT-10: 1,000 concurrent
// callers needing a new client-credentials token cause exactly one token
// request, and no refresh token is ever stored.
func TestClientCredentialsSingleFlight(t *testing.T) {
	e, b, in := clientCredsEnv(t)
	ctx := t.Context()
	c, err := b.ConnectClient(ctx, e.tenant, in.ID)
	if err != nil {
		t.Fatalf("ConnectClient: %v", err)
	}
	if len(c.RefreshToken) != 0 || c.AccessExpiresAt.IsZero() {
		t.Errorf("connection refresh token %d bytes, expiry %v; want none and set", len(c.RefreshToken), c.AccessExpiresAt)
	}
	e.expire()
	before := e.tokenRequests("client_credentials")
	tokens, errs := concurrentTokens(t, c.ID, 1000, b)
	if len(errs) > 0 {
		t.Fatalf("%d callers failed, first: %v", len(errs), errs[0])
	}
	if len(tokens) != 1 {
		t.Errorf("%d distinct tokens, want 1", len(tokens))
	}
	if n := e.tokenRequests("client_credentials") - before; n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestClientCredentialsRefused(t *testing.T) {
	e, b, _ := clientCredsEnv(t)
	if _, err := b.ConnectClient(t.Context(), e.tenant, e.integ.ID); broker.CodeOf(err) != broker.CodeUnsupportedGrant {
		t.Errorf("ConnectClient on an authorization-code integration = %v, want unsupported_grant", err)
	}
	e.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: "partner-api-client", Secret: "wrong"})
	if _, err := b.ConnectClient(t.Context(), e.tenant, "int_partner_api"); broker.CodeOf(err) != broker.CodeUpstream {
		t.Errorf("ConnectClient with a wrong secret = %v, want upstream_error", err)
	}
	if n := len(e.connections()); n != 0 {
		t.Errorf("stored %d connections, want 0", n)
	}
}

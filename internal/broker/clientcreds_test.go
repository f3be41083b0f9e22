package broker_test

import (
	"errors"
	"strings"
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

// TestClientCredentialsRefused: a wrong secret is the vendor refusing the
// integration's credentials: provider_rejected_credentials with the
// vendor's reason (not "try again"), the integration marked broken, nothing
// stored; the next token issued with corrected credentials clears the mark.
func TestClientCredentialsRefused(t *testing.T) {
	e, b, in := clientCredsEnv(t)
	ctx := t.Context()
	if _, err := b.ConnectClient(ctx, e.tenant, e.integ.ID); broker.CodeOf(err) != broker.CodeUnsupportedGrant {
		t.Errorf("ConnectClient on an authorization-code integration = %v, want unsupported_grant", err)
	}
	e.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: "partner-api-client", Secret: "wrong"})
	_, err := b.ConnectClient(ctx, e.tenant, in.ID)
	if broker.CodeOf(err) != broker.CodeRejectedCredentials {
		t.Fatalf("ConnectClient with a wrong secret = %v, want provider_rejected_credentials", err)
	}
	be, _ := errors.AsType[*broker.Error](err)
	if !strings.Contains(be.Msg, "access_denied") || strings.Contains(be.Msg, "try again later") || strings.Contains(be.Msg, secret) {
		t.Errorf("message %q: want the vendor's reason (access_denied), no try-again, no secret", be.Msg)
	}
	if n := len(e.connections()); n != 0 {
		t.Errorf("stored %d connections, want 0", n)
	}
	got, err := e.st.GetIntegration(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.LastError, "access_denied") || got.BrokenAt.IsZero() {
		t.Errorf("integration last_error %q, broken_at %v; want access_denied and set", got.LastError, got.BrokenAt)
	}
	e.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: "partner-api-client", Secret: secret})
	if _, err := b.ConnectClient(ctx, e.tenant, in.ID); err != nil {
		t.Fatalf("ConnectClient with the secret corrected = %v", err)
	}
	got, _ = e.st.GetIntegration(ctx, in.ID)
	if got.LastError != "" || !got.BrokenAt.IsZero() {
		t.Errorf("after a token was issued: last_error %q, broken_at %v; want cleared", got.LastError, got.BrokenAt)
	}
}

// TestCheckCredentials: a client-credentials integration is checked with
// a token request that stores nothing; an authorization-code one cannot be
// checked without a user.
func TestCheckCredentials(t *testing.T) {
	e, b, in := clientCredsEnv(t)
	ctx := t.Context()
	if err := b.CheckCredentials(ctx, in); err != nil {
		t.Errorf("CheckCredentials(right secret) = %v", err)
	}
	e.sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: "partner-api-client", Secret: "other"})
	if err := b.CheckCredentials(ctx, in); broker.CodeOf(err) != broker.CodeRejectedCredentials {
		t.Errorf("CheckCredentials(wrong secret) = %v, want provider_rejected_credentials", err)
	}
	if err := b.CheckCredentials(ctx, e.integ); broker.CodeOf(err) != broker.CodeUnsupportedGrant {
		t.Errorf("CheckCredentials(authorization code) = %v, want unsupported_grant", err)
	}
	if n := len(e.connections()); n != 0 {
		t.Errorf("stored %d connections, want 0", n)
	}
}

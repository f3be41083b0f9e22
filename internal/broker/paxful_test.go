package broker_test

import (
	"crypto/rand"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/vault"
)

const paxfulTrader = "trader@example-paxful.test"

// paxfulEnv adds the built-in paxful provider, pointed at the sandbox's
// paxful personality, and a tenant integration asking for the profile and
// the user/me operation. Nothing in the broker is Paxful-specific: form
// encoding, mandatory rotation and the 1 h lifetime are all provider data.
func paxfulEnv(t *testing.T) (*env, store.Integration) {
	t.Helper()
	e := newEnv(t)
	pp := testenv.SandboxProvider(t, "paxful", e.sb.Endpoints(sandbox.Paxful))
	reg, err := provider.NewRegistry(e.provider, pp)
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	const id = "int_paxful"
	redirect := "http://127.0.0.1:1/oauth/callback/" + id
	sealed, err := e.keys.Seal([]byte(secret), vault.AAD("integration", id, "client_secret"))
	if err != nil {
		t.Fatal(err)
	}
	in := store.Integration{ID: id, TenantID: e.tenant, Provider: pp.Name, Name: "Paxful", ClientID: "paxful-app",
		ClientSecret: sealed, RedirectURI: redirect, Scopes: append(pp.Scopes, "paxful/v1/user/me"),
		IsDefault: true, CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}
	if err := e.st.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	e.sb.RegisterClient(sandbox.Paxful, sandbox.Client{ID: in.ClientID, Secret: secret, RedirectURIs: []string{redirect}})
	return e, in
}

// paxfulConnect runs the delegated flow through b as the Paxful demo
// trader.
func paxfulConnect(t *testing.T, e *env, b *broker.Broker, in store.Integration) store.Connection {
	t.Helper()
	ctx := t.Context()
	link, err := b.CreateLink(ctx, e.tenant, broker.LinkRequest{IntegrationID: in.ID})
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	browser := rand.Text() + rand.Text()
	authURL, err := b.Start(ctx, link.URL[strings.LastIndex(link.URL, "/")+1:], browser)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if strings.Contains(authURL, "audience=") {
		t.Errorf("authorize URL %s carries an audience; Paxful takes none", authURL)
	}
	jar, _ := cookiejar.New(nil)
	loc, err := sandboxtest.Login(ctx, &http.Client{Jar: jar}, authURL, paxfulTrader, "demo", true)
	if err != nil {
		t.Fatalf("sandbox login: %v", err)
	}
	got, err := b.Callback(ctx, in.ID, loc.Query(), browser)
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	return got.Connection
}

// paxfulMe calls POST /paxful/v1/user/me with a token.
func paxfulMe(t *testing.T, e *env, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.sb.Endpoints(sandbox.Paxful).APIBaseURL+"/paxful/v1/user/me", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPaxfulConnectAndRotate connects through Paxful's form-only token
// endpoint, then refreshes across many expiries, with 100 concurrent
// callers on each of two replicas at every expiry: each refresh sends the
// newest refresh token exactly once, so the sandbox, which decommissions
// every token used and revokes the family on reuse, never sees a reuse
// (SEC-33, RT-01, RT-02, RT-03).
func TestPaxfulConnectAndRotate(t *testing.T) {
	e, in := paxfulEnv(t)
	a, b := e.newBroker("replica-a", -1), e.newBrokerOn(e.open(), "replica-b", -1)
	c := paxfulConnect(t, e, a, in)
	if c.Status != store.StatusActive || len(c.RefreshToken) == 0 {
		t.Fatalf("connection status %s, refresh %d bytes; want active with a refresh token", c.Status, len(c.RefreshToken))
	}
	if got := c.AccessExpiresAt.Sub(e.clk.Now()); got > time.Hour || got < time.Hour-2*time.Second {
		t.Errorf("access token lifetime %s, want 1h", got)
	}
	tok, err := a.Token(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := paxfulMe(t, e, tok.AccessToken); got != http.StatusOK {
		t.Fatalf("user/me = %d, want 200", got)
	}

	const rounds = 5
	for i := range rounds {
		e.clk.Advance(time.Hour + time.Minute)
		if got := paxfulMe(t, e, tok.AccessToken); got != http.StatusUnauthorized {
			t.Errorf("round %d: expired token at the API = %d, want 401", i, got)
		}
		tokens, errs := concurrentTokens(t, c.ID, 100, a, b)
		if len(errs) > 0 {
			t.Fatalf("round %d: %d callers failed, first: %v", i, len(errs), errs[0])
		}
		if len(tokens) != 1 {
			t.Fatalf("round %d: %d distinct tokens, want 1", i, len(tokens))
		}
		for next := range tokens {
			tok.AccessToken = next
		}
		if got := paxfulMe(t, e, tok.AccessToken); got != http.StatusOK {
			t.Errorf("round %d: refreshed token at the API = %d, want 200", i, got)
		}
	}
	ps := e.sb.Stats().Providers[sandbox.Paxful]
	if got := ps.TokenRequests["refresh_token"]; len(got) != 1 || got["ok"] != rounds {
		t.Errorf("refresh requests = %v, want %d, all ok", got, rounds)
	}
	if ps.RefreshReuseDetected != 0 || ps.FamiliesRevoked != 0 {
		t.Errorf("reuse detected %d, families revoked %d; want 0", ps.RefreshReuseDetected, ps.FamiliesRevoked)
	}
	got, err := e.st.GetConnection(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusActive {
		t.Errorf("connection status %s, want active", got.Status)
	}
}

package broker_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// TestClientCredentialsRefreshTokenDroppedSEC36 is SEC-36 where it can
// fail: the sandbox never puts a refresh token in a client-credentials
// answer, so a loopback token endpoint that does is used instead. grantd
// drops it: the connection is stored without one, the next token comes
// from a new client_credentials request, and the token never goes back to
// the endpoint.
func TestClientCredentialsRefreshTokenDroppedSEC36(t *testing.T) {
	const rt = "RT-CANARY-client-credentials-0123456789"
	var (
		mu    sync.Mutex
		forms []url.Values
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var m map[string]string
			json.Unmarshal(b, &m)
			form = url.Values{}
			for k, v := range m {
				form.Set(k, v)
			}
		}
		mu.Lock()
		forms = append(forms, form)
		n := len(forms)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("at-cc-%d", n), "token_type": "Bearer", "expires_in": 3600, "refresh_token": rt,
		})
	}))
	t.Cleanup(srv.Close)

	e := newEnv(t)
	var pp provider.Provider
	for _, p := range provider.Builtin() {
		if p.Name == "pax8-partner" {
			pp = p
		}
	}
	pp.TokenURL, pp.API.BaseURL = srv.URL+"/oauth/token", e.ep.APIBaseURL
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

	ctx := t.Context()
	c, err := b.ConnectClient(ctx, e.tenant, in.ID)
	if err != nil {
		t.Fatalf("ConnectClient: %v", err)
	}
	stored, err := e.st.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.RefreshToken) != 0 || len(stored.RefreshToken) != 0 {
		t.Errorf("refresh token stored: %d bytes returned, %d in the row; want none", len(c.RefreshToken), len(stored.RefreshToken))
	}
	e.expire()
	tok, err := b.Token(ctx, c.ID)
	if err != nil {
		t.Fatalf("Token after expiry: %v", err)
	}
	if tok.AccessToken != "at-cc-2" {
		t.Errorf("token after expiry = %q, want the second client_credentials answer", tok.AccessToken)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(forms) != 2 {
		t.Fatalf("token endpoint got %d requests, want 2", len(forms))
	}
	for i, f := range forms {
		if f.Get("grant_type") != "client_credentials" || f.Has("refresh_token") {
			t.Errorf("request %d = grant_type %q, refresh_token %q; want client_credentials without one", i, f.Get("grant_type"), f.Get("refresh_token"))
		}
	}
}

// TestIdentityFromIDTokenOnlyOIDC17 is OIDC-17 through the code grantd
// runs. grantd never fetches userinfo: a connection's subject and email
// come only from the verified id_token (saveConnection), so a userinfo
// endpoint whose sub differs from the id_token's can change nothing. Here
// the provider names a userinfo endpoint that answers another subject; a
// connect and a refresh send it nothing, and the stored subject is the
// id_token's.
func TestIdentityFromIDTokenOnlyOIDC17(t *testing.T) {
	var hits sync.Map
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"sub":"attacker-sub","email":"attacker@evil.example"}`)
	}))
	t.Cleanup(ui.Close)
	e := newEnv(t, withProvider(func(p *provider.Provider) { p.UserinfoURL = ui.URL + "/userinfo" }))
	ctx := t.Context()
	c := e.connect(ctx)
	e.expire()
	if _, err := e.b.Token(ctx, c.ID); err != nil {
		t.Fatalf("Token after expiry: %v", err)
	}
	got, err := e.st.GetConnection(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := e.keys.Open(got.IDToken, vault.AAD("connection", c.ID, "id_token"))
	if err != nil {
		t.Fatalf("open the stored id_token: %v", err)
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 {
		t.Fatalf("stored id_token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Sub, Email string }
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if got.Subject == "" || got.Subject != claims.Sub || got.Email != claims.Email {
		t.Errorf("connection subject %q email %q, want the id_token's %q %q", got.Subject, got.Email, claims.Sub, claims.Email)
	}
	if got.Subject == "attacker-sub" || got.Email == "attacker@evil.example" {
		t.Errorf("connection identity came from userinfo")
	}
	n := 0
	hits.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Errorf("the userinfo endpoint received requests; grantd must take identity from the id_token only")
	}
}

// TestTokenRedacted is SEC-61 for [broker.Token]: no fmt verb and no slog
// handler prints the access token.
func TestTokenRedacted(t *testing.T) {
	const at = "AT-CANARY-broker-token-0123456789"
	tok := broker.Token{ConnectionID: "conn_1", TenantID: "ten_1", Provider: "pax8", AccessToken: at, TokenType: "Bearer",
		ExpiresAt: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Scopes: []string{"a"}}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("token", "token", tok, "ptr", &tok)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("token", "token", tok, "ptr", &tok)
	outs := map[string]string{
		"slog text": text.String(),
		"slog json": js.String(),
		"fmt":       fmt.Sprintf("%v %+v %#v %s %q", tok, tok, tok, tok, tok),
		"fmt ptr":   fmt.Sprintf("%v %+v %#v %s", &tok, &tok, &tok, &tok),
		"fmt slice": fmt.Sprintf("%v %+v %#v", []broker.Token{tok}, []broker.Token{tok}, []broker.Token{tok}),
		"fmt map":   fmt.Sprintf("%v %+v", map[string]broker.Token{"k": tok}, map[string]broker.Token{"k": tok}),
	}
	for what, s := range outs {
		if strings.Contains(s, at) {
			t.Errorf("%s shows the access token: %s", what, s)
		}
		if !strings.Contains(s, "REDACTED") {
			t.Errorf("%s = %s, want REDACTED", what, s)
		}
	}
	if !strings.Contains(js.String(), `"connection_id":"conn_1"`) {
		t.Errorf("slog json = %s, want the connection id", js.String())
	}
}

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
	"github.com/grantd/grantd/internal/sandbox"
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

// TestProviderEchoNeverStored is the finding, end to end: a token
// endpoint that echoes the refresh request (its form body, so the client
// secret URL-encoded, and its Authorization header) in error_description
// gets none of the request's secrets into the connection's last_error, the
// SQLite file and its WAL, the logs, or the error the caller sees.
func TestProviderEchoNeverStored(t *testing.T) {
	const echoSecret = `CANARY/FORM+SECRET=1&x%y"q\z é€`
	var sandboxToken string
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		var js map[string]string
		json.Unmarshal(b, &js)
		if form.Get("grant_type") == "refresh_token" || js["grant_type"] == "refresh_token" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable",
				"error_description": "got " + string(b) + " auth " + r.Header.Get("Authorization")})
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, sandboxToken, bytes.NewReader(b))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(echo.Close)
	e := newEnv(t, withProvider(func(p *provider.Provider) {
		sandboxToken, p.TokenURL = p.TokenURL, echo.URL+"/oauth/token"
	}))
	var logs bytes.Buffer
	b, err := broker.New(broker.Options{Store: e.st, Vault: e.keys, Providers: e.reg, PublicURL: "http://127.0.0.1:1",
		ReturnToAllow: []string{"https://app.example.com/integrations/"}, Now: e.clk.Now, TokenCacheTTL: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	e.b = b

	const id = "int_echo"
	sealed, err := e.keys.Seal([]byte(echoSecret), vault.AAD("integration", id, "client_secret"))
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://127.0.0.1:1/oauth/callback/" + id
	in := store.Integration{ID: id, TenantID: e.tenant, Provider: "pax8", Name: "Pax8 echo", ClientID: "client-echo",
		ClientSecret: sealed, RedirectURI: redirect, Scopes: e.provider.Scopes, Audience: e.provider.Audience,
		CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}
	if err := e.st.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	e.sb.RegisterClient("pax8", sandbox.Client{ID: in.ClientID, Secret: echoSecret, RedirectURIs: []string{redirect}})

	ctx := t.Context()
	f := e.begin(ctx, broker.LinkRequest{IntegrationID: id})
	got, err := b.Callback(ctx, id, e.consent(ctx, f, true), f.browser)
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	e.expire()
	_, terr := b.Token(ctx, got.Connection.ID)
	if broker.CodeOf(terr) != broker.CodeUpstreamDown {
		t.Fatalf("Token against the echoing endpoint = %v, want upstream_unavailable", terr)
	}
	c, err := e.st.GetConnection(ctx, got.Connection.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.LastError, "temporarily_unavailable") {
		t.Errorf("last_error = %q, want the provider's code", c.LastError)
	}
	for what, s := range map[string]string{
		"last_error": c.LastError, "error": terr.Error(), "error %+v": fmt.Sprintf("%+v %#v", terr, terr),
		"logs": logs.String(), "sqlite files": string(sqliteFiles(t, e.dsn)),
	} {
		if strings.Contains(strings.ToUpper(s), "CANARY") {
			i := strings.Index(strings.ToUpper(s), "CANARY")
			t.Errorf("%s shows the client secret: …%q…", what, s[max(0, i-40):min(len(s), i+60)])
		}
	}
}

package broker_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// idp is a small authorization server written for these tests, not
// grantd's sandbox: it behaves like a standard OpenID server
// (oidc-provider's defaults) in the ways that trip up a broker. It issues
// a refresh token only when offline_access was asked for with
// prompt=consent; it issues a JWT access token for an API only when the
// RFC 8707 resource parameter names it (on the authorization and on every
// token request), and an opaque one otherwise; and its token responses
// list only the API scopes, never openid or offline_access.
type idp struct {
	t        *testing.T
	srv      *httptest.Server
	clientID string
	secret   string
	// wrongAudience makes it issue JWTs for another API than asked.
	wrongAudience bool

	mu       sync.Mutex
	codes    map[string]grantReq
	refresh  map[string]grantReq
	requests []url.Values // every token request's form
}

type grantReq struct {
	redirect, challenge, resource string
	scopes                        []string
	consent                       bool
}

func newIDP(t *testing.T) *idp {
	s := &idp{t: t, clientID: "app-1", secret: "idp-secret", codes: map[string]grantReq{}, refresh: map[string]grantReq{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *idp) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "invalid_request", http.StatusBadRequest)
		return
	}
	if len(q["resource"]) > 1 {
		http.Error(w, "invalid_target", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	s.mu.Lock()
	s.codes[code] = grantReq{
		redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), resource: q.Get("resource"),
		scopes: strings.Fields(q.Get("scope")), consent: q.Get("prompt") == "consent",
	}
	s.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	u.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *idp) token(w http.ResponseWriter, r *http.Request) {
	id, sec, ok := r.BasicAuth()
	if err := r.ParseForm(); err != nil || !ok || id != s.clientID || sec != s.secret {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.PostForm)
	var g grantReq
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c, ok := s.codes[r.PostForm.Get("code")]
		delete(s.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || c.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		g = c
	case "refresh_token":
		c, ok := s.refresh[r.PostForm.Get("refresh_token")]
		if !ok {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		g = c
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	// RFC 8707 §2.2: the token request names the resource again; a
	// different one than was authorized is invalid_target.
	if r.PostForm.Get("resource") != g.resource {
		writeOAuthError(w, http.StatusBadRequest, "invalid_target")
		return
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": 3600, "scope": "api:read"}
	if g.resource != "" {
		aud := g.resource
		if s.wrongAudience {
			aud = "https://other-api.example/"
		}
		resp["access_token"] = fakeJWT(map[string]any{"aud": aud, "sub": "user-1", "scope": "api:read"})
	} else {
		resp["access_token"] = "opaque-" + rand.Text()
	}
	if slices.Contains(g.scopes, "offline_access") && g.consent {
		rt := "rt-" + rand.Text()
		s.refresh[rt] = g
		resp["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func writeOAuthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// fakeJWT is a JWT-shaped token; grantd reads its claims without checking
// the signature, as only the resource server can.
func fakeJWT(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"at+jwt"}`)) + "." + enc(b) + "." + enc([]byte("sig"))
}

// openIDProvider is the custom provider docs/providers.md shows for a
// standard OpenID server, pointed at s.
func (s *idp) provider(t *testing.T, extra string) provider.Provider {
	t.Helper()
	yml := `name: acme-idp
display_name: Acme ID
grant: authorization_code
authorize_url: ` + s.srv.URL + `/auth
token_url: ` + s.srv.URL + `/token
token_encoding: form
client_auth: basic
pkce: true
scopes: [openid, offline_access, api:read]
access_token_ttl: 1h
refresh_token:
  rotation: never
  requires_scope: offline_access
api:
  base_url: ` + s.srv.URL + `/api
` + extra
	p, err := provider.Extend(provider.Provider{}, []byte(yml))
	if err != nil {
		t.Fatalf("provider YAML: %v", err)
	}
	if err := p.Validate(true); err != nil {
		t.Fatalf("provider: %v", err)
	}
	return p
}

// idpEnv is a broker whose only provider is p, with one integration for
// s's client.
func idpEnv(t *testing.T, s *idp, p provider.Provider) (*env, store.Integration) {
	t.Helper()
	e := newEnv(t)
	reg, err := provider.NewRegistry(e.provider, p)
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	e.b = e.newBroker("replica-a", -1)
	const id = "int_idp"
	sealed, err := e.keys.Seal([]byte(s.secret), vault.AAD("integration", id, "client_secret"))
	if err != nil {
		t.Fatal(err)
	}
	in := store.Integration{ID: id, TenantID: e.tenant, Provider: p.Name, Name: "Acme", ClientID: s.clientID,
		ClientSecret: sealed, RedirectURI: "http://127.0.0.1:1/oauth/callback/" + id, Scopes: p.Scopes,
		IsDefault: true, CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}
	if err := e.st.CreateIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	return e, in
}

// idpConnect runs the flow: link, start, the idp's authorize endpoint
// (no login page: it consents at once), the callback.
func idpConnect(t *testing.T, e *env, in store.Integration) (broker.Connected, *url.URL, error) {
	t.Helper()
	ctx := t.Context()
	link, err := e.b.CreateLink(ctx, e.tenant, broker.LinkRequest{IntegrationID: in.ID})
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	browser := rand.Text() + rand.Text()
	raw, err := e.b.Start(ctx, link.URL[strings.LastIndex(link.URL, "/")+1:], browser)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	authURL, _ := url.Parse(raw)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize = %d, no redirect", resp.StatusCode)
	}
	res, err := e.b.Callback(ctx, in.ID, loc.Query(), browser)
	return res, authURL, err
}

// TestOpenIDServerConnectAndRefresh connects to and refreshes at an
// independent OpenID server: prompt=consent from authorize_params brings
// the refresh token, resource brings a JWT for the API (SEC-12 checks its
// aud), and the connection records the scopes it asked for beside the
// ones the token response listed.
func TestOpenIDServerConnectAndRefresh(t *testing.T) {
	s := newIDP(t)
	p := s.provider(t, "authorize_params:\n  prompt: consent\nresource: https://api.acme.example/\n")
	e, in := idpEnv(t, s, p)
	res, authURL, err := idpConnect(t, e, in)
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	q := authURL.Query()
	if q.Get("prompt") != "consent" || q.Get("resource") != "https://api.acme.example/" || q.Get("state") == "" {
		t.Errorf("authorization URL %s lacks prompt, resource or state", authURL)
	}
	c := res.Connection
	if len(c.RefreshToken) == 0 {
		t.Fatal("no refresh token: prompt=consent did not reach the server")
	}
	if !slices.Equal(c.Scopes, []string{"api:read"}) || !slices.Equal(c.RequestedScopes, []string{"openid", "offline_access", "api:read"}) {
		t.Errorf("scopes %v, requested %v; want granted [api:read], requested all three", c.Scopes, c.RequestedScopes)
	}
	stored, err := e.st.GetConnection(t.Context(), c.ID)
	if err != nil || !slices.Equal(stored.RequestedScopes, c.RequestedScopes) {
		t.Errorf("stored requested scopes %v, %v", stored.RequestedScopes, err)
	}
	e.clk.Advance(2 * time.Hour)
	tok, err := e.b.Token(t.Context(), c.ID)
	if err != nil {
		t.Fatalf("Token after expiry (refresh): %v", err)
	}
	if !strings.Contains(tok.AccessToken, ".") {
		t.Errorf("refreshed token %q is not the JWT for the resource", tok.AccessToken)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) != 2 || s.requests[1].Get("grant_type") != "refresh_token" || s.requests[1].Get("resource") != "https://api.acme.example/" {
		t.Errorf("token requests = %v, want a code exchange then a refresh naming the resource", s.requests)
	}
}

// TestOpenIDServerWithoutConsent: without prompt=consent the same server
// issues no refresh token, which is what the finding was about.
func TestOpenIDServerWithoutConsent(t *testing.T) {
	s := newIDP(t)
	e, in := idpEnv(t, s, s.provider(t, "resource: https://api.acme.example/\n"))
	res, _, err := idpConnect(t, e, in)
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	if len(res.Connection.RefreshToken) != 0 {
		t.Errorf("refresh token issued without prompt=consent; the test server does not behave like oidc-provider")
	}
}

// TestOpenIDServerWrongAudienceSEC12: a JWT access token for another API
// than the resource asked for is refused and nothing is stored.
func TestOpenIDServerWrongAudienceSEC12(t *testing.T) {
	s := newIDP(t)
	s.wrongAudience = true
	e, in := idpEnv(t, s, s.provider(t, "authorize_params:\n  prompt: consent\nresource: https://api.acme.example/\n"))
	_, _, err := idpConnect(t, e, in)
	if broker.CodeOf(err) != broker.CodeTokenResponse || !strings.Contains(err.Error(), "another audience") {
		t.Fatalf("Callback = %v, want invalid_token_response for another audience", err)
	}
	for _, c := range e.connections() {
		if c.Provider == "acme-idp" {
			t.Errorf("connection stored: %+v", c)
		}
	}
}

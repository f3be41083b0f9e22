package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
)

const (
	clientID     = "grantd-test"
	clientSecret = "s3cret-test"
	redirectURI  = "https://app.example.test/callback"
	audAPI       = "https://api.pax8.com"
	partnerUser  = "partner@example-msp.test"
	partnerSub   = "auth0|partner-example-msp"
)

var allScopes = []string{"Manage:Pax8Data", "openid", "profile", "email", "offline_access"}

// env is one sandbox with one registered client and an x/oauth2 config for
// it: the independent client of STYLE rule 12.
type env struct {
	t       *testing.T
	s       *sandbox.Server
	ep      sandbox.Endpoints
	cfg     *oauth2.Config
	browser *http.Client
}

func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	s, ep := sandboxtest.Start(t, opts)
	s.RegisterClient(sandbox.Pax8, sandbox.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}, Name: "Test App"})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		t: t, s: s, ep: ep,
		cfg: &oauth2.Config{
			ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI, Scopes: allScopes,
			Endpoint: oauth2.Endpoint{AuthURL: ep.AuthorizeURL, TokenURL: ep.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		browser: &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// ctx carries an HTTP client with a timeout for x/oauth2 and go-oidc.
func (e *env) ctx() context.Context {
	return context.WithValue(e.t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
}

// flow is one authorization request's client-side secrets.
type flow struct {
	state, nonce, verifier string
}

func newFlow() flow {
	return flow{state: oauth2.GenerateVerifier()[:22], nonce: oauth2.GenerateVerifier()[:22], verifier: oauth2.GenerateVerifier()}
}

func (f flow) authURL(cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(f.verifier),
		oauth2.SetAuthURLParam("audience", audAPI),
		oauth2.SetAuthURLParam("nonce", f.nonce),
	}, extra...)
	return cfg.AuthCodeURL(f.state, opts...)
}

// login runs the browser leg and returns the callback URL.
func (e *env) login(authURL, user string, allow bool) *url.URL {
	e.t.Helper()
	loc, err := sandboxtest.Login(e.t.Context(), e.browser, authURL, user, "demo", allow)
	if err != nil {
		e.t.Fatalf("Login(%s) = %v", user, err)
	}
	return loc
}

// code runs the browser leg as the partner and returns the code.
func (e *env) code(f flow, extra ...oauth2.AuthCodeOption) string {
	e.t.Helper()
	loc := e.login(f.authURL(e.cfg, extra...), partnerUser, true)
	q := loc.Query()
	if got := q.Get("state"); got != f.state {
		e.t.Fatalf("callback state = %q, want %q (callback %s)", got, f.state, loc)
	}
	if q.Get("code") == "" {
		e.t.Fatalf("callback has no code: %s", loc)
	}
	return q.Get("code")
}

// connect runs a whole code flow and returns the token.
func (e *env) connect() (*oauth2.Token, flow) {
	e.t.Helper()
	f := newFlow()
	tok, err := e.cfg.Exchange(e.ctx(), e.code(f), oauth2.VerifierOption(f.verifier))
	if err != nil {
		e.t.Fatalf("Exchange = %v", err)
	}
	return tok, f
}

// refresh exchanges rt with x/oauth2.
func (e *env) refresh(rt string) (*oauth2.Token, error) {
	return e.cfg.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
}

// postJSON posts a JSON body and decodes a JSON answer.
func postJSON(t *testing.T, target string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

// bearerGet calls url with an access token.
func bearerGet(t *testing.T, target, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	status, _, body := do(t, req)
	return status, body
}

// jwtParts decodes a JWT's header and claims without verifying it.
func jwtParts(t *testing.T, tok string) (hdr, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", tok)
	}
	for i, dst := range []*map[string]any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("decode jwt part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("unmarshal jwt part %d: %v", i, err)
		}
	}
	return hdr, claims
}

func idToken(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	s, _ := tok.Extra("id_token").(string)
	if s == "" {
		t.Fatal("token response has no id_token")
	}
	return s
}

func tokenCounts(s *sandbox.Server, grant string) map[string]int {
	return s.Stats().Providers[sandbox.Pax8].TokenRequests[grant]
}

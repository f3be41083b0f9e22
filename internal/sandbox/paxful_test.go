package sandbox_test

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
)

const (
	paxfulUser = "trader@example-paxful.test"
	paxfulSub  = "paxful|u-0c5a1f3e"
	scopeMe    = "paxful/v1/user/me"
)

// newPaxful starts a sandbox with a paxful client and returns an x/oauth2
// config for it. Form encoding with the secret in the body is x/oauth2's
// native dialect, and Paxful's (seeds/003).
func newPaxful(t *testing.T, scopes ...string) (*env, sandbox.Endpoints) {
	t.Helper()
	s, _ := sandboxtest.Start(t, sandbox.Options{})
	ep := s.Endpoints(sandbox.Paxful)
	s.RegisterClient(sandbox.Paxful, sandbox.Client{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}, Name: "Test App"})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if scopes == nil {
		scopes = []string{"openid", "profile", "email", scopeMe}
	}
	return &env{
		t: t, s: s, ep: ep,
		cfg: &oauth2.Config{
			ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI, Scopes: scopes,
			Endpoint: oauth2.Endpoint{AuthURL: ep.AuthorizeURL, TokenURL: ep.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		browser: &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, ep
}

// paxfulConnect runs the browser leg as the Paxful demo trader (no
// audience parameter) and exchanges the code with x/oauth2.
func paxfulConnect(t *testing.T, e *env) (*oauth2.Token, flow) {
	t.Helper()
	f := newFlow()
	authURL := e.cfg.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("nonce", f.nonce))
	loc := e.login(authURL, paxfulUser, true)
	if got := loc.Query().Get("state"); got != f.state {
		t.Fatalf("callback state = %q, want %q", got, f.state)
	}
	tok, err := e.cfg.Exchange(e.ctx(), loc.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("Exchange = %v", err)
	}
	return tok, f
}

// paxfulCall POSTs a form to an operation of the emulated Paxful API.
func paxfulCall(t *testing.T, ep sandbox.Endpoints, op, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ep.APIBaseURL+"/paxful/v1/"+op, strings.NewReader(url.Values{}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	status, _, body := do(t, req)
	return status, body
}

// TestPaxfulCodeFlow runs Paxful's delegated flow with x/oauth2, discovers
// the issuer and verifies the id_token with go-oidc, reads userinfo and
// calls the API (SEC-04, SEC-07).
func TestPaxfulCodeFlow(t *testing.T) {
	e, ep := newPaxful(t)
	tok, f := paxfulConnect(t, e)
	if tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Fatalf("token: refresh %t, access %t; want both (no offline_access needed)", tok.RefreshToken != "", tok.AccessToken != "")
	}
	if got, want := tok.ExpiresIn, int64(3600); got != want {
		t.Errorf("expires_in = %d, want %d (1 h, seeds/003)", got, want)
	}

	ctx := oidc.ClientContext(e.ctx(), &http.Client{Timeout: 10 * time.Second})
	prov, err := oidc.NewProvider(ctx, ep.Issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s) = %v", ep.Issuer, err)
	}
	if strings.HasSuffix(ep.Issuer, "/") {
		t.Errorf("issuer %q ends with a slash; Paxful's is an origin", ep.Issuer)
	}
	if got := prov.Endpoint(); got.TokenURL != ep.TokenURL || got.AuthURL != ep.AuthorizeURL {
		t.Errorf("discovered endpoints = %+v, want %s and %s", got, ep.AuthorizeURL, ep.TokenURL)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: clientID, Now: e.s.Now}).Verify(ctx, idToken(t, tok))
	if err != nil {
		t.Fatalf("Verify(id_token) = %v", err)
	}
	if idt.Nonce != f.nonce || idt.Subject != paxfulSub {
		t.Errorf("id_token nonce %q sub %q, want %q %q", idt.Nonce, idt.Subject, f.nonce, paxfulSub)
	}

	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo = %v", err)
	}
	var profile map[string]any
	if err := ui.Claims(&profile); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sub": paxfulSub, "nickname": "TariqTrades", "given_name": "Tariq", "family_name": "Trader",
		"locale": "en", "picture": "https://paxful.example/avatars/tariq.png", "email": paxfulUser, "email_verified": true,
	}
	if diff := cmp.Diff(want, profile); diff != "" {
		t.Errorf("userinfo (-want +got):\n%s", diff)
	}

	status, body := paxfulCall(t, ep, "user/me", tok.AccessToken)
	if status != http.StatusOK || body["status"] != "success" || body["timestamp"] == nil {
		t.Fatalf("user/me = %d %v, want 200 in the success envelope", status, body)
	}
	data, _ := body["data"].(map[string]any)
	if data["username"] != "TariqTrades" || data["email"] != paxfulUser {
		t.Errorf("user/me data = %v", data)
	}
	if got := e.s.Stats().Providers[sandbox.Paxful].APICalls["200"]; got != 1 {
		t.Errorf("paxful api_calls[200] = %d, want 1", got)
	}
}

// TestPaxfulFormOnly: a JSON token request is refused, as the documented
// requests are all form-encoded (seeds/003).
func TestPaxfulFormOnly(t *testing.T) {
	_, ep := newPaxful(t)
	status, _, body := postJSON(t, ep.TokenURL, map[string]string{
		"grant_type": "refresh_token", "refresh_token": "x", "client_id": clientID, "client_secret": clientSecret,
	})
	if status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("JSON token request = %d %v, want 400 invalid_request", status, body)
	}
}

// TestPaxfulRotation: every refresh decommissions the token used, even
// with rotation switched off in the settings; presenting a used token is
// invalid_grant (RFC 6749 §5.2's 400) and revokes the family, newest token
// included (SEC-33, RT-03).
func TestPaxfulRotation(t *testing.T) {
	e, _ := newPaxful(t)
	st := sandbox.PaxfulSettings()
	st.Rotation = false
	e.s.Configure(sandbox.Paxful, st)
	tok, _ := paxfulConnect(t, e)

	rt := tok.RefreshToken
	for i := range 3 {
		next, err := e.refresh(rt)
		if err != nil {
			t.Fatalf("refresh %d = %v", i, err)
		}
		if next.RefreshToken == "" || next.RefreshToken == rt {
			t.Fatalf("refresh %d returned refresh token %q; want a new one", i, next.RefreshToken)
		}
		rt = next.RefreshToken
	}
	if got := e.s.Stats().Providers[sandbox.Paxful].RefreshReuseDetected; got != 0 {
		t.Fatalf("reuse detected = %d after a clean chain, want 0", got)
	}

	_, err := e.refresh(tok.RefreshToken)
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	if !ok || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("reusing a decommissioned token = %v, want 400 invalid_grant", err)
	}
	if _, err := e.refresh(rt); err == nil {
		t.Errorf("the newest token still works after reuse; want the family revoked")
	}
	ps := e.s.Stats().Providers[sandbox.Paxful]
	if ps.RefreshReuseDetected != 1 || ps.FamiliesRevoked != 1 {
		t.Errorf("reuse detected %d, families revoked %d; want 1 and 1", ps.RefreshReuseDetected, ps.FamiliesRevoked)
	}
}

// TestPaxfulAPIStatuses: 403 without the operation's scope, 401 once the
// token expired (seeds/003), 404 for an unknown operation, faults in the
// envelope, each counted for provider paxful.
func TestPaxfulAPIStatuses(t *testing.T) {
	e, ep := newPaxful(t, "profile")
	tok, _ := paxfulConnect(t, e)

	status, body := paxfulCall(t, ep, "user/me", tok.AccessToken)
	errBody, _ := body["error"].(map[string]any)
	if status != http.StatusForbidden || body["status"] != "error" || errBody["code"] != float64(403) {
		t.Errorf("user/me without its scope = %d %v, want 403 in the error envelope", status, body)
	}
	if status, _ := paxfulCall(t, ep, "nothing/here", tok.AccessToken); status != http.StatusNotFound {
		t.Errorf("unknown operation = %d, want 404", status)
	}
	if err := e.s.AddFault(sandbox.Fault{Provider: sandbox.Paxful, Endpoint: "api", Kind: "server_error"}); err != nil {
		t.Fatal(err)
	}
	if status, body := paxfulCall(t, ep, "user/me", tok.AccessToken); status != http.StatusInternalServerError || body["status"] != "error" {
		t.Errorf("server_error fault = %d %v, want 500 in the error envelope", status, body)
	}
	e.s.Advance(time.Hour)
	if status, _ := paxfulCall(t, ep, "user/me", tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("user/me with an expired token = %d, want 401", status)
	}
	got := e.s.Stats().Providers[sandbox.Paxful].APICalls
	if diff := cmp.Diff(map[string]int{"403": 1, "404": 1, "500": 1, "401": 1}, got); diff != "" {
		t.Errorf("paxful api_calls (-want +got):\n%s", diff)
	}
	if n := len(e.s.Stats().Providers[sandbox.Pax8].APICalls); n != 0 {
		t.Errorf("pax8 counted %d API statuses, want none", n)
	}
}

// TestPaxfulTokenFault: a token fault for paxful answers with the
// personality's invalid_grant status and counts under paxful.
func TestPaxfulTokenFault(t *testing.T) {
	e, _ := newPaxful(t)
	tok, _ := paxfulConnect(t, e)
	if err := e.s.AddFault(sandbox.Fault{Provider: sandbox.Paxful, Kind: "invalid_grant", GrantType: "refresh_token"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.refresh(tok.RefreshToken)
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("refresh under an invalid_grant fault = %v, want 400 invalid_grant", err)
	}
	if _, err := e.refresh(tok.RefreshToken); err != nil {
		t.Errorf("refresh after the fault = %v, want success (the fault did not consume the token)", err)
	}
	got := e.s.Stats().Providers[sandbox.Paxful].TokenRequests["refresh_token"]
	if diff := cmp.Diff(map[string]int{"invalid_grant": 1, "ok": 1}, got); diff != "" {
		t.Errorf("paxful refresh counts (-want +got):\n%s", diff)
	}
}

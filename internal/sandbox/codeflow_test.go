package sandbox_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
)

// TestCodeFlow runs the delegated flow with x/oauth2 and verifies the
// id_token with go-oidc, then uses the access token at /userinfo and the
// emulated API (SEC-04, SEC-07).
func TestCodeFlow(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok, f := e.connect()

	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Fatalf("token = type %q, refresh %t, access %t; want Bearer with both tokens", tok.TokenType, tok.RefreshToken != "", tok.AccessToken != "")
	}
	if got, want := tok.ExpiresIn, int64(86400); got != want {
		t.Errorf("expires_in = %d, want %d", got, want)
	}
	if got, want := tok.Extra("scope"), strings.Join(allScopes, " "); got != want {
		t.Errorf("scope = %v, want %q", got, want)
	}

	ctx := oidc.ClientContext(e.ctx(), &http.Client{})
	prov, err := oidc.NewProvider(ctx, e.ep.Issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider(%s) = %v", e.ep.Issuer, err)
	}
	if got := prov.Endpoint().TokenURL; got != e.ep.TokenURL {
		t.Errorf("discovered token URL = %q, want %q", got, e.ep.TokenURL)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: clientID, Now: e.s.Now}).Verify(ctx, idToken(t, tok))
	if err != nil {
		t.Fatalf("Verify(id_token) = %v", err)
	}
	if idt.Nonce != f.nonce {
		t.Errorf("id_token nonce = %q, want %q", idt.Nonce, f.nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("VerifyAccessToken (at_hash) = %v", err)
	}
	var claims struct {
		Sub, Name, Email string
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(struct{ Sub, Name, Email string }{partnerSub, "Ava Partner", partnerUser}, claims); diff != "" {
		t.Errorf("id_token claims (-want +got):\n%s", diff)
	}

	_, at := jwtParts(t, tok.AccessToken)
	wantAud := []any{audAPI, e.ep.Issuer + "userinfo"}
	if diff := cmp.Diff(wantAud, at["aud"]); diff != "" {
		t.Errorf("access token aud (-want +got):\n%s", diff)
	}
	if at["azp"] != clientID || at["iss"] != e.ep.Issuer || at["gty"] != nil {
		t.Errorf("access token azp=%v iss=%v gty=%v; want %s, %s, absent", at["azp"], at["iss"], at["gty"], clientID, e.ep.Issuer)
	}

	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo = %v", err)
	}
	if ui.Subject != partnerSub || ui.Email != partnerUser || !ui.EmailVerified {
		t.Errorf("userinfo = %+v, want sub %s email %s verified", ui, partnerSub, partnerUser)
	}

	status, _ := bearerGet(t, e.ep.APIBaseURL+"/companies", tok.AccessToken)
	if status != http.StatusOK {
		t.Errorf("GET /companies = %d, want 200", status)
	}
	status, body := bearerGet(t, e.ep.APIBaseURL+"/companies", "not-a-token")
	if status != http.StatusUnauthorized || body["type"] != "UNAUTHORIZED" || body["instance"] != "/public/v1/companies" {
		t.Errorf("GET /companies with a bad token = %d %v, want 401 UNAUTHORIZED at /public/v1/companies", status, body)
	}

	st := e.s.Stats().Providers[sandbox.Pax8]
	if st.AuthorizeRequests != 1 || st.CodeExchangesMaxPerCode != 1 || st.UserinfoRequests != 1 {
		t.Errorf("stats authorize=%d max_per_code=%d userinfo=%d, want 1 each", st.AuthorizeRequests, st.CodeExchangesMaxPerCode, st.UserinfoRequests)
	}
	if diff := cmp.Diff(map[string]int{"200": 1, "401": 1}, st.APICalls); diff != "" {
		t.Errorf("api_calls (-want +got):\n%s", diff)
	}
}

// TestCodeFlowBasicAuthAndJSONOnly checks client_secret_basic and the
// RequireJSON switch, which x/oauth2 (form only) must trip over.
func TestCodeFlowBasicAuthAndJSONOnly(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	if _, err := e.cfg.Exchange(e.ctx(), e.code(newFlow()), oauth2.VerifierOption(newFlow().verifier)); err == nil {
		t.Fatal("Exchange with another flow's verifier succeeded, want invalid_grant (SEC-05)")
	}
	f := newFlow()
	if _, err := e.cfg.Exchange(e.ctx(), e.code(f), oauth2.VerifierOption(f.verifier)); err != nil {
		t.Fatalf("Exchange with HTTP Basic = %v", err)
	}

	st := sandbox.DefaultSettings()
	st.RequireJSON = true
	e.s.Configure(sandbox.Pax8, st)
	f = newFlow()
	code := e.code(f)
	_, err := e.cfg.Exchange(e.ctx(), code, oauth2.VerifierOption(f.verifier))
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.ErrorCode != "invalid_request" {
		t.Fatalf("form Exchange under RequireJSON = %v, want invalid_request", err)
	}
	status, h, body := postJSON(t, e.ep.TokenURL, map[string]string{
		"grant_type": "authorization_code", "code": code, "client_id": clientID, "client_secret": clientSecret,
		"redirect_uri": redirectURI, "code_verifier": f.verifier,
	})
	// The form attempt was rejected before the code was looked at, so the
	// JSON exchange is the first.
	if status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("JSON exchange = %d %v, want 200 with access_token", status, body)
	}
	if got := h.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

// TestAuthorizeErrors covers the errors of the authorization endpoint:
// those redirected to the client, and those shown as a page because the
// redirect URI cannot be trusted (SEC-04, SEC-08).
func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	f := newFlow()
	base := func(mod func(q url.Values)) string {
		u, _ := url.Parse(f.authURL(e.cfg))
		q := u.Query()
		mod(q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	redirected := []struct {
		name, url, wantError, wantDesc string
	}{
		{"missing audience", base(func(q url.Values) { q.Del("audience") }), "invalid_request", "audience is required"},
		{"unknown audience", base(func(q url.Values) { q.Set("audience", "https://evil.example") }), "access_denied", "Service not found: https://evil.example"},
		{"SEC-04 plain PKCE", base(func(q url.Values) { q.Set("code_challenge_method", "plain"); q.Set("code_challenge", f.verifier) }), "invalid_request", ""},
		{"SEC-04 challenge without method", base(func(q url.Values) { q.Del("code_challenge_method") }), "invalid_request", ""},
		{"response_type token", base(func(q url.Values) { q.Set("response_type", "token") }), "unsupported_response_type", ""},
	}
	for _, tc := range redirected {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := sandboxtest.Login(t.Context(), e.browser, tc.url, partnerUser, "demo", true)
			if err != nil {
				t.Fatalf("Login = %v", err)
			}
			q := loc.Query()
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
				t.Errorf("redirected to %s, want %s", got, redirectURI)
			}
			if q.Get("error") != tc.wantError || q.Get("state") != f.state || q.Get("code") != "" {
				t.Errorf("callback = %v, want error %s, state echoed, no code", q, tc.wantError)
			}
			if tc.wantDesc != "" && q.Get("error_description") != tc.wantDesc {
				t.Errorf("error_description = %q, want %q", q.Get("error_description"), tc.wantDesc)
			}
		})
	}
	// SEC-08: redirect URI variants are refused with a page, never a
	// redirect.
	for _, variant := range []string{
		redirectURI + "/", strings.Replace(redirectURI, "callback", "Callback", 1), redirectURI + "?x=1",
		strings.Replace(redirectURI, "app.example.test", "app.example.test:8443", 1), "", "https://evil.example/callback",
	} {
		t.Run("SEC-08 redirect "+variant, func(t *testing.T) {
			_, err := sandboxtest.Login(t.Context(), e.browser, base(func(q url.Values) { q.Set("redirect_uri", variant) }), partnerUser, "demo", true)
			if !errors.Is(err, sandboxtest.ErrRefused) || !strings.Contains(err.Error(), "400") {
				t.Errorf("Login with redirect_uri %q = %v, want a 400 page", variant, err)
			}
		})
	}
	t.Run("unknown client", func(t *testing.T) {
		_, err := sandboxtest.Login(t.Context(), e.browser, base(func(q url.Values) { q.Set("client_id", "nobody") }), partnerUser, "demo", true)
		if !errors.Is(err, sandboxtest.ErrRefused) {
			t.Errorf("Login with unknown client = %v, want ErrRefused", err)
		}
	})
}

// TestLoginAndConsent covers the partner's choices: a vendor account is
// refused as Pax8 says, a wrong password shows the form again, and Deny
// answers access_denied.
func TestLoginAndConsent(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	f := newFlow()
	_, err := sandboxtest.Login(t.Context(), e.browser, f.authURL(e.cfg), "vendor@example-vendor.test", "demo", true)
	if err == nil || !strings.Contains(err.Error(), "Only Pax8 Partner accounts will work.") {
		t.Errorf("vendor Login = %v, want the vendor refusal", err)
	}
	_, err = sandboxtest.Login(t.Context(), e.browser, f.authURL(e.cfg), partnerUser, "wrong", true)
	if err == nil || !strings.Contains(err.Error(), "Wrong email or password.") {
		t.Errorf("wrong-password Login = %v, want the login error", err)
	}
	loc := e.login(f.authURL(e.cfg), partnerUser, false)
	want := url.Values{"error": {"access_denied"}, "error_description": {"User did not authorize the request"}, "state": {f.state}}
	if diff := cmp.Diff(want, loc.Query()); diff != "" {
		t.Errorf("deny callback (-want +got):\n%s", diff)
	}
	if !strings.Contains(loc.RawQuery, "User%20did%20not") && !strings.Contains(loc.RawQuery, "User+did+not") {
		t.Errorf("deny callback query %q is not encoded", loc.RawQuery)
	}
	// The second partner account works too.
	loc = e.login(newFlow().authURL(e.cfg), "ops@northwind-msp.test", true)
	if loc.Query().Get("code") == "" {
		t.Errorf("northwind callback = %s, want a code", loc)
	}
	accts := sandbox.Accounts()
	if !slices.ContainsFunc(accts, func(a sandbox.Account) bool { return a.Kind == sandbox.KindVendor }) {
		t.Errorf("Accounts() has no vendor account")
	}
}

// TestCodeExchangeErrors covers code replay (SEC-30), verifier mismatch
// (SEC-05), redirect_uri mismatch at the token endpoint (SEC-08), a secret
// in the URL (SEC-38) and a bad client.
func TestCodeExchangeErrors(t *testing.T) {
	e := newEnv(t, sandbox.Options{})

	t.Run("SEC-30 replay revokes", func(t *testing.T) {
		f := newFlow()
		code := e.code(f)
		tok, err := e.cfg.Exchange(e.ctx(), code, oauth2.VerifierOption(f.verifier))
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.cfg.Exchange(e.ctx(), code, oauth2.VerifierOption(f.verifier))
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.ErrorCode != "invalid_grant" {
			t.Fatalf("second Exchange = %v, want invalid_grant", err)
		}
		if _, err := e.refresh(tok.RefreshToken); err == nil {
			t.Error("refresh after code replay succeeded, want the grant revoked")
		}
		if status, _ := bearerGet(t, e.ep.APIBaseURL+"/companies", tok.AccessToken); status != http.StatusUnauthorized {
			t.Errorf("API with the replayed grant's access token = %d, want 401", status)
		}
		if got := e.s.Stats().Providers[sandbox.Pax8].CodeExchangesMaxPerCode; got != 2 {
			t.Errorf("code_exchanges_max_per_code = %d, want 2", got)
		}
	})
	t.Run("SEC-05 verifier mismatch", func(t *testing.T) {
		f := newFlow()
		_, err := e.cfg.Exchange(e.ctx(), e.code(f), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusForbidden {
			t.Errorf("Exchange with a wrong verifier = %v, want 403 invalid_grant", err)
		}
		_, err = e.cfg.Exchange(e.ctx(), e.code(newFlow()))
		if err == nil {
			t.Error("Exchange without a verifier succeeded, want invalid_grant")
		}
	})
	t.Run("SEC-08 token redirect_uri", func(t *testing.T) {
		f := newFlow()
		code := e.code(f)
		cfg := *e.cfg
		cfg.RedirectURL = redirectURI + "/"
		if _, err := cfg.Exchange(e.ctx(), code, oauth2.VerifierOption(f.verifier)); err == nil {
			t.Error("Exchange with another redirect_uri succeeded")
		}
	})
	t.Run("SEC-38 secret in query", func(t *testing.T) {
		f := newFlow()
		status, _, body := postJSON(t, e.ep.TokenURL+"?client_secret="+clientSecret, map[string]string{
			"grant_type": "authorization_code", "code": e.code(f), "client_id": clientID, "redirect_uri": redirectURI, "code_verifier": f.verifier,
		})
		if status != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("secret in query = %d %v, want 400 invalid_request", status, body)
		}
	})
	t.Run("bad client", func(t *testing.T) {
		status, _, body := postJSON(t, e.ep.TokenURL, map[string]string{
			"grant_type": "authorization_code", "code": "x", "client_id": clientID, "client_secret": "wrong", "redirect_uri": redirectURI,
		})
		want := map[string]any{"error": "access_denied", "error_description": "Unauthorized"}
		if diff := cmp.Diff(want, body); status != http.StatusUnauthorized || diff != "" {
			t.Errorf("wrong secret = %d, body (-want +got):\n%s", status, diff)
		}
	})
	t.Run("code expires after 10 minutes", func(t *testing.T) {
		f := newFlow()
		code := e.code(f)
		e.s.Advance(11 * 60e9)
		if _, err := e.cfg.Exchange(e.ctx(), code, oauth2.VerifierOption(f.verifier)); err == nil {
			t.Error("Exchange of an 11-minute-old code succeeded")
		}
	})
}

// TestScopesWithoutOfflineOrOpenID checks that the refresh token and the
// id_token come only with offline_access and openid.
func TestScopesWithoutOfflineOrOpenID(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.cfg.Scopes = []string{"Manage:Pax8Data", "unknown:scope"}
	f := newFlow()
	tok, err := e.cfg.Exchange(e.ctx(), e.code(f), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" || tok.Extra("id_token") != nil || tok.Extra("scope") != "Manage:Pax8Data" {
		t.Errorf("token = refresh %q, id_token %v, scope %v; want none, none, Manage:Pax8Data", tok.RefreshToken, tok.Extra("id_token"), tok.Extra("scope"))
	}
	_, at := jwtParts(t, tok.AccessToken)
	if at["aud"] != audAPI {
		t.Errorf("aud = %v, want %q alone without openid", at["aud"], audAPI)
	}
	if status, _ := bearerGet(t, e.ep.UserinfoURL, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo without openid audience = %d, want 401", status)
	}
	if status, _ := bearerGet(t, e.ep.APIBaseURL+"/companies", tok.AccessToken); status != http.StatusOK {
		t.Errorf("API = %d, want 200", status)
	}
}

package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
)

const (
	daxkoUser    = "daxko_api_user"
	daxkoPass    = "d9a2652cf96d734661c10d5ff2f8061f"
	daxkoPartner = "eyJ-partner-refresh-token-canary"
)

// bearerTransport adds the partner refresh token as a bearer, which is all
// x/oauth2's clientcredentials needs to speak Daxko (seeds/004).
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func newDaxko(t *testing.T, opts sandbox.Options) (*sandbox.Server, sandbox.Endpoints) {
	t.Helper()
	s, _ := sandboxtest.Start(t, opts)
	if err := s.RegisterDaxkoPartner(sandbox.DaxkoPartner{Username: daxkoUser, Password: daxkoPass, RefreshToken: daxkoPartner, Clients: []int{9999, 4242}}); err != nil {
		t.Fatal(err)
	}
	return s, s.Endpoints(sandbox.Daxko)
}

// daxkoToken gets a client-scoped token with x/oauth2's clientcredentials.
func daxkoToken(ctx context.Context, ep sandbox.Endpoints, bearer, password, scope string) (*oauth2.Token, error) {
	cfg := clientcredentials.Config{
		ClientID: daxkoUser, ClientSecret: password, TokenURL: ep.TokenURL,
		Scopes: []string{scope}, AuthStyle: oauth2.AuthStyleInParams,
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: bearerTransport{bearer}}
	return cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
}

// TestDaxkoClientScopedTokens: one partner credential yields a token per
// Daxko client, each usable only for its client's data; expires_in comes
// as the string "86400" and x/oauth2 accepts it.
func TestDaxkoClientScopedTokens(t *testing.T) {
	s, ep := newDaxko(t, sandbox.Options{})
	ctx := t.Context()
	a, err := daxkoToken(ctx, ep, daxkoPartner, daxkoPass, "client:9999")
	if err != nil {
		t.Fatalf("token for client 9999 = %v", err)
	}
	b, err := daxkoToken(ctx, ep, daxkoPartner, daxkoPass, "client:4242")
	if err != nil {
		t.Fatalf("token for client 4242 = %v", err)
	}
	if got := a.Extra("expires_in"); got != "86400" {
		t.Errorf("expires_in = %#v, want the string \"86400\"", got)
	}
	if d := time.Until(a.Expiry); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("expiry in %s, want about 24h", d)
	}
	if a.RefreshToken != "" {
		t.Errorf("the token response carries a refresh token")
	}

	units := ep.APIBaseURL + "/units/"
	for _, tc := range []struct {
		name, token, unit string
		want              int
	}{
		{"own unit", a.AccessToken, "101", http.StatusOK},
		{"own unit of the other client", b.AccessToken, "201", http.StatusOK},
		{"other client's unit", a.AccessToken, "201", http.StatusForbidden},
		{"other client's unit, reversed", b.AccessToken, "102", http.StatusForbidden},
		{"unknown unit", a.AccessToken, "999", http.StatusNotFound},
		{"the partner refresh token", daxkoPartner, "101", http.StatusUnauthorized},
	} {
		status, body := bearerGet(t, units+tc.unit, tc.token)
		if status != tc.want {
			t.Errorf("%s: GET units/%s = %d %v, want %d", tc.name, tc.unit, status, body, tc.want)
		}
	}
	status, body := bearerGet(t, units+"101", a.AccessToken)
	if status != http.StatusOK || body["name"] != "Downtown YMCA" || body["client_id"] != float64(9999) {
		t.Errorf("GET units/101 = %d %v", status, body)
	}

	s.Advance(24 * time.Hour)
	if status, _ := bearerGet(t, units+"101", a.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("expired token = %d, want 401 (seeds/004)", status)
	}
	if got := s.Stats().Providers[sandbox.Daxko].TokenRequests["client_credentials"]["ok"]; got != 2 {
		t.Errorf("daxko client_credentials ok = %d, want 2", got)
	}
}

// TestDaxkoExpiresInNumber: the setting switches expires_in to a number.
func TestDaxkoExpiresInNumber(t *testing.T) {
	st := sandbox.DaxkoSettings()
	st.ExpiresInNumber = true
	st.AccessTTL = time.Hour
	_, ep := newDaxko(t, sandbox.Options{Daxko: st})
	tok, err := daxkoToken(t.Context(), ep, daxkoPartner, daxkoPass, "client:9999")
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Extra("expires_in"); got != float64(3600) {
		t.Errorf("expires_in = %#v, want the number 3600", got)
	}
}

// TestDaxkoRefused: wrong bearer or credentials are 401; a malformed scope
// 400; a client the partner may not use 403; nothing but
// client_credentials.
func TestDaxkoRefused(t *testing.T) {
	s, ep := newDaxko(t, sandbox.Options{})
	if err := s.RegisterDaxkoPartner(sandbox.DaxkoPartner{Username: "narrow", Password: "pw", RefreshToken: "rt-narrow", Clients: []int{4242}}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, tc := range []struct {
		name, bearer, password, scope string
		status                        int
		code                          string
	}{
		{"wrong bearer", "not-the-token", daxkoPass, "client:9999", 401, "invalid_client"},
		{"wrong password", daxkoPartner, "nope", "client:9999", 401, "invalid_client"},
		{"client not an integer", daxkoPartner, daxkoPass, "client:abc", 400, "invalid_scope"},
		{"no client", daxkoPartner, daxkoPass, "tokenize:6f1c", 400, "invalid_scope"},
		{"unknown name", daxkoPartner, daxkoPass, "member:1", 400, "invalid_scope"},
		{"unknown client", daxkoPartner, daxkoPass, "client:1234", 403, "access_denied"},
	} {
		_, err := daxkoToken(ctx, ep, tc.bearer, tc.password, tc.scope)
		re, ok := errors.AsType[*oauth2.RetrieveError](err)
		if !ok || re.Response.StatusCode != tc.status || re.ErrorCode != tc.code {
			t.Errorf("%s: token = %v, want %d %s", tc.name, err, tc.status, tc.code)
		}
	}
	// A partner limited to client 4242 cannot get 9999.
	cfg := clientcredentials.Config{ClientID: "narrow", ClientSecret: "pw", TokenURL: ep.TokenURL, Scopes: []string{"client:9999"}, AuthStyle: oauth2.AuthStyleInParams}
	_, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: bearerTransport{"rt-narrow"}}))
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.Response.StatusCode != http.StatusForbidden {
		t.Errorf("narrow partner for client 9999 = %v, want 403", err)
	}
	// No bearer at all.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ep.TokenURL, strings.NewReader("grant_type=client_credentials&client_id="+daxkoUser+"&client_secret="+daxkoPass+"&scope=client:9999"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, _, body := do(t, req); status != http.StatusUnauthorized {
		t.Errorf("no bearer = %d %v, want 401", status, body)
	}
	got := s.Stats().Providers[sandbox.Daxko].TokenRequests["client_credentials"]
	if diff := cmp.Diff(map[string]int{"invalid_client": 3, "invalid_scope": 3, "access_denied": 2}, got); diff != "" {
		t.Errorf("daxko token counts (-want +got):\n%s", diff)
	}
}

// TestDaxkoBodyEncodings: the seed's curl posts multipart (-F), the swagger
// JSON, the clients in use urlencoded forms; all three work (SEC-38: the
// password never goes in the URL).
func TestDaxkoBodyEncodings(t *testing.T) {
	_, ep := newDaxko(t, sandbox.Options{})
	fields := map[string]string{"grant_type": "client_credentials", "client_id": daxkoUser, "client_secret": daxkoPass, "scope": "client:9999"}

	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	w.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ep.TokenURL, &mp)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+daxkoPartner)
	if status, _, body := do(t, req); status != http.StatusOK || body["access_token"] == nil {
		t.Errorf("multipart token request = %d %v, want 200", status, body)
	}

	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, ep.TokenURL, strings.NewReader(`{"grant_type":"client_credentials","client_id":"`+daxkoUser+`","client_secret":"`+daxkoPass+`","scope":"client:4242"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+daxkoPartner)
	if status, _, body := do(t, req); status != http.StatusOK || body["expires_in"] != "86400" || body["token_type"] != "bearer" {
		t.Errorf("JSON token request = %d %v, want 200 with expires_in \"86400\"", status, body)
	}

	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, ep.TokenURL+"?client_secret="+daxkoPass, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+daxkoPartner)
	if status, _, _ := do(t, req); status != http.StatusBadRequest {
		t.Errorf("secret in the URL = %d, want 400", status)
	}
}

// TestDaxkoControlAndFaults: partners can be registered over the control
// API, and token and API faults apply to provider daxko.
func TestDaxkoControlAndFaults(t *testing.T) {
	s, ep := newDaxko(t, sandbox.Options{})
	base := strings.TrimSuffix(ep.Issuer, "/daxko")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/_sandbox/daxko/partners",
		strings.NewReader(`{"username":"ctl","password":"pw","refresh_token":"rt-ctl","clients":[9999]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /_sandbox/daxko/partners = %d, want 204", resp.StatusCode)
	}
	cfg := clientcredentials.Config{ClientID: "ctl", ClientSecret: "pw", TokenURL: ep.TokenURL, Scopes: []string{"client:9999"}, AuthStyle: oauth2.AuthStyleInParams}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: bearerTransport{"rt-ctl"}})
	if _, err := cfg.Token(ctx); err != nil {
		t.Errorf("token for the partner registered over HTTP = %v", err)
	}

	if err := s.AddFault(sandbox.Fault{Provider: sandbox.Daxko, Kind: "server_error"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Token(ctx); err == nil {
		t.Errorf("token under a server_error fault succeeded")
	}
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddFault(sandbox.Fault{Provider: sandbox.Daxko, Endpoint: "api", Kind: "rate_limited"}); err != nil {
		t.Fatal(err)
	}
	if status, _ := bearerGet(t, ep.APIBaseURL+"/units/101", tok.AccessToken); status != http.StatusTooManyRequests {
		t.Errorf("API under a rate_limited fault = %d, want 429", status)
	}
	ps := s.Stats().Providers[sandbox.Daxko]
	if ps.TokenRequests["client_credentials"]["server_error"] != 1 || ps.APICalls["429"] != 1 {
		t.Errorf("daxko stats = %+v, want one server_error token request and one 429", ps)
	}
}

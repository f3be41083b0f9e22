package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/sandbox"
)

// exchangeRaw runs a code flow and posts the exchange as JSON, returning
// the raw answer.
func (e *env) exchangeRaw(ctx context.Context) (*http.Response, []byte, error) {
	f := newFlow()
	code := e.code(f)
	b, _ := json.Marshal(map[string]string{
		"grant_type": "authorization_code", "code": code, "client_id": clientID, "client_secret": clientSecret,
		"redirect_uri": redirectURI, "code_verifier": f.verifier,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.ep.TokenURL, strings.NewReader(string(b)))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// TestTokenFaults checks that each token-endpoint fault answers what it
// says (SEC-31 token_type, SEC-32 narrowed scope, RT-05 500 after rotation).
func TestTokenFaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	jsonField := func(k string, want any) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, resp *http.Response, body []byte) {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if got, ok := m[k]; (want == nil && ok) || (want != nil && got != want) {
				t.Errorf("%s = %#v, want %#v (body %s)", k, got, want, body)
			}
		}
	}
	tests := []struct {
		kind       string
		wantStatus int
		check      func(*testing.T, *http.Response, []byte)
	}{
		{"invalid_grant", 403, jsonField("error", "invalid_grant")},
		{"server_error", 500, jsonField("error", "server_error")},
		{"server_error_after", 500, jsonField("error", "server_error")},
		{"rate_limited", 429, func(t *testing.T, resp *http.Response, _ []byte) {
			if got := resp.Header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After = %q, want 1", got)
			}
		}},
		{"malformed", 200, func(t *testing.T, _ *http.Response, body []byte) {
			if json.Valid(body) {
				t.Errorf("body %q is valid JSON", body)
			}
		}},
		{"html", 502, func(t *testing.T, resp *http.Response, _ []byte) {
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", ct)
			}
		}},
		{"no_access_token", 200, jsonField("access_token", nil)},
		{"token_type_mac", 200, jsonField("token_type", "mac")},
		{"expires_in_string", 200, jsonField("expires_in", "86400")},
		{"expires_in_negative", 200, jsonField("expires_in", float64(-3600))},
		{"expires_in_huge", 200, jsonField("expires_in", float64(1e12))},
		{"scope_narrowed", 200, jsonField("scope", "openid profile email offline_access")},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			if err := e.s.AddFault(sandbox.Fault{Kind: tc.kind}); err != nil {
				t.Fatal(err)
			}
			resp, body, err := e.exchangeRaw(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tc.wantStatus, body)
			}
			tc.check(t, resp, body)
			// The fault is consumed: the next exchange is normal.
			if resp, body, err := e.exchangeRaw(t.Context()); err != nil || resp.StatusCode != 200 {
				t.Errorf("next exchange = %v %s, want 200", err, body)
			}
			if got := tokenCounts(e.s, "authorization_code")[tc.kind]; got != 1 && tc.wantStatus == 200 && tc.kind != "scope_narrowed" {
				t.Errorf("stats outcome %s = %d, want 1", tc.kind, got)
			}
		})
	}
}

func TestTokenFaultFiltersAndSlow(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	t.Run("grant_type filter and count", func(t *testing.T) {
		if err := e.s.AddFault(sandbox.Fault{Kind: "invalid_grant", GrantType: "refresh_token", Count: 2}); err != nil {
			t.Fatal(err)
		}
		tok, _ := e.connect() // not affected
		for i := range 2 {
			if _, err := e.refresh(tok.RefreshToken); err == nil {
				t.Errorf("refresh %d under the fault succeeded", i)
			}
		}
		// The faulted refreshes did not consume the token.
		if _, err := e.refresh(tok.RefreshToken); err != nil {
			t.Errorf("refresh after the fault = %v", err)
		}
	})
	t.Run("slow", func(t *testing.T) {
		if err := e.s.AddFault(sandbox.Fault{Kind: "slow", Delay: 300 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, _, err := e.exchangeRaw(t.Context())
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("slow exchange = %v, want 200", err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("slow exchange took %v, want ≥300ms", d)
		}
		if err := e.s.AddFault(sandbox.Fault{Kind: "slow", Delay: time.Minute}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		if _, _, err := e.exchangeRaw(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("slow exchange with a 200ms deadline = %v, want deadline exceeded", err)
		}
	})
	t.Run("invalid faults", func(t *testing.T) {
		for _, f := range []sandbox.Fault{
			{Kind: "nope"}, {Kind: "iss_missing", Endpoint: "token"}, {Kind: "slow"},
			{Kind: "server_error", GrantType: "password"}, {Kind: "server_error", Provider: "nobody"},
		} {
			if err := e.s.AddFault(f); err == nil {
				t.Errorf("AddFault(%+v) = nil, want an error", f)
			}
		}
	})
}

// TestIDTokenFaults checks every id_token misbehaviour of the checklist
// (OIDC-01 … OIDC-18) with go-oidc as the verifier.
func TestIDTokenFaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	ctx := e.ctx()
	prov, err := oidc.NewProvider(ctx, e.ep.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier := prov.Verifier(&oidc.Config{ClientID: clientID, Now: e.s.Now})
	mustReject := func(t *testing.T, _ flow, tok *oauth2.Token, _, _ map[string]any) {
		if _, err := verifier.Verify(ctx, idToken(t, tok)); err == nil {
			t.Error("go-oidc accepted the id_token")
		}
	}
	claim := func(k string, want any) func(*testing.T, flow, *oauth2.Token, map[string]any, map[string]any) {
		return func(t *testing.T, _ flow, _ *oauth2.Token, _, c map[string]any) {
			if got, ok := c[k]; (want == nil && ok) || (want != nil && got != want) {
				t.Errorf("claim %s = %#v, want %#v", k, got, want)
			}
		}
	}
	// A first verification caches the JWKS, so that rotation is seen as an
	// unknown kid (OIDC-13).
	tok0, _ := e.connect()
	if _, err := verifier.Verify(ctx, idToken(t, tok0)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind  string
		check func(t *testing.T, f flow, tok *oauth2.Token, hdr, claims map[string]any)
	}{
		{"id_token_iss_mismatch", mustReject},                              // OIDC-01
		{"id_token_iss_trailing_slash", mustReject},                        // OIDC-01
		{"id_token_no_aud", mustReject},                                    // OIDC-02
		{"id_token_wrong_aud", mustReject},                                 // OIDC-02
		{"id_token_extra_aud", claim("azp", clientID)},                     // OIDC-02
		{"id_token_multi_aud_no_azp", claim("azp", nil)},                   // OIDC-03
		{"id_token_wrong_azp", claim("azp", "some-other-client")},          // OIDC-03
		{"id_token_no_sub", claim("sub", nil)},                             // OIDC-04
		{"id_token_expired", mustReject},                                   // OIDC-05
		{"id_token_no_iat", claim("iat", nil)},                             // OIDC-06
		{"id_token_no_nonce", claim("nonce", nil)},                         // OIDC-07
		{"id_token_wrong_nonce", claim("nonce", "not-the-nonce-you-sent")}, // OIDC-07
		{"id_token_bad_signature", mustReject},                             // OIDC-08
		{"id_token_alg_none", mustReject},                                  // OIDC-09
		{"id_token_hs256", mustReject},                                     // OIDC-10
		{"id_token_other_sub", claim("sub", "auth0|someone-else")},         // OIDC-15
		{"id_token_future_iat", func(t *testing.T, _ flow, _ *oauth2.Token, _, c map[string]any) { // OIDC-06
			if iat, _ := c["iat"].(float64); int64(iat) <= e.s.Now().Unix()+60 {
				t.Errorf("iat = %v, want more than a minute ahead", iat)
			}
		}},
		{"id_token_bad_at_hash", func(t *testing.T, _ flow, tok *oauth2.Token, _, _ map[string]any) { // OIDC-18
			idt, err := verifier.Verify(ctx, idToken(t, tok))
			if err != nil {
				t.Fatal(err)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err == nil {
				t.Error("at_hash matched")
			}
		}},
		{"id_token_no_kid", func(t *testing.T, _ flow, tok *oauth2.Token, hdr, _ map[string]any) { // OIDC-11
			if hdr["kid"] != nil {
				t.Errorf("kid = %v, want none", hdr["kid"])
			}
		}},
		{"id_token_unknown_kid_rotated", func(t *testing.T, _ flow, tok *oauth2.Token, hdr, _ map[string]any) { // OIDC-13
			h0, _ := jwtParts(t, idToken(t, tok0))
			if hdr["kid"] == h0["kid"] {
				t.Errorf("kid %v not rotated", hdr["kid"])
			}
			if _, err := verifier.Verify(ctx, idToken(t, tok)); err != nil {
				t.Errorf("go-oidc after rotation = %v, want accepted after a JWKS re-fetch", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			if err := e.s.AddFault(sandbox.Fault{Kind: tc.kind}); err != nil {
				t.Fatal(err)
			}
			var tok *oauth2.Token
			var f flow
			if tc.kind == "id_token_other_sub" {
				// OIDC-15 is about refresh responses.
				e.s.ClearFaults()
				base, _ := e.connect()
				if err := e.s.AddFault(sandbox.Fault{Kind: tc.kind, GrantType: "refresh_token"}); err != nil {
					t.Fatal(err)
				}
				var err error
				if tok, err = e.refresh(base.RefreshToken); err != nil {
					t.Fatal(err)
				}
			} else {
				tok, f = e.connect()
			}
			hdr, c := jwtParts(t, idToken(t, tok))
			tc.check(t, f, tok, hdr, c)
			// The fault affects only the id_token: the access token is honest.
			if status, _ := bearerGet(t, e.ep.APIBaseURL+"/companies", tok.AccessToken); status != http.StatusOK {
				t.Errorf("API with the access token = %d, want 200", status)
			}
		})
	}
	if got, want := len(tests), 20; got != want {
		t.Errorf("%d id_token faults tested, want %d", got, want)
	}
}

// TestAuthorizeIssFaults covers RFC 9207 iss on the callback (SEC-21,
// SEC-22).
func TestAuthorizeIssFaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	if iss := e.login(newFlow().authURL(e.cfg), partnerUser, true).Query().Get("iss"); iss != "" {
		t.Errorf("default callback iss = %q, want none (Auth0)", iss)
	}
	if err := e.s.AddFault(sandbox.Fault{Kind: "iss_mismatch"}); err != nil {
		t.Fatal(err)
	}
	if iss := e.login(newFlow().authURL(e.cfg), partnerUser, true).Query().Get("iss"); iss == "" || iss == e.ep.Issuer {
		t.Errorf("iss_mismatch callback iss = %q, want another issuer", iss)
	}
	st := sandbox.DefaultSettings()
	st.SendIss = true
	e.s.Configure(sandbox.Pax8, st)
	if iss := e.login(newFlow().authURL(e.cfg), partnerUser, true).Query().Get("iss"); iss != e.ep.Issuer {
		t.Errorf("SendIss callback iss = %q, want %q", iss, e.ep.Issuer)
	}
	var disc map[string]any
	if status, body := bearerGet(t, e.ep.DiscoveryURL, ""); status != 200 {
		t.Fatalf("discovery = %d", status)
	} else {
		disc = body
	}
	if disc["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("discovery does not advertise iss support under SendIss")
	}
	if err := e.s.AddFault(sandbox.Fault{Kind: "iss_missing"}); err != nil {
		t.Fatal(err)
	}
	if loc := e.login(newFlow().authURL(e.cfg), partnerUser, true); loc.Query().Has("iss") || loc.Query().Get("code") == "" {
		t.Errorf("iss_missing callback = %s, want a code without iss", loc)
	}
}

// TestUserinfoAPIAndJWKSFaults covers OIDC-17, OIDC-14 and the API faults.
func TestUserinfoAPIAndJWKSFaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tok, _ := e.connect()

	if err := e.s.AddFault(sandbox.Fault{Kind: "userinfo_other_sub"}); err != nil {
		t.Fatal(err)
	}
	if status, body := bearerGet(t, e.ep.UserinfoURL, tok.AccessToken); status != 200 || body["sub"] == partnerSub { // OIDC-17
		t.Errorf("userinfo_other_sub = %d sub %v, want 200 with another sub", status, body["sub"])
	}
	if status, body := bearerGet(t, e.ep.UserinfoURL, tok.AccessToken); status != 200 || body["sub"] != partnerSub {
		t.Errorf("userinfo after the fault = %d sub %v, want %s", status, body["sub"], partnerSub)
	}

	api := e.ep.APIBaseURL + "/companies"
	e.s.ResetStats()
	for _, tc := range []struct {
		kind string
		want int
	}{{"unauthorized", 401}, {"rate_limited", 429}, {"server_error", 500}, {"html", 502}} {
		if err := e.s.AddFault(sandbox.Fault{Kind: tc.kind, Endpoint: "api"}); err != nil {
			t.Fatal(err)
		}
		if status, _ := bearerGet(t, api, tok.AccessToken); status != tc.want {
			t.Errorf("api fault %s = %d, want %d", tc.kind, status, tc.want)
		}
	}
	st := sandbox.DefaultSettings()
	st.RateLimited = true
	e.s.Configure(sandbox.Pax8, st)
	if status, _ := bearerGet(t, api, tok.AccessToken); status != 429 {
		t.Errorf("RateLimited API = %d, want 429", status)
	}
	e.s.Configure(sandbox.Pax8, sandbox.Settings{})
	if status, _ := bearerGet(t, api, tok.AccessToken); status != 200 {
		t.Errorf("API = %d, want 200", status)
	}
	want := map[string]int{"401": 1, "429": 2, "500": 1, "502": 1, "200": 1}
	got := e.s.Stats().Providers[sandbox.Pax8].APICalls
	if len(got) != len(want) {
		t.Errorf("api_calls = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("api_calls[%s] = %d, want %d", k, got[k], v)
		}
	}

	if err := e.s.AddFault(sandbox.Fault{Kind: "jwks_bad_key"}); err != nil {
		t.Fatal(err)
	}
	for i, wantKeys := range []int{2, 1} {
		resp, err := http.Get(e.ep.JWKSURL)
		if err != nil {
			t.Fatal(err)
		}
		var raw struct{ Keys []json.RawMessage }
		json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
		if len(raw.Keys) != wantKeys {
			t.Fatalf("JWKS fetch %d has %d keys, want %d", i, len(raw.Keys), wantKeys)
		}
		parsed := 0
		for _, k := range raw.Keys {
			var jwk jose.JSONWebKey
			if jwk.UnmarshalJSON(k) == nil {
				parsed++
			}
		}
		if parsed != 1 { // OIDC-14: exactly one good key
			t.Errorf("JWKS fetch %d: %d parseable keys, want 1", i, parsed)
		}
	}
}

package sandbox_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/grantd/grantd/internal/sandbox"
)

// TestClientCredentials posts Pax8's documented JSON body to both token
// URLs for each audience (provider-facts §1.2; SEC-36: no refresh token).
func TestClientCredentials(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tests := []struct {
		audience, wantScope string
		apiStatus           int
	}{
		{"https://api.pax8.com", "", http.StatusOK},
		{"api://p8p.client", "", http.StatusOK},
		{"api://provisioning", "vendor:provisioning", http.StatusForbidden},
		{"api://usage", "read:usageLine write:usageLine", http.StatusForbidden},
	}
	for _, tc := range tests {
		for _, tokenURL := range []string{e.ep.TokenURL, e.ep.APITokenURL} {
			t.Run(tc.audience+" at "+tokenURL, func(t *testing.T) {
				status, _, body := postJSON(t, tokenURL, map[string]string{
					"client_id": clientID, "client_secret": clientSecret, "audience": tc.audience, "grant_type": "client_credentials",
				})
				if status != http.StatusOK {
					t.Fatalf("token = %d %v, want 200", status, body)
				}
				if body["expires_in"] != float64(86400) || body["token_type"] != "Bearer" || body["refresh_token"] != nil || body["id_token"] != nil {
					t.Errorf("response = %v, want expires_in 86400, Bearer, no refresh_token or id_token", body)
				}
				at, _ := body["access_token"].(string)
				_, c := jwtParts(t, at)
				want := map[string]any{"aud": tc.audience, "sub": clientID + "@clients", "gty": "client-credentials", "azp": clientID}
				got := map[string]any{"aud": c["aud"], "sub": c["sub"], "gty": c["gty"], "azp": c["azp"]}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
				if sc, _ := c["scope"].(string); sc != tc.wantScope {
					t.Errorf("scope = %q, want %q", sc, tc.wantScope)
				}
				if got, _ := bearerGet(t, e.ep.APIBaseURL+"/companies", at); got != tc.apiStatus {
					t.Errorf("partner API with this token = %d, want %d", got, tc.apiStatus)
				}
			})
		}
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tests := []struct {
		name       string
		body       map[string]string
		wantStatus int
		want       map[string]any
	}{
		{"missing audience", map[string]string{"client_id": clientID, "client_secret": clientSecret, "grant_type": "client_credentials"},
			http.StatusForbidden, map[string]any{"error": "access_denied", "error_description": "audience is required"}},
		{"unknown audience", map[string]string{"client_id": clientID, "client_secret": clientSecret, "grant_type": "client_credentials", "audience": "api://nope"},
			http.StatusForbidden, map[string]any{"error": "access_denied", "error_description": "Service not found: api://nope"}},
		{"wrong secret", map[string]string{"client_id": clientID, "client_secret": "nope", "grant_type": "client_credentials", "audience": audAPI},
			http.StatusUnauthorized, map[string]any{"error": "access_denied", "error_description": "Unauthorized"}},
		{"unknown grant", map[string]string{"client_id": clientID, "client_secret": clientSecret, "grant_type": "password"},
			http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "Unsupported grant type: password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := postJSON(t, e.ep.APITokenURL, tc.body)
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d", status, tc.wantStatus)
			}
			if diff := cmp.Diff(tc.want, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClientCredentialsForm uses x/oauth2's clientcredentials (form body,
// HTTP Basic), which Auth0's /oauth/token accepts; Pax8's documented
// /v1/token takes JSON only and answers a form with 415.
func TestClientCredentialsForm(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cfg := clientcredentials.Config{
		ClientID: clientID, ClientSecret: clientSecret, TokenURL: e.ep.APITokenURL,
		EndpointParams: url.Values{"audience": {audAPI}}, AuthStyle: oauth2.AuthStyleInHeader,
	}
	_, err := cfg.Token(e.ctx())
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.Response.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("form body at /v1/token: err = %v, want a 415", err)
	}
	if diff := cmp.Diff(map[string]int(nil), tokenCounts(e.s, "client_credentials")); diff != "" {
		t.Errorf("a refused form reached the grant: stats (-want +got):\n%s", diff)
	}
	cfg.TokenURL = e.ep.TokenURL
	tok, err := cfg.Token(e.ctx())
	if err != nil {
		t.Fatalf("Token = %v", err)
	}
	if tok.RefreshToken != "" {
		t.Errorf("refresh token %q, want none", tok.RefreshToken)
	}
	if diff := cmp.Diff(map[string]int{"ok": 1}, tokenCounts(e.s, "client_credentials")); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

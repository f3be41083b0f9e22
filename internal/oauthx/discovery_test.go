package oauthx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCheckDiscovery covers OIDC-16: discovery metadata naming another
// issuer, including a trailing-slash variant, is refused.
func TestCheckDiscovery(t *testing.T) {
	tests := []struct {
		name     string
		path     string // issuer path below the server root
		claimed  func(base string) string
		wantErr  bool
		wantPath string
	}{
		{name: "auth0 style issuer with slash", path: "/", claimed: func(b string) string { return b + "/" }, wantPath: "/.well-known/openid-configuration"},
		{name: "issuer without slash", path: "", claimed: func(b string) string { return b }, wantPath: "/.well-known/openid-configuration"},
		{name: "issuer with a path", path: "/tenant/a", claimed: func(b string) string { return b + "/tenant/a" }, wantPath: "/tenant/a/.well-known/openid-configuration"},
		{name: "OIDC-16 trailing slash added", path: "", claimed: func(b string) string { return b + "/" }, wantErr: true, wantPath: "/.well-known/openid-configuration"},
		{name: "OIDC-16 trailing slash dropped", path: "/", claimed: func(b string) string { return b }, wantErr: true, wantPath: "/.well-known/openid-configuration"},
		{name: "OIDC-16 other issuer", path: "/", claimed: func(string) string { return "https://evil.example/" }, wantErr: true, wantPath: "/.well-known/openid-configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotPath string
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath = r.URL.Path
				if r.URL.Path != tt.wantPath {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{
					"issuer":         tt.claimed(srv.URL),
					"token_endpoint": srv.URL + "/oauth/token",
					"jwks_uri":       srv.URL + "/jwks",
					"authorization_response_iss_parameter_supported": true,
				})
			}))
			t.Cleanup(srv.Close)
			issuer := srv.URL + tt.path
			err := CheckDiscovery(t.Context(), srv.Client(), issuer)
			if gotPath != tt.wantPath {
				t.Errorf("discovery fetched %q, want %q", gotPath, tt.wantPath)
			}
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("CheckDiscovery(%q) = %v, want error %v", issuer, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			d, err := Discover(t.Context(), srv.Client(), issuer)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if d.TokenEndpoint != srv.URL+"/oauth/token" || !d.AuthorizationResponseIssParam {
				t.Errorf("Discover = %+v, want the token endpoint and iss parameter support", d)
			}
		})
	}
}

func TestCheckDiscoveryUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	if err := CheckDiscovery(t.Context(), srv.Client(), srv.URL+"/"); err == nil {
		t.Error("CheckDiscovery succeeded on a 404")
	}
}

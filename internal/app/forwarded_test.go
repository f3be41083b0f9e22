package app

import (
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/config"
)

// TestForwardedHeadersIgnoredSEC53 sends grantd, over loopback, requests
// that claim through X-Forwarded-For/-Proto/-Host, Forwarded, X-Real-IP
// and the Host header itself to come from elsewhere, both when loopback is
// an untrusted peer (grantd trusts no proxy) and when it is a configured
// trusted proxy, whose X-Forwarded-For is believed but whose -Proto and
// -Host are still never used. The connect link grantd returns must still
// be built from public_url, the connect page's form must post back to
// grantd, and the authorize redirect must carry the configured redirect_uri
// and go to the provider's configured authorize endpoint (SEC-53).
func TestForwardedHeadersIgnoredSEC53(t *testing.T) {
	for name, trusted := range map[string][]string{"untrusted peer": nil, "trusted proxy": {"127.0.0.1/32"}} {
		t.Run(name, func(t *testing.T) {
			testForwardedHeadersIgnored(t, trusted)
		})
	}
}

func testForwardedHeadersIgnored(t *testing.T, trusted []string) {
	s := startStack(t, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		func(c *config.Config) { c.Server.TrustedProxies = trusted })
	redirectURI := s.publicURL + "/oauth/callback/" + stackIntegration
	if in := s.app.Config().Integrations[0]; in.RedirectURI != redirectURI {
		t.Fatalf("configured redirect URI = %q, want %q", in.RedirectURI, redirectURI)
	}
	authorize, err := url.Parse(s.endpoints.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}

	spoofs := map[string]http.Header{
		"none": nil,
		"x-forwarded": {
			"X-Forwarded-For":   {"203.0.113.7"},
			"X-Forwarded-Proto": {"https"},
			"X-Forwarded-Host":  {"evil.example"},
			"X-Forwarded-Port":  {"8443"},
			"X-Forwarded-Ssl":   {"on"},
			"X-Real-Ip":         {"203.0.113.7"},
		},
		"forwarded": {
			"Forwarded": {`for=203.0.113.7;proto=https;host="evil.example:8443"`},
		},
		"host and x-forwarded": {
			"Host":              {"evil.example"},
			"X-Forwarded-Proto": {"https"},
			"X-Forwarded-Host":  {"evil.example"},
		},
	}
	for name, h := range spoofs {
		t.Run(name, func(t *testing.T) {
			link := s.connectSession(t, h)
			if !strings.HasPrefix(link, s.publicURL+"/connect/") {
				t.Errorf("connect link = %q, want it under public_url %s/connect/", link, s.publicURL)
			}

			// The page, its form and the redirect it leads to, asked with the
			// same spoofed headers.
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
			maps.Copy(req.Header, h)
			if host := h.Get("Host"); host != "" {
				req.Host = host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := startFormRE.FindSubmatch(page); m == nil || !strings.HasPrefix(string(m[1]), "/connect/") {
				t.Errorf("connect page form action = %q, want a path on grantd", m)
			}
			if strings.Contains(string(page), "evil.example") {
				t.Error("the connect page shows the spoofed host")
			}

			_, loc := s.startConnect(t, link, h)
			if got, want := loc.Scheme+"://"+loc.Host+loc.Path, authorize.String(); got != want {
				t.Errorf("start redirected to %s, want the provider's authorize endpoint %s", got, want)
			}
			if got := loc.Query().Get("redirect_uri"); got != redirectURI {
				t.Errorf("redirect_uri = %q, want the configured %q", got, redirectURI)
			}
		})
	}
}

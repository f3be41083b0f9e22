package provider_test

import (
	"testing"

	"github.com/grantd/grantd/internal/provider"
)

// TestSafeURL: user information, query values and fragments never survive
// into an error message; the rest of the URL does, so the error still says
// which URL is wrong.
func TestSafeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.example.com/v1":                     "https://api.example.com/v1",
		"https://user:pass@api.example.com/v1":           "https://REDACTED@api.example.com/v1",
		"https://user@api.example.com/":                  "https://REDACTED@api.example.com/",
		"https://h.example.com/cb?code=abc&state=xyz":    "https://h.example.com/cb?code=REDACTED&state=REDACTED",
		"https://h.example.com/cb?secret":                "https://h.example.com/cb?secret=REDACTED",
		"https://h.example.com/cb#access_token=abc":      "https://h.example.com/cb",
		"postgres://grantd:pw@db:5432/grantd?sslmode=no": "postgres://REDACTED@db:5432/grantd?sslmode=REDACTED",
		"mailto:someone@example.com":                     "mailto:REDACTED",
		"https://[::1%zz]/cb?token=abc":                  "(the URL)",
	} {
		if got := provider.SafeURL(in); got != want {
			t.Errorf("SafeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

package redirect_test

import (
	"testing"

	"github.com/grantd/grantd/internal/redirect"
)

// TestAllowReturnToSEC09 fuzzes return_to with the open-redirect tricks of
// the security checklist: none may pass (SEC-09).
func TestAllowedSEC09(t *testing.T) {
	allow := []string{"https://app.example.com/grantd/", "https://other.example.com", "http://127.0.0.1:3000/cb"}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://app.example.com/grantd/", true},
		{"https://app.example.com/grantd/done?x=1", true},
		{"https://APP.example.com:443/grantd/x", true},
		{"https://other.example.com/anything", true},
		{"https://other.example.com", true},
		{"http://127.0.0.1:3000/cb", true},
		{"http://127.0.0.1:3000/cb/next", true},
		{"http://127.0.0.1:3000/cbx", false},
		{"https://app.example.com/grantdx", false},
		{"https://app.example.com/", false},
		{"https://app.example.com:8443/grantd/", false},
		{"http://app.example.com/grantd/", false},
		{"https://app.example.com.evil.example/grantd/", false},
		{"https://evil.example/grantd/", false},
		{"//evil.example/grantd/", false},
		{"https:evil.example/grantd/", false},
		{"https:/evil.example/grantd/", false},
		{`\\evil.example\grantd`, false},
		{`https://app.example.com\@evil.example/grantd/`, false},
		{"https://app.example.com@evil.example/grantd/", false},
		{"https://user:pw@app.example.com/grantd/", false},
		{"%2F%2Fevil.example/grantd/", false},
		{"https://app.example.com/grantd/%2F%2Fevil.example", false},
		{"https://app.example.com/grantd/../admin", false},
		{"https://app.example.com/grantd/%2e%2e/admin", false},
		{"https://app.example.com/grantd/\r\nLocation: https://evil", false},
		{"https://xn--pple-43d.com/grantd/", false},
		{"javascript:alert(1)//https://app.example.com/grantd/", false},
		{"/grantd/", false},
		{"", false},
	} {
		if got := redirect.Allowed(tc.url, allow); got != tc.want {
			t.Errorf("Allowed(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
	if redirect.Allowed("https://app.example.com/grantd/", nil) {
		t.Errorf("Allowed with an empty allow-list = true")
	}
}

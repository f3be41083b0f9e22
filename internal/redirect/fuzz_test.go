package redirect_test

import (
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/grantd/grantd/internal/redirect"
)

// FuzzAllowed is SEC-09 under fuzzing: a return_to that Allowed accepts
// sends a browser, which resolves it against any page, to an allow-listed
// scheme, host and port, under the entry's path once dot segments are
// resolved and the path decoded; it carries no user information, and
// Allowed never panics.
func FuzzAllowed(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/grantd/done?x=1", "https://app.example.com/grantd", "https://app.example.com/grantdx",
		"//evil.example", "https:evil.example", `https://app.example.com\@evil.example`, "https://app.example.com@evil.example/grantd/",
		"https://app.example.com/grantd/../admin", "https://app.example.com/grantd/%2e%2e/admin", "https://app.example.com/grantd/%2F%2Fevil",
		"HTTPS://APP.EXAMPLE.COM:443/grantd/x", "http://127.0.0.1:3000/cb/x", "https://app.example.com:444/grantd/", "javascript:alert(1)",
		"https://app.example.com/grantd/%E3%80%82%E3%80%82/x", "https://app.example.com./grantd/", "https://[::1]/grantd/",
	} {
		f.Add(s)
	}
	allow := []string{"https://app.example.com/grantd/", "http://127.0.0.1:3000/cb"}
	page, _ := url.Parse("https://grantd.example/connect/done")
	f.Fuzz(func(t *testing.T, raw string) {
		if !redirect.Allowed(raw, allow) {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("Allowed(%q) but url.Parse fails: %v", raw, err)
		}
		if u.User != nil {
			t.Fatalf("Allowed(%q) with user information", raw)
		}
		to := page.ResolveReference(u)
		dec, err := url.PathUnescape(to.EscapedPath())
		if err != nil {
			t.Fatalf("Allowed(%q) with a path that does not decode: %v", raw, err)
		}
		clean := path.Clean("/" + dec)
		var ok bool
		switch host := strings.ToLower(to.Host); {
		case to.Scheme == "https" && (host == "app.example.com" || host == "app.example.com:443"):
			ok = clean == "/grantd" || strings.HasPrefix(clean, "/grantd/")
		case to.Scheme == "http" && host == "127.0.0.1:3000":
			ok = clean == "/cb" || strings.HasPrefix(clean, "/cb/")
		}
		if !ok {
			t.Fatalf("Allowed(%q), but a browser goes to %s (path %q)", raw, to, clean)
		}
	})
}

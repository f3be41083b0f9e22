package proxy

import (
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestCheckRest is SEC-40 at the unit level: each refused path is, or
// becomes under some server's normalisation, a dot segment (or is
// otherwise hostile); each accepted one is an ordinary API path.
func TestCheckRest(t *testing.T) {
	for _, rest := range []string{
		"..", ".", "a/..", "a/./b", "...", "..;x", "..;", "%2e%2e;jsessionid=1",
		"..%3bx", "%2e%2e%3b", "%c0%ae%c0%ae", "%c0%2e", "%e0%80%ae.", "%f0%80%80%ae",
		"a%80", "%ff", "\uff0e\uff0e", "%ef%bc%8e.", "\u2025", "\u3002\u3002", "\uff61",
		"\ufe52\ufe52", "%u002e%u002e", "%U002e.", "%uFF0E%uff0e", "..%u0020",
		"%ef%bc%85%ef%bc%92%ef%bd%85%ef%bc%85%ef%bc%92%ef%bd%85",
		"..%20", "..%20%09", ".. ", " ..", ". .", "..\u00a0", "..\u3000", ".\u200b.", "..\ufeff",
		"..%3f", "..%23", "..:$DATA", "..%3a%3a$INDEX_ALLOCATION",
		"..\uff3cx", "..\uff0fx", "x/..%c0%afy", "a\\..", "%5c..",
		"%252e%252e", "%2e%2e", "%2E%2e", "..%0b", "a%7f",
	} {
		if err := checkRest(rest); err == nil {
			t.Errorf("checkRest(%q) = nil, want a refusal", rest)
		}
	}
	for _, rest := range []string{
		"", "companies", "companies/", "companies/abc-123/contacts", "a.b/c..d", "v1/file.json",
		"x/.well-known/y", "..a", "a..", ".a.", "caf%C3%A9", "caf\u00e9", "%E2%80%A6abc", "\u2026x",
		"name%20with%20spaces", "a;v=1", "products?x=..", "a:b", "%7e", "%2a",
	} {
		if err := checkRest(rest); err != nil {
			t.Errorf("checkRest(%q) = %v, want nil", rest, err)
		}
	}
}

// FuzzCheckRest is SEC-40's path fuzzing: no input makes checkRest or
// join panic, and a path checkRest accepts has no dot segment under any
// normalisation in serverViews, and joins onto the API base to a URL that
// is still under it, whose path a cleaning server would leave under the
// base too.
func FuzzCheckRest(f *testing.F) {
	for _, s := range []string{
		"companies", "companies?page=0", "..", "..;/..;/x", "%2e%2e/x", "%c0%ae%c0%ae/x",
		"\uff0e\uff0e/x", "..%20/x", "%252e%252e/x", "a/b/c", "caf%C3%A9", "%u002e%u002e",
		"//evil.example", "@evil", "http://evil", "a%0d%0ab", `..\x`, "..%ef%bc%8fx", "...",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://api.example.com/v1")
	f.Fuzz(func(t *testing.T, rest string) {
		if checkRest(rest) != nil {
			return
		}
		for _, v := range serverViews(rest) {
			for seg := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == '/' || r == '\\' }) {
				if i := strings.IndexAny(seg, ";?#:"); i >= 0 {
					seg = seg[:i]
				}
				seg = strings.TrimFunc(seg, func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) })
				if seg != "" && strings.Trim(seg, ".") == "" {
					t.Fatalf("checkRest(%q) accepted a path with the dot segment %q in %q", rest, seg, v)
				}
			}
		}
		u, err := join(base, rest, "")
		if err != nil {
			return
		}
		if p := u.Path; p != "/v1" && !strings.HasPrefix(p, "/v1/") {
			t.Fatalf("join(%q) = %q, outside the base", rest, u)
		}
		if c := path.Clean(u.Path); c != "/v1" && !strings.HasPrefix(c, "/v1/") {
			t.Fatalf("join(%q) = %q cleans to %q, outside the base", rest, u, c)
		}
	})
}

// serverViews is how assorted servers may read rest, written without
// normalForms so that the property does not merely restate the code:
// net/url decoding once and twice, then NFKC, then NFKC before decoding.
func serverViews(rest string) []string {
	views := []string{rest, norm.NFKC.String(rest)}
	s := rest
	for range 3 {
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			break
		}
		if !utf8.ValidString(d) {
			panic("checkRest accepted a path that is not UTF-8 once decoded: " + rest)
		}
		views = append(views, d, norm.NFKC.String(d))
		s = d
	}
	if d, err := url.PathUnescape(norm.NFKC.String(rest)); err == nil {
		views = append(views, d, norm.NFKC.String(d))
	}
	return views
}

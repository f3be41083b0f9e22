package proxy

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Prefix is where the proxy is mounted: /v1/proxy/{connection}/{path...}.
const Prefix = "/v1/proxy/"

// errBadPath is wrapped by every path refusal; its text is safe to show.
var errBadPath = errors.New("invalid proxy path")

// splitPath splits the escaped request path into the connection id and the
// escaped rest, which is to be joined onto the API base. The rest may be
// empty (the base itself).
func splitPath(escaped string) (connID, rest string, err error) {
	after, ok := strings.CutPrefix(escaped, Prefix)
	if !ok {
		return "", "", pathError("the path must start with " + Prefix)
	}
	connID, rest, _ = strings.Cut(after, "/")
	if connID == "" || strings.Contains(connID, "%") {
		return "", "", pathError("the path must name a connection: " + Prefix + "{connection}/{path}")
	}
	return connID, rest, nil
}

type badPath struct{ msg string }

func (e *badPath) Error() string   { return "invalid proxy path: " + e.msg }
func (e *badPath) Is(t error) bool { return t == errBadPath }

func pathError(msg string) error { return &badPath{msg: msg} }

// checkRest refuses, before anything is dialled, an escaped path that could
// address anything but a resource under the API base (SEC-40). It looks at
// the raw, still-escaped text, so that "%2e%2e", "%2F", "%5c" and the like
// are caught as well as their literal forms, and then at every form the
// path takes under the normalisations a vendor's server might apply (see
// [normalForms] and [isDotSegment]).
func checkRest(rest string) error {
	lower := strings.ToLower(rest)
	switch {
	case strings.HasPrefix(rest, "/"):
		return pathError(`the path must not start with "//"`)
	case strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") || strings.Contains(lower, "://") || strings.Contains(lower, "%3a%2f%2f"):
		return pathError("absolute URLs are not allowed")
	case strings.ContainsAny(rest, "\\@\r\n\x00\t"):
		return pathError(`backslashes, "@", control characters and NUL are not allowed`)
	}
	for _, enc := range []string{"%5c", "%40", "%0d", "%0a", "%00", "%09", "%2f", "%25"} {
		if strings.Contains(lower, enc) {
			return pathError("encoded slashes, backslashes, \"@\", percent signs and control characters are not allowed")
		}
	}
	if _, err := url.PathUnescape(rest); err != nil {
		return pathError("malformed percent-encoding")
	}
	forms, err := normalForms(rest)
	if err != nil {
		return err
	}
	for _, f := range forms {
		for _, r := range f {
			if r < 0x20 || r == 0x7f {
				return pathError("control characters are not allowed")
			}
		}
		if hasDotSegment(f) {
			return pathError(`"." and ".." segments are not allowed, in any encoding`)
		}
	}
	return nil
}

// maxDecode is how many rounds of percent-decoding [normalForms] applies: a
// server that decodes twice (a front end, then the application) is common,
// three times is paranoia.
const maxDecode = 3

// normalForms returns rest as a vendor's server might come to see it: as
// sent, after Unicode NFKC normalisation (fullwidth "．" becomes "."), and
// after each of up to maxDecode rounds of lenient percent-decoding (which
// also decodes IIS's "%u002e"), each round followed by NFKC. A form that is
// not valid UTF-8, such as the overlong "%c0%ae" for ".", is refused: a
// lenient decoder turns it into a dot.
func normalForms(rest string) ([]string, error) {
	forms := make([]string, 0, 2*maxDecode+2)
	s := rest
	for i := 0; ; i++ {
		if !utf8.ValidString(s) {
			return nil, pathError("the path must be UTF-8 once percent-decoded (overlong and invalid sequences are refused)")
		}
		forms = append(forms, s)
		if n := norm.NFKC.String(s); n != s {
			forms = append(forms, n)
			s = n
		}
		if i == maxDecode {
			return forms, nil
		}
		d, changed := decodePercent(s)
		if !changed {
			return forms, nil
		}
		s = d
	}
}

// decodePercent decodes every well-formed "%XX" and "%uXXXX" in s and leaves
// anything else as it is, as lenient servers do.
func decodePercent(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, false
	}
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
				b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
				i += 2
				changed = true
				continue
			}
			if i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') && ishex(s[i+2]) && ishex(s[i+3]) && ishex(s[i+4]) && ishex(s[i+5]) {
				r := rune(unhex(s[i+2]))<<12 | rune(unhex(s[i+3]))<<8 | rune(unhex(s[i+4]))<<4 | rune(unhex(s[i+5]))
				b.WriteRune(r)
				i += 5
				changed = true
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), changed
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// hasDotSegment reports whether p, split at "/" and "\" (which Windows
// servers treat alike), has a segment that [isDotSegment] refuses. Dots
// still percent-encoded in any case mix count as dots.
func hasDotSegment(p string) bool {
	for seg := range strings.FieldsFuncSeq(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if isDotSegment(strings.ReplaceAll(strings.ReplaceAll(seg, "%2e", "."), "%2E", ".")) {
			return true
		}
	}
	return false
}

// isDotSegment reports whether seg is "." or "..", or may be taken for one
// by some server: it looks only at the part before a matrix parameter
// (Tomcat and Jetty read "..;x" as ".."), a query or fragment mark, or an
// NTFS stream (":"), ignores spaces, tabs and invisible format characters
// anywhere in it ("..%20", ". .", ".\u200b."), and counts Unicode full stops
// (ideographic, halfwidth, fullwidth, one-dot leader) as dots. Any segment
// made of nothing but dots is refused: Windows trims trailing dots, so "..."
// may name the parent too.
func isDotSegment(seg string) bool {
	if i := strings.IndexAny(seg, ";?#:"); i >= 0 {
		seg = seg[:i]
	}
	dots := 0
	for _, r := range seg {
		switch {
		case r == '.' || dotLike[r]:
			dots++
		case unicode.IsSpace(r) || unicode.Is(unicode.Cf, r):
		default:
			return false
		}
	}
	return dots > 0
}

// dotLike are Unicode full stops a normalising server may read as ".";
// those NFKC maps to "." (U+FF0E, U+FE52, U+2024) are listed as well, so
// that a segment mixing them is caught before normalisation too.
var dotLike = map[rune]bool{
	'\u2024': true, // one dot leader
	'\u2025': true, // two dot leader
	'\u2026': true, // horizontal ellipsis
	'\u3002': true, // ideographic full stop
	'\uff0e': true, // fullwidth full stop
	'\uff61': true, // halfwidth ideographic full stop
	'\ufe12': true, // presentation form for vertical ideographic full stop
	'\ufe52': true, // small full stop
	'\u2e3c': true, // stenographic full stop
}

// join appends the checked, escaped rest (and the caller's raw query) to
// base and asserts that the result is still under base.
func join(base *url.URL, rest, rawQuery string) (*url.URL, error) {
	dec, err := url.PathUnescape(rest)
	if err != nil {
		return nil, pathError("malformed percent-encoding")
	}
	u := *base
	u.Path = strings.TrimRight(base.Path, "/") + "/" + dec
	u.RawPath = strings.TrimRight(base.EscapedPath(), "/") + "/" + rest
	if u.EscapedPath() != u.RawPath {
		// rest was escaped in a way net/url does not reproduce; keep it
		// only when it means the same path.
		u.RawPath = ""
	}
	u.RawQuery = rawQuery
	u.Fragment, u.RawFragment = "", ""
	if err := underBase(base, &u); err != nil {
		return nil, pathError("the path leaves the API base")
	}
	return &u, nil
}

package proxy

import (
	"errors"
	"net/url"
	"strings"
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
// are caught as well as their literal forms, and then at the decoded text.
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
	dec, err := url.PathUnescape(rest)
	if err != nil {
		return pathError("malformed percent-encoding")
	}
	if hasDotSegment(dec) || hasDotSegment(rest) {
		return pathError(`"." and ".." segments are not allowed`)
	}
	for _, r := range dec {
		if r < 0x20 || r == 0x7f {
			return pathError("control characters are not allowed")
		}
	}
	return nil
}

// hasDotSegment reports whether p has a "." or ".." segment, also when the
// dots are percent-encoded in any case mix.
func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		s := strings.ReplaceAll(strings.ToLower(seg), "%2e", ".")
		if s == "." || s == ".." {
			return true
		}
	}
	return false
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

package redirect

import (
	"net/url"
	"strings"
)

// Allowed reports whether raw may be used to send a user back to the
// application after a connect flow: it must be an absolute http(s) URL
// whose scheme, host and port equal those of an entry of allow and
// whose path starts with the entry's path, at a segment boundary. URLs with
// user information, backslashes, control characters, dot segments or
// encoded slashes and dots are refused, so that //evil, https:evil,
// \\evil, %2F%2Fevil and userinfo tricks never pass (SEC-09).
func Allowed(raw string, allow []string) bool {
	u, ok := parseReturnTo(raw)
	if !ok {
		return false
	}
	for _, entry := range allow {
		a, ok := parseReturnTo(entry)
		if !ok {
			continue
		}
		if u.Scheme != a.Scheme || hostPort(u) != hostPort(a) {
			continue
		}
		prefix := a.EscapedPath()
		if prefix == "" {
			prefix = "/"
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		if path == prefix || strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/") {
			return true
		}
	}
	return false
}

// Valid reports whether entry can serve as an allow-list entry.
func Valid(entry string) bool {
	_, ok := parseReturnTo(entry)
	return ok
}

func parseReturnTo(raw string) (*url.URL, bool) {
	if strings.ContainsAny(raw, "\\\x00\r\n\t ") {
		return nil, false
	}
	lower := strings.ToLower(raw)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" || u.Opaque != "" {
		return nil, false
	}
	for _, bad := range []string{"%2f", "%5c", "%2e", "/./", "/../"} {
		if strings.Contains(strings.ToLower(u.EscapedPath()+"/"), bad) {
			return nil, false
		}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, true
}

// hostPort returns the lowercase host with its port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

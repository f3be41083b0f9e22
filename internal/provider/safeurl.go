package provider

import (
	"net/url"
	"slices"
	"strings"
)

// SafeURL is raw as an error message may quote it: user information and
// query values become "REDACTED" and the fragment is dropped, since any of
// them may hold a credential (a webhook token, a database password). A raw
// string that does not parse as a URL is not quoted at all.
func SafeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(the URL)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, url.QueryEscape(k)+"=REDACTED")
		}
		if len(keys) == 0 {
			keys = []string{"REDACTED"}
		}
		slices.Sort(keys)
		u.RawQuery = strings.Join(keys, "&")
	}
	u.Fragment, u.RawFragment = "", ""
	if u.Opaque != "" {
		u.Opaque = "REDACTED"
	}
	return u.String()
}

package provider

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Registry holds the providers a server knows, by name. It is immutable
// once built and safe for concurrent use.
type Registry struct {
	byName map[string]Provider
	sorted []Provider
}

// NewRegistry returns a registry of ps. It rejects empty and duplicate names
// and two providers sharing an issuer identifier (SEC-25), comparing issuers
// case-insensitively in scheme and host and ignoring a trailing slash, so
// near-duplicates are caught too. Providers without an issuer (the
// client-credentials dialects) are exempt from the issuer check. It does not
// call [Provider.Validate]; the caller does, knowing whether dev mode allows
// loopback http.
func NewRegistry(ps ...Provider) (*Registry, error) {
	r := &Registry{byName: make(map[string]Provider, len(ps))}
	issuers := map[string]string{}
	var errs []error
	for _, p := range ps {
		if p.Name == "" {
			errs = append(errs, errors.New("provider with an empty name"))
			continue
		}
		if _, dup := r.byName[p.Name]; dup {
			errs = append(errs, fmt.Errorf("provider %s: declared twice", p.Name))
			continue
		}
		if p.Issuer != "" {
			key := issuerKey(p.Issuer)
			if other, dup := issuers[key]; dup {
				errs = append(errs, fmt.Errorf("provider %s: issuer %s is also the issuer of provider %s (SEC-25)", p.Name, SafeURL(p.Issuer), other))
				continue
			}
			issuers[key] = p.Name
		}
		p = p.Clone()
		r.byName[p.Name] = p
		r.sorted = append(r.sorted, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(r.sorted, func(a, b Provider) int { return strings.Compare(a.Name, b.Name) })
	return r, nil
}

// issuerKey normalises an issuer for the uniqueness check only; issuers are
// otherwise compared byte for byte (RFC 9207 §2.4).
func issuerKey(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return strings.TrimSuffix(issuer, "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return strings.TrimSuffix(u.String(), "/")
}

// Get returns the provider named name, a copy the caller may modify.
func (r *Registry) Get(name string) (Provider, bool) {
	p, ok := r.byName[name]
	if !ok {
		return Provider{}, false
	}
	return p.Clone(), true
}

// All returns every provider, sorted by name.
func (r *Registry) All() []Provider {
	out := make([]Provider, len(r.sorted))
	for i, p := range r.sorted {
		out[i] = p.Clone()
	}
	return out
}

package grantd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// ProxyURL returns the base URL of grantd's proxy for one connection:
// a request to ProxyURL(id)+"/companies?page=0" goes to the connection's
// provider API base joined with "/companies?page=0", with the connection's
// access token. Requests to it need the API key; [Client.Proxy] adds it.
func (c *Client) ProxyURL(connectionID string) string {
	return c.endpoint("v1", "proxy", connectionID)
}

// Proxy returns an *http.Client whose requests go through grantd's proxy
// with the connection's access token, so that a vendor client built on an
// *http.Client needs no change:
//
//	companies, err := pax8.NewClient(c.Proxy(connectionID)).Companies.List(ctx, nil)
//
// A request whose URL lies under the provider's API base URL (as
// GET /v1/providers reports it, https://api.pax8.com/v1 for Pax8) is sent
// to [Client.ProxyURL] with the rest of its path and its query; so is a
// request already addressed to ProxyURL. Any other URL is refused before
// anything is sent, so that the API key never leaves for another host. The
// provider's base URL is looked up on the first request (and again after a
// failed lookup). Redirects are not followed. grantd's own errors
// (needs_reauth, say) reach the vendor client as the status they carry.
//
// The returned client shares the Client's transport and timeout and is
// safe for concurrent use.
func (c *Client) Proxy(connectionID string) *http.Client {
	return &http.Client{
		Transport:     &proxyTransport{c: c, conn: connectionID},
		Timeout:       c.hc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// proxyTransport rewrites requests for the provider API onto grantd's
// proxy.
type proxyTransport struct {
	c    *Client
	conn string

	mu   sync.Mutex
	base *url.URL // the provider's API base, once looked up
}

func (t *proxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out, err := t.rewrite(req)
	if err != nil {
		// A RoundTripper closes the body, also on error.
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	rt := t.c.hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return rt.RoundTrip(out)
}

// rewrite returns a copy of req aimed at grantd's proxy, with the API key
// in place of the caller's credentials; req itself is not changed. The
// caller's User-Agent is kept.
func (t *proxyTransport) rewrite(req *http.Request) (*http.Request, error) {
	if t.conn == "" {
		return nil, errors.New("grantd proxy: empty connection id")
	}
	proxy, err := url.Parse(t.c.ProxyURL(t.conn))
	if err != nil {
		return nil, fmt.Errorf("grantd proxy: %w", err)
	}
	rest, ok := under(req.URL, proxy)
	if !ok {
		base, err := t.providerBase(req.Context())
		if err != nil {
			return nil, err
		}
		if rest, ok = under(req.URL, base); !ok {
			return nil, fmt.Errorf("grantd proxy: %s://%s%s is not under the connection's API base %s", req.URL.Scheme, req.URL.Host, req.URL.Path, base)
		}
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return nil, fmt.Errorf("grantd proxy: invalid path: %w", err)
	}
	out := req.Clone(req.Context())
	out.URL = &url.URL{
		Scheme:   proxy.Scheme,
		Host:     proxy.Host,
		Path:     proxy.Path + p,
		RawPath:  proxy.EscapedPath() + rest,
		RawQuery: req.URL.RawQuery,
	}
	out.Host = ""
	out.Header.Del("Cookie")
	out.Header.Set("Authorization", "Bearer "+t.c.key)
	if t.c.tenant != "" {
		out.Header.Set("X-Grantd-Tenant", t.c.tenant)
	}
	if out.Header.Get("User-Agent") == "" && t.c.userAgent != "" {
		out.Header.Set("User-Agent", t.c.userAgent)
	}
	return out, nil
}

// under reports whether u lies under base (same scheme and host, and a
// path that is base's or continues it after a slash), returning the rest
// of u's escaped path.
func under(u, base *url.URL) (string, bool) {
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return "", false
	}
	bp := strings.TrimRight(base.EscapedPath(), "/")
	p := u.EscapedPath()
	switch {
	case p == bp:
		return "", true
	case strings.HasPrefix(p, bp+"/"):
		return p[len(bp):], true
	}
	return "", false
}

// providerBase returns the connection's provider API base URL, looking it
// up once.
func (t *proxyTransport) providerBase(ctx context.Context) (*url.URL, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.base != nil {
		return t.base, nil
	}
	conn, err := t.c.Connection(ctx, t.conn)
	if err != nil {
		return nil, fmt.Errorf("grantd proxy: %w", err)
	}
	providers, err := t.c.Providers(ctx)
	if err != nil {
		return nil, fmt.Errorf("grantd proxy: %w", err)
	}
	for _, p := range providers {
		if p.Name != conn.Provider {
			continue
		}
		u, err := url.Parse(p.APIBaseURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("grantd proxy: provider %s has no usable API base URL", p.Name)
		}
		t.base = u
		return u, nil
	}
	return nil, fmt.Errorf("grantd proxy: provider %s is not listed by the server", conn.Provider)
}

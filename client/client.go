package grantd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds each request of a Client made without
// [WithHTTPClient].
const DefaultTimeout = 30 * time.Second

// maxBody bounds how much of an answer is read.
const maxBody = 16 << 20

// Client calls grantd's API with one API key: a tenant's key (gdk_…) or
// the operator's admin key. Create it with [NewClient]; the zero value is
// not usable. A Client is safe for concurrent use by multiple goroutines.
type Client struct {
	base      *url.URL // without a trailing slash in Path
	key       string
	tenant    string
	userAgent string
	hc        *http.Client
}

// Option configures a [Client].
type Option func(*Client)

// WithHTTPClient sends requests through hc instead of a client with
// [DefaultTimeout]. Redirects are never followed, whatever hc says, so that
// the API key cannot be carried to another host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			own := *hc
			c.hc = &own
		}
	}
}

// WithTenant makes an admin-key Client act as the tenant id on tenant
// routes (the X-Grantd-Tenant header). Tenant keys ignore it.
func WithTenant(id string) Option { return func(c *Client) { c.tenant = id } }

// WithUserAgent sets the User-Agent header (default "grantd-go").
func WithUserAgent(s string) Option { return func(c *Client) { c.userAgent = s } }

// NewClient returns a Client for the grantd server at baseURL (such as
// "https://grantd.example.com") that authenticates with apiKey. It fails if
// baseURL is not an http or https URL without query, fragment or user info,
// or if apiKey is empty.
func NewClient(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("grantd: base URL %q is not an http(s) URL", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("grantd: base URL must not have user info, a query or a fragment")
	}
	if apiKey == "" {
		return nil, errors.New("grantd: no API key")
	}
	if strings.ContainsAny(apiKey, "\r\n ") {
		return nil, errors.New("grantd: the API key has whitespace in it")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c := &Client{base: u, key: apiKey, userAgent: "grantd-go", hc: &http.Client{Timeout: DefaultTimeout}}
	for _, o := range opts {
		o(c)
	}
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

// String names the server and never prints the key.
func (c *Client) String() string { return "grantd.Client{" + c.base.String() + " key=REDACTED}" }

// GoString never prints the key either (%#v).
func (c *Client) GoString() string { return c.String() }

// BaseURL returns the server's base URL as given to [NewClient], without a
// trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// endpoint joins escaped path segments onto the base URL.
func (c *Client) endpoint(segments ...string) string {
	var b strings.Builder
	b.WriteString(c.base.String())
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// checkID refuses an empty id, which would name another route.
func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("grantd: empty %s", what)
	}
	return nil
}

// authorize sets the headers every API request carries.
func (c *Client) authorize(h http.Header) {
	h.Set("Authorization", "Bearer "+c.key)
	if c.tenant != "" {
		h.Set("X-Grantd-Tenant", c.tenant)
	}
	if c.userAgent != "" {
		h.Set("User-Agent", c.userAgent)
	}
}

// call sends one JSON request and decodes the answer into out (unless out
// is nil). An answer of 300 or more is an [*Error]. It returns the
// response headers for the few routes that answer in them.
func (c *Client) call(ctx context.Context, method, target string, in, out any) (http.Header, error) {
	return c.callWith(ctx, method, target, nil, in, out)
}

// callWith is call with extra request headers.
func (c *Client) callWith(ctx context.Context, method, target string, extra http.Header, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("grantd: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("grantd: %w", err)
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	c.authorize(req.Header)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	op := method + " " + req.URL.Path
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("grantd: %s: %w", op, scrub(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("grantd: %s: read answer: %w", op, err)
	}
	if resp.StatusCode >= 300 {
		return resp.Header, fmt.Errorf("grantd: %s: %w", op, newError(resp, b))
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.Header, nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp.Header, fmt.Errorf("grantd: %s: decode answer: %w", op, err)
	}
	return resp.Header, nil
}

// scrub drops the URL from a transport error: the query could hold
// something the caller would rather not log.
func scrub(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

package pax8

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantd/grantd/internal/retry"
)

const (
	// DefaultBaseURL is the base URL of the Pax8 partner API.
	DefaultBaseURL = "https://api.pax8.com/v1"

	// DefaultMaxRetries is how many times a request is retried after a 429,
	// or, for idempotent methods, after a 5xx response or a network error.
	DefaultMaxRetries = 3

	// DefaultUserAgent is sent unless [WithUserAgent] sets another.
	DefaultUserAgent = "grantd-pax8-go"

	// maxErrorBody bounds how much of an error response is read.
	maxErrorBody = 1 << 20
)

// Client calls the Pax8 partner API. Create it with [NewClient]; the zero
// value is not usable. A Client is safe for concurrent use by multiple
// goroutines, and its services share its configuration.
//
// The Client does not authenticate by itself: the [http.Client] given to
// [NewClient] must add the bearer token, as the one from
// [Credentials.Client] does. Tokens never appear in its errors or logs.
type Client struct {
	// Companies manages companies (the partner's customers).
	Companies *CompaniesService
	// Contacts manages the contacts of a company.
	Contacts *ContactsService
	// Products reads the product catalogue, pricing and provisioning details.
	Products *ProductsService
	// Orders reads and places orders.
	Orders *OrdersService
	// Subscriptions reads, updates and cancels subscriptions.
	Subscriptions *SubscriptionsService
	// Invoices reads invoices and their line items.
	Invoices *InvoicesService
	// UsageSummaries reads usage summaries and usage lines.
	UsageSummaries *UsageSummariesService

	hc          *http.Client
	base        string // without trailing slash
	userAgent   string
	maxRetries  int
	concurrency int
	backoffMin  time.Duration
	backoffMax  time.Duration
	maxWait     time.Duration
	log         *slog.Logger
	err         error // a configuration error, returned by every call

}

// Option configures a [Client].
type Option func(*Client)

// WithBaseURL sets the API base URL, such as a sandbox's
// "http://127.0.0.1:8080/v1". An invalid URL makes every call fail with a
// configuration error.
func WithBaseURL(u string) Option {
	return func(c *Client) {
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "" || p.Host == "" {
			c.err = fmt.Errorf("pax8: invalid base URL %q", u)
			return
		}
		if p.RawQuery != "" || p.Fragment != "" || p.User != nil {
			c.err = errors.New("pax8: base URL must not have a query, fragment or user info")
			return
		}
		c.base = strings.TrimRight(u, "/")
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(s string) Option {
	return func(c *Client) { c.userAgent = s }
}

// WithMaxRetries sets how many times a request may be retried (see
// [DefaultMaxRetries]); 0 disables retries. Negative values are ignored.
func WithMaxRetries(n int) Option {
	return func(c *Client) {
		if n >= 0 {
			c.maxRetries = n
		}
	}
}

// WithConcurrency bounds how many pages the All methods fetch at the same
// time. With n > 1 they fetch the first page, take the number of pages from
// it, and then keep up to n pages in flight or unread ahead of the one being
// yielded, still yielding items in order; items added to the list during the
// walk may be missed. The default, 1, fetches one page after another.
func WithConcurrency(n int) Option {
	return func(c *Client) { c.concurrency = max(n, 1) }
}

// WithRetryBackoff sets the bounds of the exponential backoff (with jitter)
// used between retries when the server gives no Retry-After. The defaults are
// 500ms and 8s.
func WithRetryBackoff(minWait, maxWait time.Duration) Option {
	return func(c *Client) {
		c.backoffMin = max(minWait, 0)
		c.backoffMax = max(maxWait, c.backoffMin)
	}
}

// WithLogger sets the logger for retries; by default nothing is logged.
// Entries carry method, path, status, attempt and wait; never a header.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// NewClient returns a Client that sends its requests through hc. hc must be
// an already-authorised client (one that adds "Authorization: Bearer …");
// nil means [http.DefaultClient]. Redirects are never followed, so that the
// token cannot be carried to another host: a 3xx response is an [*Error].
func NewClient(hc *http.Client, opts ...Option) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	// Follow no redirects: an authorising transport (oauth2.Transport, for
	// one) would add the bearer token to the redirected request whatever its
	// host. A 3xx is returned as an *Error instead. The copy shares hc's
	// Transport and Jar and leaves hc itself untouched.
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{
		hc:          &own,
		base:        DefaultBaseURL,
		userAgent:   DefaultUserAgent,
		maxRetries:  DefaultMaxRetries,
		concurrency: 1,
		backoffMin:  500 * time.Millisecond,
		backoffMax:  8 * time.Second,
		maxWait:     2 * time.Minute,
		log:         slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	c.Companies = &CompaniesService{c}
	c.Contacts = &ContactsService{c}
	c.Products = &ProductsService{c}
	c.Orders = &OrdersService{c}
	c.Subscriptions = &SubscriptionsService{c}
	c.Invoices = &InvoicesService{c}
	c.UsageSummaries = &UsageSummariesService{c}
	return c
}

// idempotent reports whether a request may be repeated after a failure whose
// outcome is unknown (RFC 9110 §9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// do sends one API call, retrying as documented at [WithMaxRetries], and
// decodes a 2xx JSON body into out (when out is not nil). path is already
// escaped and starts with "/".
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	if err := c.doRetry(ctx, method, path, q, body, out); err != nil {
		if te, ok := err.(*TokenError); ok {
			return te // the request never left: its method and path do not matter
		}
		return fmt.Errorf("pax8: %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) doRetry(ctx context.Context, method, path string, q url.Values, body, out any) error {
	if c.err != nil {
		return c.err
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	target := c.base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	for attempt := 0; ; attempt++ {
		retry, wait, err := c.attempt(ctx, method, target, payload, out)
		if err == nil {
			return nil
		}
		if !retry || attempt >= c.maxRetries {
			return err
		}
		if wait < 0 {
			wait = c.backoff(attempt)
		}
		if wait > c.maxWait {
			return err // the server asks for longer than we are willing to block
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "pax8 retry",
			slog.String("method", method), slog.String("path", path),
			slog.Int("attempt", attempt+1), slog.Duration("wait", wait),
			slog.String("reason", retryReason(err)))
		if cerr := sleep(ctx, wait); cerr != nil {
			return fmt.Errorf("%w while waiting to retry after: %w", cerr, err)
		}
	}
}

func retryReason(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return strconv.Itoa(e.Status)
	}
	return "network"
}

// attempt performs a single HTTP exchange. wait < 0 means "use backoff".
func (c *Client) attempt(ctx context.Context, method, target string, payload []byte, out any) (retry bool, wait time.Duration, err error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return false, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, 0, ctx.Err()
		}
		// No token, so the request never left: retrying would only ask the
		// token endpoint again (x/oauth2 even probes two auth styles per
		// try). The credentials need fixing, not a retry.
		if te, ok := errors.AsType[*TokenError](err); ok {
			return false, 0, te
		}
		if _, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
			return false, 0, err
		}
		// The request may or may not have reached Pax8.
		return idempotent(method), -1, err
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	meta := record(ctx, resp, time.Now())
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := parseError(resp)
		apiErr.RequestID = meta.RequestID
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			// 429 means the request was not processed: always safe to repeat.
			return true, retryWait(apiErr.RetryAfter), apiErr
		case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
			return idempotent(method), retryWait(apiErr.RetryAfter), apiErr
		}
		return false, 0, apiErr
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return false, 0, nil
	}
	if err := decodeJSON(resp, out); err != nil {
		if ctx.Err() != nil {
			return false, 0, ctx.Err()
		}
		return false, 0, err
	}
	return false, 0, nil
}

func retryWait(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return -1
}

// decodeJSON decodes a success body, refusing what is plainly not JSON (an
// HTML page from a gateway, for instance) with a clear error.
func decodeJSON(resp *http.Response, out any) error {
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/html") {
		return fmt.Errorf("%d response is %s, not JSON", resp.StatusCode, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty 200 body: nothing to decode
		}
		return fmt.Errorf("decode %d response: %w", resp.StatusCode, err)
	}
	return nil
}

// backoff returns the wait before retry number attempt+1: exponential from
// backoffMin, capped at backoffMax, with "equal jitter".
func (c *Client) backoff(attempt int) time.Duration {
	return retry.Backoff{Base: c.backoffMin, Max: c.backoffMax, Jitter: 0.5}.Delay(attempt + 1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pathf builds an API path from a format and ids, escaping each id with
// [url.PathEscape] and refusing ids that would change the path's meaning
// ("", ".", ".."), so that no id can address another resource.
func pathf(format string, ids ...string) (string, error) {
	esc := make([]any, len(ids))
	for i, id := range ids {
		switch strings.TrimSpace(id) {
		case "", ".", "..":
			return "", fmt.Errorf("pax8: invalid id %q", id)
		}
		esc[i] = url.PathEscape(id)
	}
	return fmt.Sprintf(format, esc...), nil
}

package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
)

// Tokens is what a [Transport] needs from the broker; [*broker.Broker]
// implements it.
type Tokens interface {
	TenantToken(ctx context.Context, tenantID, id string) (broker.Token, error)
	Refresh(ctx context.Context, id, seen string) (broker.Token, error)
}

var _ Tokens = (*broker.Broker)(nil)

// ErrOffBase is returned when a request's URL is not under the API base of
// the connection's provider; the token is not sent (SEC-40).
var ErrOffBase = errors.New("upstream: url outside the provider's api base")

// ErrNoConnection is returned by [Transport.RoundTrip] for a request whose
// context names no connection (see [WithConnection]).
var ErrNoConnection = errors.New("upstream: request context names no connection")

// target is the connection a request acts for, carried in its context.
type target struct {
	tenantID string
	connID   string
	// tok, when set, is used by the first attempt only (the proxy handler
	// already looked it up); Swap makes that safe when several goroutines
	// share the context, as the pax8 client's concurrent page walks do.
	tok atomic.Pointer[broker.Token]
}

type targetKey struct{}

// WithConnection returns a context under which a [Transport] authorises
// requests with the token of tenantID's connection connID.
func WithConnection(ctx context.Context, tenantID, connID string) context.Context {
	return context.WithValue(ctx, targetKey{}, &target{tenantID: tenantID, connID: connID})
}

// WithToken is [WithConnection] for a caller that already holds tok, which
// the first attempt uses without asking the broker again.
func WithToken(ctx context.Context, tok broker.Token) context.Context {
	tg := &target{tenantID: tok.TenantID, connID: tok.ConnectionID}
	tg.tok.Store(&tok)
	return context.WithValue(ctx, targetKey{}, tg)
}

func targetFrom(ctx context.Context) (*target, bool) {
	t, ok := ctx.Value(targetKey{}).(*target)
	return t, ok
}

// Transport is an [http.RoundTripper] that authorises each request with the
// access token of the connection named in its context, and forces one
// refresh and one retry when the provider answers 401 (see the package
// documentation for when a body can be replayed). It sends the token only to
// URLs under the provider's API base and only in the Authorization header
// (SEC-40, SEC-42). It follows no redirects: it is a RoundTripper.
//
// Tokens and Providers are required. A Transport is safe for concurrent
// use; do not modify its fields after first use.
type Transport struct {
	Tokens    Tokens
	Providers *provider.Registry
	// Base sends the requests (default [NewBaseTransport]()).
	Base http.RoundTripper
	// Logger receives one line per forced refresh (default: discarded).
	Logger *slog.Logger
}

// NewBaseTransport returns the transport grantd uses towards provider APIs:
// bounded dial, TLS and response-header times, keep-alive pools sized for
// a busy proxy, and the environment's HTTP proxy settings.
func NewBaseTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
	}
}

var defaultBase = NewBaseTransport()

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return defaultBase
}

// RoundTrip implements [http.RoundTripper]. It does not modify req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tg, ok := targetFrom(ctx)
	if !ok {
		closeBody(req)
		return nil, ErrNoConnection
	}
	var tok broker.Token
	if first := tg.tok.Swap(nil); first != nil {
		tok = *first
	} else {
		var err error
		if tok, err = t.Tokens.TenantToken(ctx, tg.tenantID, tg.connID); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	if err := t.checkBase(tok.Provider, req.URL); err != nil {
		closeBody(req)
		return nil, err
	}
	replay := replayable(req)
	resp, err := t.base().RoundTrip(authorized(req, req.Body, tok))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replay {
		return resp, err
	}

	// One forced refresh and one retry (DESIGN.md data flow step 5),
	// fenced on the token the vendor refused: concurrent 401s for one
	// token cost one refresh, and a 401 for a token that has since been
	// replaced costs none (DESIGN.md, one refresh per expiry).
	fresh, rerr := t.Tokens.Refresh(ctx, tg.connID, tok.AccessToken)
	if broker.CodeOf(rerr) == broker.CodeRefreshThrottled || (rerr == nil && fresh.AccessToken == tok.AccessToken) {
		// Refreshed moments ago and still refused: another refresh would
		// not help, and the vendor's 401 is the answer.
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if rerr != nil {
		closeBody(req)
		return nil, rerr
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("replay request body: %w", err)
		}
	}
	t.log().LogAttrs(ctx, slog.LevelInfo, "provider answered 401; refreshed and retrying",
		slog.String("connection_id", tg.connID), slog.String("provider", tok.Provider), slog.String("method", req.Method))
	return t.base().RoundTrip(authorized(req, body, fresh))
}

func (t *Transport) log() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// authorized returns a copy of req with body and the bearer token in the
// Authorization header, the only place it ever goes (SEC-42).
func authorized(req *http.Request, body io.ReadCloser, tok broker.Token) *http.Request {
	out := req.Clone(req.Context())
	out.Body = body
	out.Header["Authorization"] = []string{"Bearer " + tok.AccessToken}
	return out
}

// replayable reports whether req's body can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// checkBase reports whether u lies under the API base of the named
// provider: same scheme, host and port, and a path below the base path.
func (t *Transport) checkBase(providerName string, u *url.URL) error {
	p, ok := t.Providers.Get(providerName)
	if !ok {
		return fmt.Errorf("%w: unknown provider %q", ErrOffBase, providerName)
	}
	base, err := p.APIBase()
	if err != nil || base.Host == "" {
		return fmt.Errorf("%w: provider %q has no usable api base", ErrOffBase, providerName)
	}
	return UnderBase(base, u)
}

// UnderBase is the SEC-40 check on a final URL: u must have base's scheme,
// host and port, no user info, and a path at or below base's path without
// "." or ".." segments (encoded or not). Its error wraps [ErrOffBase].
func UnderBase(base, u *url.URL) error {
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(hostPort(u), hostPort(base)) || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("%w: host %q", ErrOffBase, u.Host)
	}
	bp := strings.TrimRight(base.EscapedPath(), "/")
	p := u.EscapedPath()
	if p != bp && !strings.HasPrefix(p, bp+"/") {
		return fmt.Errorf("%w: path outside %q", ErrOffBase, bp)
	}
	if hasDotSegment(p) {
		return fmt.Errorf("%w: dot segment", ErrOffBase)
	}
	return nil
}

// hostPort returns u's host with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return u.Host + ":443"
	case "http":
		return u.Host + ":80"
	}
	return u.Host
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

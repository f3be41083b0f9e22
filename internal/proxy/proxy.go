package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/upstream"
)

// Default limits of a [Proxy].
const (
	DefaultMaxRequestBody  = 10 << 20
	DefaultMaxResponseBody = 50 << 20
	DefaultReplayLimit     = 1 << 20
	DefaultHeaderTimeout   = 60 * time.Second
)

// Options configures a [Proxy]. Tokens and Providers are required.
type Options struct {
	Tokens    upstream.Tokens
	Providers *provider.Registry
	// Base sends requests upstream (default [upstream.NewBaseTransport]()).
	Base http.RoundTripper
	// Logger receives refused, failed and aborted requests (default: discarded).
	Logger *slog.Logger
	// Registry receives the proxy's metrics; nil keeps them unregistered.
	Registry prometheus.Registerer
	// MaxRequestBody bounds a caller's body; larger ones get 413
	// (default [DefaultMaxRequestBody], 10 MiB).
	MaxRequestBody int64
	// MaxResponseBody bounds an upstream body: a larger declared length
	// gets 502, and a longer stream is cut off and the connection aborted
	// (default [DefaultMaxResponseBody], 50 MiB).
	MaxResponseBody int64
	// ReplayLimit is the largest body buffered so that the request can be
	// retried after a 401 (default [DefaultReplayLimit], 1 MiB; negative
	// buffers nothing, so only bodiless requests are retried).
	ReplayLimit int64
	// HeaderTimeout bounds the wait for the upstream's response headers,
	// retry included; when it passes the caller gets 504 (default
	// [DefaultHeaderTimeout]). Bodies are bounded by the server's own
	// timeouts, so long downloads stream.
	HeaderTimeout time.Duration
}

// Proxy is the authenticated reverse proxy. Create it with [New]; it is
// safe for concurrent use.
type Proxy struct {
	tokens    upstream.Tokens
	providers *provider.Registry
	log       *slog.Logger
	rp        *httputil.ReverseProxy
	metrics   *metrics
	maxReq    int64
	maxResp   int64
	replay    int64
	timeout   time.Duration
}

// New returns a Proxy.
func New(opts Options) (*Proxy, error) {
	if opts.Tokens == nil || opts.Providers == nil {
		return nil, errors.New("proxy: Options.Tokens and Options.Providers are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{
		tokens:    opts.Tokens,
		providers: opts.Providers,
		log:       opts.Logger,
		metrics:   newMetrics(opts.Registry),
		maxReq:    orDefault(opts.MaxRequestBody, DefaultMaxRequestBody),
		maxResp:   orDefault(opts.MaxResponseBody, DefaultMaxResponseBody),
		replay:    orDefault(opts.ReplayLimit, DefaultReplayLimit),
		timeout:   opts.HeaderTimeout,
	}
	if p.timeout <= 0 {
		p.timeout = DefaultHeaderTimeout
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        rewrite,
		Transport:      &upstream.Transport{Tokens: opts.Tokens, Providers: opts.Providers, Base: opts.Base, Logger: opts.Logger},
		FlushInterval:  -1, // stream as the upstream sends
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
		BufferPool:     bufferPool{},
	}
	return p, nil
}

func orDefault(v, d int64) int64 {
	if v == 0 {
		return d
	}
	return v
}

// exchange is the per-request state the handler shares with the
// ReverseProxy callbacks through the request context.
type exchange struct {
	target   *url.URL
	status   int
	stopWait func() bool // stops the header timer
}

type exchangeKey struct{}

var errHeaderTimeout = errors.New("proxy: upstream response headers timed out")

// Serve is the handler for Prefix + "{connection}/{path...}", to be wrapped by
// [api.Server.RequireTenant] and mounted before any [http.ServeMux], which
// would clean (and redirect) the very paths this handler must refuse.
func (p *Proxy) Serve(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	tenantID, ok := api.TenantFrom(r.Context())
	if !ok {
		return &httpapi.Error{Status: http.StatusUnauthorized, Code: httpapi.CodeUnauthorized, Message: "an API key is required"}
	}
	if err := checkRequest(w, r); err != nil {
		return err
	}
	connID, rest, err := splitPath(r.URL.EscapedPath())
	if err == nil {
		err = checkRest(rest)
	}
	if err != nil {
		return &httpapi.Error{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidPath, Message: err.Error(), Err: err}
	}
	if r.ContentLength > p.maxReq {
		return &httpapi.Error{Status: http.StatusRequestEntityTooLarge, Code: httpapi.CodeRequestTooLarge,
			Message: fmt.Sprintf("the request body is larger than %d bytes", p.maxReq)}
	}
	tok, err := p.tokens.TenantToken(r.Context(), tenantID, connID)
	if err != nil {
		return err // broker codes: not_found (SEC-43), needs_reauth, …
	}
	prov, ok := p.providers.Get(tok.Provider)
	if !ok {
		return fmt.Errorf("connection %s: unknown provider %q", connID, tok.Provider)
	}
	base, err := prov.APIBase()
	if err != nil || base.Host == "" {
		return fmt.Errorf("provider %s: api base: %v", tok.Provider, err)
	}
	target, err := join(base, rest, r.URL.RawQuery)
	if err != nil {
		return &httpapi.Error{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidPath, Message: err.Error(), Err: err}
	}
	if err := p.prepareBody(w, r); err != nil {
		return err
	}

	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	timer := time.AfterFunc(p.timeout, func() { cancel(errHeaderTimeout) })
	ex := &exchange{target: target, stopWait: timer.Stop}
	ctx = context.WithValue(upstream.WithToken(ctx, tok), exchangeKey{}, ex)
	// The upstream's response gets its own nosniff (modifyResponse), and
	// an error its own (httpapi.WriteError): exactly one either way.
	delete(w.Header(), "X-Content-Type-Options")
	p.rp.ServeHTTP(w, r.WithContext(ctx))
	timer.Stop()
	p.metrics.observe(tok.Provider, ex.status, time.Since(start))
	return nil
}

// prepareBody limits the caller's body and buffers a small one so that a
// 401 can be retried.
func (p *Proxy) prepareBody(w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, p.maxReq)
	if r.ContentLength <= 0 || r.ContentLength > p.replay {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if big, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLarge(big)
		}
		return &httpapi.Error{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest, Message: "the request body could not be read", Err: err}
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}

func tooLarge(err *http.MaxBytesError) error {
	return &httpapi.Error{Status: http.StatusRequestEntityTooLarge, Code: httpapi.CodeRequestTooLarge,
		Message: fmt.Sprintf("the request body is larger than %d bytes", err.Limit), Err: err}
}

// rewrite builds the outgoing request. Only the headers of
// [ForwardedHeaders] go through (SEC-42, SEC-53); ProxyRequest has already
// removed hop-by-hop headers and X-Forwarded-*, and no X-Forwarded-For is
// added, since the provider has no use for the caller's address.
func rewrite(pr *httputil.ProxyRequest) {
	ex := pr.In.Context().Value(exchangeKey{}).(*exchange)
	pr.Out.URL = ex.target
	pr.Out.Host = ""
	h := pr.Out.Header
	filterHeaders(h)
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // no Go default user agent
	}
}

// strippedResponse are upstream headers never returned to callers (SEC-44).
var strippedResponse = []string{"Set-Cookie", "Set-Cookie2", "Authorization", "Proxy-Authorization", "Www-Authenticate", "Proxy-Authenticate", "Authentication-Info"}

var errResponseTooLarge = errors.New("proxy: upstream response body exceeds the limit")

func (p *Proxy) modifyResponse(resp *http.Response) error {
	ex := resp.Request.Context().Value(exchangeKey{}).(*exchange)
	ex.stopWait()
	ex.status = resp.StatusCode
	for _, k := range strippedResponse {
		delete(resp.Header, k)
	}
	// The upstream's body is served from grantd's origin: whatever it is
	// (an HTML error page, say), a browser must not run it as grantd's.
	resp.Header.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	resp.Header.Set("X-Content-Type-Options", "nosniff")
	if resp.ContentLength > p.maxResp {
		return errResponseTooLarge
	}
	if resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = &limitedBody{rc: resp.Body, left: p.maxResp, onExceed: func() {
			p.log.LogAttrs(resp.Request.Context(), slog.LevelWarn, "upstream response body over the limit; aborted",
				slog.String("host", resp.Request.URL.Host), slog.Int64("limit", p.maxResp))
		}}
	}
	return nil
}

// limitedBody fails the read that would pass the limit, which makes
// ReverseProxy abort the response to the caller.
type limitedBody struct {
	rc       io.ReadCloser
	left     int64
	onExceed func()
}

func (b *limitedBody) Read(buf []byte) (int, error) {
	if b.left < 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(buf)) > b.left+1 {
		buf = buf[:b.left+1]
	}
	n, err := b.rc.Read(buf)
	b.left -= int64(n)
	if b.left < 0 {
		b.onExceed()
		return 0, errResponseTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// errorHandler turns a failed exchange into the API's error shape without
// revealing its cause, which it logs.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	ex, _ := r.Context().Value(exchangeKey{}).(*exchange)
	cause := context.Cause(r.Context())
	var ae *httpapi.Error
	var netErr net.Error
	switch {
	case errors.Is(cause, errHeaderTimeout):
		ae = &httpapi.Error{Status: http.StatusGatewayTimeout, Code: httpapi.CodeUpstreamTimeout, Err: err}
	case isBrokerError(err):
		// A token lookup or forced refresh failed: the broker's code
		// (needs_reauth, not_found, …) says what to do.
	case errors.As(err, new(*http.MaxBytesError)):
		big, _ := errors.AsType[*http.MaxBytesError](err)
		err = tooLarge(big)
	case errors.Is(err, errResponseTooLarge):
		ae = &httpapi.Error{Status: http.StatusBadGateway, Code: httpapi.CodeUpstreamResponseTooLarge, Err: err}
	case errors.Is(err, upstream.ErrOffBase):
		ae = &httpapi.Error{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidPath, Message: "the path leaves the API base", Err: err}
	case errors.As(err, &netErr) && netErr.Timeout():
		ae = &httpapi.Error{Status: http.StatusGatewayTimeout, Code: httpapi.CodeUpstreamTimeout, Err: err}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The caller went away: nobody reads this answer.
		ae = &httpapi.Error{Status: httpapi.StatusClientClosed, Code: httpapi.CodeClientClosed, Message: "client closed the request", Err: err}
	default:
		ae = &httpapi.Error{Status: http.StatusBadGateway, Code: httpapi.CodeUpstreamUnreachable, Err: err}
	}
	if ae != nil {
		err = ae
	}
	if ex != nil {
		ex.stopWait()
		ex.status = httpapi.StatusOf(err)
	}
	httpapi.WriteError(w, r, err)
}

func isBrokerError(err error) bool {
	_, ok := errors.AsType[*broker.Error](err)
	return ok
}

// bufferPool recycles the 32 KiB copy buffers of the ReverseProxy.
type bufferPool struct{}

var copyBufs = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (bufferPool) Get() []byte  { return copyBufs.Get().(*[32 << 10]byte)[:] }
func (bufferPool) Put(b []byte) { copyBufs.Put((*[32 << 10]byte)(b)) }

// Mount returns a handler that sends every request under [Prefix] to the
// proxy, authenticated by s, and everything else to next. The proxy must
// sit in front of any [http.ServeMux]: a mux cleans "..", "//" and their
// kin out of paths (answering with a redirect), and such paths must instead
// be refused with 400 (SEC-40).
func (p *Proxy) Mount(s *api.Server, next http.Handler) http.Handler {
	h := s.RequireTenant(Route, p.Serve)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, Prefix) || strings.HasPrefix(r.URL.RawPath, Prefix) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

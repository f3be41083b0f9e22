package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// HandlerFunc is a route handler. It writes a response and returns nil, or
// writes nothing and returns an error, which [WriteError] turns into the
// error response.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Principal is who a request authenticated as: a tenant (TenantID set), the
// operator (Admin), or, with the admin key naming a tenant, the operator
// acting as that tenant (both).
type Principal struct {
	TenantID string
	Admin    bool
}

// Authenticator decides who a request comes from, for one route. It
// returns the principal, or an error for a caller that is refused (an
// [*Error] with 401, 403 or 429; it may set headers on w, such as
// Retry-After). A nil Authenticator lets every request through.
type Authenticator interface {
	Authenticate(w http.ResponseWriter, r *http.Request) (Principal, error)
}

// RequestInfo is what the adapter learns about a request, stored once in
// its context: the request id, the caller's address, the logger for its
// errors, the route label, and the principal once authenticated.
type RequestInfo struct {
	ID        string
	ClientIP  netip.Addr
	Log       *slog.Logger
	Route     string
	Principal Principal
}

type infoKey struct{}

// InfoFrom returns the request's [RequestInfo], or nil outside an
// [Adapter].
func InfoFrom(ctx context.Context) *RequestInfo {
	i, _ := ctx.Value(infoKey{}).(*RequestInfo)
	return i
}

// WithInfo returns ctx carrying info, for handlers that run outside an
// [Adapter] (tests, the CLI).
func WithInfo(ctx context.Context, info *RequestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// Adapter turns [HandlerFunc]s into [http.Handler]s. Every field is
// optional: Logger receives the error lines (nil discards), Metrics
// counts requests by route and status, RequestID names each request (in
// X-Request-Id and the logs), and ClientIP finds the caller's address. An
// Adapter must not be modified after first use; it is safe for concurrent
// use.
type Adapter struct {
	Logger    *slog.Logger
	Metrics   *Metrics
	RequestID func() string
	ClientIP  func(*http.Request) netip.Addr
}

// reqState is allocated once per request: the context value and the
// status-recording writer.
type reqState struct {
	info RequestInfo
	sw   statusWriter
}

// Wrap returns the handler of one route: it sets the request id,
// X-Content-Type-Options: nosniff and the request's [RequestInfo]; refuses
// path wildcards holding NUL, control characters or invalid UTF-8 (400);
// runs auth, then h; writes h's error with [WriteError] (or logs it when
// the response had started); and records the route's metrics. route labels
// the metrics and logs; "" takes the pattern the mux matched, and a request
// no pattern matched is labelled "unmatched".
func (a *Adapter) Wrap(route string, auth Authenticator, h HandlerFunc) http.Handler {
	log := a.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var m *routeMetrics
	if route != "" && a.Metrics != nil {
		m = a.Metrics.route(route)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{info: RequestInfo{Log: log, Route: route}}
		if a.RequestID != nil {
			st.info.ID = a.RequestID()
		}
		if a.ClientIP != nil {
			st.info.ClientIP = a.ClientIP(r)
		}
		st.sw.ResponseWriter = w
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, &st.info))
		w = &st.sw
		if st.info.ID != "" {
			w.Header()["X-Request-Id"] = []string{st.info.ID}
		}
		w.Header()["X-Content-Type-Options"] = nosniff

		err := CheckPathValues(r)
		if err == nil && auth != nil {
			st.info.Principal, err = auth.Authenticate(w, r)
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			if st.sw.status == 0 {
				WriteError(w, r, err)
			} else {
				log.LogAttrs(r.Context(), slog.LevelError, "api error after response started",
					slog.String("request_id", st.info.ID), slog.String("route", routeOf(r, &st.info)), slog.Any("err", err))
			}
		}
		if a.Metrics == nil {
			return
		}
		status := st.sw.status
		if status == 0 {
			status = http.StatusOK
		}
		rm := m
		if rm == nil {
			rm = a.Metrics.route(routeLabel(r.Pattern))
		}
		rm.observe(status, time.Since(start))
	})
}

func routeLabel(p string) string {
	if p == "" || p == "/" {
		return "unmatched"
	}
	return p
}

// CheckPathValues refuses a request whose path wildcards (the {name}
// segments of the pattern it matched) hold NUL bytes
// or invalid UTF-8 after unescaping: ids like that name nothing, and
// PostgreSQL would refuse them with an internal error where SQLite would
// store them.
func CheckPathValues(r *http.Request) error {
	p := r.Pattern
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			return nil
		}
		name := strings.TrimSuffix(p[i+1:i+j], "...")
		p = p[i+j+1:]
		if name == "$" {
			continue
		}
		if reason, msg := badString(r.PathValue(name)); reason != "" {
			return &Error{Code: CodeInvalidRequest, Message: "path parameter " + name + " " + msg,
				Field: name, Details: []Detail{{Field: name, Reason: reason, Message: msg}}}
		}
	}
}

// badString reports why s may not be an API string: it holds NUL or
// invalid UTF-8.
func badString(s string) (reason, msg string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return ReasonNUL, "must not contain NUL bytes"
		}
		if c >= utf8.RuneSelf {
			if !utf8.ValidString(s[i:]) {
				return ReasonInvalidUTF8, "must be valid UTF-8"
			}
			return "", ""
		}
	}
	return "", ""
}

// Reasons of [Detail]s the decoder and the path check produce.
const (
	ReasonSyntax         = "syntax"
	ReasonUnknownField   = "unknown_field"
	ReasonDuplicateField = "duplicate_field"
	ReasonWrongType      = "wrong_type"
	ReasonInvalidValue   = "invalid_value"
	ReasonNUL            = "nul_byte"
	ReasonInvalidUTF8    = "invalid_utf8"
)

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets [http.ResponseController] reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements [http.Flusher] for streaming handlers (the proxy).
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

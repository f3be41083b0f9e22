package app

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/clientip"
	"github.com/grantd/grantd/internal/orgmap"
)

// secretSegments are the path segments whose next segment is a bearer
// credential (a connect link's token, a mapping page's token), which the
// access log replaces with "{token}".
var secretSegments = map[string]bool{"connect": true, strings.Trim(orgmap.PagePath, "/"): true}

// maxLoggedPath bounds the path an access log line repeats.
const maxLoggedPath = 256

// accessLog wraps next so that each request is logged once answered, as
// "http request" with its method, path, status, bytes written, duration
// and client_ip: the address clientIP resolves, trusting X-Forwarded-For
// only from the configured proxies (SEC-53); peer is added when that is
// not the TCP peer. The query, headers and body are never logged, since
// they may carry codes, states and keys, and link tokens in paths are
// masked. Health checks and metrics scrapes are logged at debug level,
// everything else at info. When the level is disabled, next runs
// unwrapped.
func accessLog(log *slog.Logger, clientIP *clientip.Resolver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
			level = slog.LevelDebug
		}
		ctx := r.Context()
		if !log.Enabled(ctx, level) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &recordingWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		client, peer := clientIP.Resolve(r), clientip.Peer(r)
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", loggedPath(requestPath(r))),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", client.String()),
		}
		if client != peer {
			attrs = append(attrs, slog.String("peer", peer.String()))
		}
		log.LogAttrs(ctx, level, "http request", attrs...)
	})
}

// requestPath is the path of r's request target as the client sent it,
// without the query (and, for an absolute-form target, with "//host" but
// without the scheme and user information): an absolute-form target such
// as "http://connect/<token>" has the path "/<token>", which would log the
// token with nothing to say it is one.
func requestPath(r *http.Request) string {
	p := r.RequestURI
	switch {
	case p == "" || p == "*":
		p = r.URL.EscapedPath()
	case !strings.HasPrefix(p, "/"):
		p = "//" + r.URL.Host + r.URL.EscapedPath()
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// loggedPath is p with the token segment of link paths masked, cut to
// maxLoggedPath bytes. It masks the segment after "connect" or "mappings"
// wherever it appears and whatever surrounds it ("//connect/<token>",
// "/connect//<token>/start", "/CONNECT/<token>", backslashes), after
// undoing any percent-encoding left in p ("/connect%2F<token>", or
// encoded twice), so that no spelling of a link that the server might
// route, redirect or refuse puts its token in the log.
func loggedPath(p string) string {
	for range 3 {
		u, err := url.PathUnescape(p)
		if err != nil || u == p {
			break
		}
		p = u
	}
	var b strings.Builder
	b.Grow(len(p))
	mask := false
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' && p[i] != '\\' {
			continue
		}
		switch seg := p[start:i]; {
		case mask && seg != "":
			b.WriteString("{token}")
			mask = false
		default:
			b.WriteString(seg)
			mask = mask || secretSegments[strings.ToLower(seg)]
		}
		if i < len(p) {
			b.WriteByte(p[i])
		}
		start = i + 1
	}
	p = b.String()
	if len(p) > maxLoggedPath {
		p = p[:maxLoggedPath] + "…"
	}
	return p
}

// recordingWriter records the status and the number of body bytes a
// handler wrote.
type recordingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets [http.ResponseController] reach the underlying writer.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements [http.Flusher] for streaming handlers (the proxy).
func (w *recordingWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

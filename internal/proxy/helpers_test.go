package proxy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/proxy"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
)

// env is grantd's API with the proxy mounted in front of it, on loopback,
// over a sandbox (or a test upstream) with one connected tenant.
type env struct {
	*testenv.Env
	t      *testing.T
	srv    *httptest.Server
	reg    *prometheus.Registry
	tenant string
	key    string
	conn   store.Connection
	// client follows no redirects, so tests see what the proxy answers.
	client *http.Client
}

func newEnv(t *testing.T, to testenv.Options, po proxy.Options) *env {
	t.Helper()
	e := &env{Env: testenv.New(t, to), t: t, reg: prometheus.NewRegistry()}
	e.tenant, e.key = e.Tenant(t, "acme")
	e.conn = e.Connect(t, e.tenant, testenv.Partner)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	po.Tokens, po.Providers, po.Logger, po.Registry = e.Broker, e.Providers, log, e.reg
	px, err := proxy.New(po)
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Options{Broker: e.Broker, Store: e.Store, Logger: log, Registry: e.reg})
	e.srv = httptest.NewServer(px.Mount(a, a))
	t.Cleanup(e.srv.Close)
	e.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// response is a finished exchange with the proxy.
type response struct {
	status int
	header http.Header
	body   string
}

// errorCode is the API error code of the body, or "".
func (r response) errorCode() string {
	var env struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal([]byte(r.body), &env)
	return env.Error.Code
}

// do sends method to the raw request target (sent byte for byte, not
// cleaned or re-escaped) with the tenant's key and extra headers.
func (e *env) do(method, rawTarget string, body io.Reader, hdr http.Header) response {
	e.t.Helper()
	u, _ := url.Parse(e.srv.URL)
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.URL = &url.URL{Scheme: u.Scheme, Host: u.Host, Opaque: rawTarget}
	maps.Copy(req.Header, hdr)
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, rawTarget, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, rawTarget, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// get proxies a GET of path (relative to the API base) for the env's
// connection.
func (e *env) get(path string) response {
	e.t.Helper()
	return e.do(http.MethodGet, proxy.Prefix+e.conn.ID+"/"+path, nil, nil)
}

// token is the connection's current access token.
func (e *env) token() string {
	e.t.Helper()
	tok, err := e.Broker.TenantToken(e.t.Context(), e.tenant, e.conn.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

// refreshes counts refresh_token grants the sandbox served.
func (e *env) refreshes() int {
	n := 0
	for _, v := range e.Sandbox.Stats().Providers["pax8"].TokenRequests["refresh_token"] {
		n += v
	}
	return n
}

// recorder is an HTTP server that records every request it receives.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, uri string
	header      http.Header
	body        string
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{method: r.Method, uri: r.RequestURI, header: r.Header.Clone(), body: string(b)})
		rec.mu.Unlock()
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// hostOf returns the host:port of a test server URL.
func hostOf(u string) string { return strings.TrimPrefix(u, "http://") }

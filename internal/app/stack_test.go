package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/tenant"
	"github.com/grantd/grantd/internal/vault"
)

// recorded is one request that reached the sandbox, and its answer.
type recorded struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	Status   int
	Answer   []byte
}

// recorder sits in front of the sandbox's handler and keeps every request
// and answer, so that a test sees all grantd sends to the provider.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []recorded
	// arrived holds the body of every request as it arrives, before it
	// is answered.
	arrived [][]byte
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	rc.mu.Lock()
	rc.arrived = append(rc.arrived, body)
	rc.mu.Unlock()
	rw := &teeWriter{ResponseWriter: w, status: http.StatusOK}
	rc.next.ServeHTTP(rw, r)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.reqs = append(rc.reqs, recorded{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, Status: rw.status, Answer: rw.buf.Bytes(),
	})
}

func (rc *recorder) all() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

// teeWriter keeps a copy of the status and body written.
type teeWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

// syncBuffer is a bytes.Buffer safe for the concurrent writers of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stack is a whole grantd served on loopback by [App.Serve], in front of a
// sandbox whose every request is recorded.
type stack struct {
	sandbox      *sandbox.Server
	rec          *recorder
	endpoints    sandbox.Endpoints
	app          *App
	publicURL    string
	clientSecret string
	tenantID     string
	apiKey       string
	// stop cancels Serve and returns what it returned; later calls return
	// the same.
	stop func() error
}

const stackIntegration = "pax8-main"

// startStack starts the recorded sandbox and grantd, creates one tenant and
// registers grantd's client at the sandbox. grantd logs to logger. Each of
// tune, when given, adjusts the config before grantd is built.
func startStack(t *testing.T, logger *slog.Logger, tune ...func(*config.Config)) *stack {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	rec := &recorder{next: sb.Handler()}
	sbSrv := httptest.NewServer(rec)
	t.Cleanup(sbSrv.Close)
	sb.SetBaseURL(sbSrv.URL)
	ep := sb.Endpoints(sandbox.Pax8)

	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{sandbox: sb, rec: rec, endpoints: ep, publicURL: "http://" + ln.Addr().String(),
		clientSecret: "client-secret-canary-" + fmt.Sprint(time.Now().UnixNano())}
	cfg, err := config.Parse(fmt.Appendf(nil, `dev: true
providers:
  - %s
integrations:
  - id: %s
    provider: pax8
    client_id: grantd-canary
`, sandbox.ProviderYAML(sandbox.Pax8, ep), stackIntegration))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	key, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = filepath.Join(t.TempDir(), "grantd.db")
	cfg.PublicURL = s.publicURL
	cfg.Vault.Keys = []vault.Key{key}
	cfg.AdminKey = "admin-key-for-tests-0123456789abcdef"
	cfg.Integrations[0].ClientSecret = config.Secret(s.clientSecret)
	cfg.ApplyDefaults()
	for _, f := range tune {
		f(cfg)
	}
	s.clientSecret = cfg.Integrations[0].ClientSecret.Reveal() // a tune may change it
	in := cfg.Integrations[0]
	sb.RegisterClient(sandbox.Pax8, sandbox.Client{ID: in.ClientID, Secret: s.clientSecret, RedirectURIs: []string{in.RedirectURI}})

	if s.app, err = Build(t.Context(), cfg, nil, logger); err != nil {
		ln.Close()
		t.Fatalf("Build: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.app.Serve(ctx, ln) }()
	var once sync.Once
	var served error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			served = <-done
		})
		return served
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.app.Close()
	})

	tn, apiKey, err := tenant.Create(t.Context(), s.app.Store(), "Acme", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s.tenantID, s.apiKey = tn.ID, apiKey
	return s
}

// call sends a JSON API request as the tenant, with extra headers, and
// decodes a 2xx answer into out. It returns the status.
func (s *stack) call(t *testing.T, method, path string, in, out any, extra http.Header) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.publicURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, extra)
	if h := extra.Get("Host"); h != "" {
		req.Host = h
	}
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// connectSession creates a connect link through the API.
func (s *stack) connectSession(t *testing.T, extra http.Header) string {
	t.Helper()
	var out struct {
		URL string `json:"url"`
	}
	if st := s.call(t, http.MethodPost, "/v1/connect-sessions", map[string]string{"integration_id": stackIntegration}, &out, extra); st != http.StatusCreated {
		t.Fatalf("POST /v1/connect-sessions = %d, want 201", st)
	}
	return out.URL
}

var startFormRE = regexp.MustCompile(`<form[^>]*\baction="([^"]+)"[^>]*\bid="start"`)

// startConnect opens the connect page of linkURL and presses its button as
// a same-origin browser would, with extra headers on both requests. It
// returns the browser and the authorize URL grantd redirected to.
func (s *stack) startConnect(t *testing.T, linkURL string, extra http.Header) (*http.Client, *url.URL) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, target string, body io.Reader) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), method, target, body)
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(req.Header, extra)
		if h := extra.Get("Host"); h != "" {
			req.Host = h
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", s.publicURL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		return resp
	}
	resp := send(http.MethodGet, linkURL, nil)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := startFormRE.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("connect page = %d without the start form:\n%s", resp.StatusCode, page)
	}
	action, err := url.Parse(s.publicURL)
	if err != nil {
		t.Fatal(err)
	}
	if action, err = action.Parse(string(m[1])); err != nil {
		t.Fatal(err)
	}
	resp = send(http.MethodPost, action.String(), strings.NewReader(""))
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("POST %s = %d (%v), want 303 to the provider", action.Path, resp.StatusCode, err)
	}
	return browser, loc
}

// connect runs the whole connect flow as the sandbox's first partner: the
// connect page, its button, login and consent at the sandbox, and the
// callback at grantd. It returns the new connection's id.
func (s *stack) connect(t *testing.T) string {
	t.Helper()
	browser, authorize := s.startConnect(t, s.connectSession(t, nil), nil)
	var partner sandbox.Account
	for _, a := range sandbox.Accounts() {
		if a.Kind == sandbox.KindPartner {
			partner = a
			break
		}
	}
	cb, err := sandboxtest.Login(t.Context(), browser, authorize.String(), partner.Username, partner.Password, true)
	if err != nil {
		t.Fatalf("sandbox login: %v", err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, cb.String(), nil)
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatalf("callback: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode/100 != 3 {
		t.Fatalf("callback = %d, want success", resp.StatusCode)
	}
	conns, err := s.app.Store().ListConnections(t.Context(), store.ConnectionFilter{TenantID: s.tenantID})
	if err != nil || len(conns) != 1 {
		t.Fatalf("ListConnections = %d connections, %v; want 1", len(conns), err)
	}
	return conns[0].ID
}

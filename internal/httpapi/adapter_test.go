package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/httpapi"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// keyAuth is a working Authenticator: "Bearer good" is tenant t1.
type keyAuth struct{}

func (keyAuth) Authenticate(w http.ResponseWriter, r *http.Request) (httpapi.Principal, error) {
	if r.Header.Get("Authorization") != "Bearer good" {
		return httpapi.Principal{}, httpapi.Errorf(httpapi.CodeUnauthorized, "the API key is not valid")
	}
	return httpapi.Principal{TenantID: "t1"}, nil
}

type served struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, url string, hdr ...string) served {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return served{res.StatusCode, res.Header, b}
}

// newServer serves routes through one Adapter logging to logs and counting
// into reg.
func newServer(t *testing.T, logs io.Writer, reg *prometheus.Registry, routes map[string]httpapi.HandlerFunc) string {
	t.Helper()
	a := &httpapi.Adapter{
		Logger:    slog.New(slog.NewTextHandler(logs, nil)),
		Metrics:   httpapi.NewMetrics(reg),
		RequestID: func() string { return "req-1" },
	}
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle(p, a.Wrap(p, keyAuth{}, h))
	}
	mux.Handle("/", a.Wrap("", nil, func(w http.ResponseWriter, r *http.Request) error {
		return httpapi.Errorf(httpapi.CodeNotFound, "no such route")
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestErrorCauseLoggedOnceNeverSent: an error's internal cause (and any
// 5xx text) is logged once with the request id and never reaches the
// client, which gets the registered code and a generic message.
func TestErrorCauseLoggedOnceNeverSent(t *testing.T) {
	const secret = "rt-canary-secret"
	logs := &logBuffer{}
	url := newServer(t, logs, prometheus.NewRegistry(), map[string]httpapi.HandlerFunc{
		"GET /internal": func(w http.ResponseWriter, r *http.Request) error {
			return errors.New("db said " + secret)
		},
		"GET /client": func(w http.ResponseWriter, r *http.Request) error {
			return &httpapi.Error{Code: httpapi.CodeInvalidRequest, Message: "name is required", Err: errors.New("cause " + secret)}
		},
		"GET /upstream": func(w http.ResponseWriter, r *http.Request) error {
			return &httpapi.Error{Code: httpapi.CodeUpstream, Message: "Pax8 said " + secret}
		},
	})
	for path, want := range map[string]struct {
		status  int
		code    string
		message string
	}{
		"/internal": {500, "internal", "internal error"},
		"/client":   {400, "invalid_request", "name is required"},
		"/upstream": {502, "upstream_error", "the provider returned an unusable response; try again later"},
	} {
		before := strings.Count(logs.String(), secret)
		res := get(t, url+path, "Authorization", "Bearer good")
		var b struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(res.body, &b); err != nil {
			t.Fatalf("GET %s: %s: %v", path, res.body, err)
		}
		if res.status != want.status || b.Error.Code != want.code || b.Error.Message != want.message {
			t.Errorf("GET %s = %d %s, want %d %s %q", path, res.status, res.body, want.status, want.code, want.message)
		}
		if bytes.Contains(res.body, []byte(secret)) {
			t.Errorf("GET %s: body %s holds the cause", path, res.body)
		}
		if got := res.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("GET %s: Content-Type %q", path, got)
		}
		if got := res.header.Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want one nosniff", path, got)
		}
		if n := strings.Count(logs.String(), secret) - before; n != 1 {
			t.Errorf("GET %s: the cause was logged %d times, want once:\n%s", path, n, logs)
		}
	}
	if !strings.Contains(logs.String(), "request_id=req-1") {
		t.Errorf("logs lack the request id:\n%s", logs)
	}
}

// TestAuthenticatorRefuses: a refused caller gets the authenticator's
// error (401 with the bearer challenge) and the handler never runs.
func TestAuthenticatorRefuses(t *testing.T) {
	ran := false
	url := newServer(t, io.Discard, prometheus.NewRegistry(), map[string]httpapi.HandlerFunc{
		"GET /me": func(w http.ResponseWriter, r *http.Request) error {
			ran = true
			return httpapi.WriteJSON(w, 200, map[string]string{"tenant": httpapi.InfoFrom(r.Context()).Principal.TenantID})
		},
	})
	res := get(t, url+"/me")
	if res.status != 401 || res.header.Get("Www-Authenticate") == "" || ran {
		t.Errorf("GET /me without a key = %d %s (handler ran: %v), want 401 with a challenge", res.status, res.body, ran)
	}
	res = get(t, url+"/me", "Authorization", "Bearer good")
	if res.status != 200 || strings.TrimSpace(string(res.body)) != `{"tenant":"t1"}` {
		t.Errorf("GET /me = %d %s, want 200 with tenant t1", res.status, res.body)
	}
}

// TestErrorDetailsWireForm: field and details go out in the error object.
func TestErrorDetailsWireForm(t *testing.T) {
	url := newServer(t, io.Discard, prometheus.NewRegistry(), map[string]httpapi.HandlerFunc{
		"GET /bad": func(w http.ResponseWriter, r *http.Request) error {
			return httpapi.Unmarshal([]byte(`{"a":1,"a":2}`), new(map[string]int))
		},
	})
	res := get(t, url+"/bad", "Authorization", "Bearer good")
	want := `{"error":{"code":"invalid_request","message":"field \"a\" appears more than once","field":"/a","details":[{"field":"/a","reason":"duplicate_field","message":"appears more than once"}]}}`
	if res.status != 400 || strings.TrimSpace(string(res.body)) != want {
		t.Errorf("GET /bad = %d %s, want 400 %s", res.status, res.body, want)
	}
}

// TestMetricsPerRoute: requests are counted by route pattern and status;
// an unmatched request is "unmatched", never its path.
func TestMetricsPerRoute(t *testing.T) {
	reg := prometheus.NewRegistry()
	url := newServer(t, io.Discard, reg, map[string]httpapi.HandlerFunc{
		"GET /items/{id}": func(w http.ResponseWriter, r *http.Request) error {
			return httpapi.WriteJSON(w, 200, r.PathValue("id"))
		},
	})
	get(t, url+"/items/1", "Authorization", "Bearer good")
	get(t, url+"/items/2", "Authorization", "Bearer good")
	get(t, url+"/items/3")
	get(t, url+"/nowhere/secret-path")
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "grantd_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			got[l["route"]+" "+l["status"]] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"GET /items/{id} 200": 2, "GET /items/{id} 401": 1, "unmatched 404": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grantd_http_requests_total (-want +got):\n%s", diff)
	}
}

// TestPathValuesChecked: a NUL or invalid UTF-8 in a path wildcard is 400
// before authentication and the handler.
func TestPathValuesChecked(t *testing.T) {
	url := newServer(t, io.Discard, prometheus.NewRegistry(), map[string]httpapi.HandlerFunc{
		"GET /items/{id}": func(w http.ResponseWriter, r *http.Request) error {
			return httpapi.WriteJSON(w, 200, r.PathValue("id"))
		},
	})
	for path, want := range map[string]int{"/items/a%00b": 400, "/items/%c3%28": 400, "/items/%c3%a9": 200, "/items/ok": 200} {
		if res := get(t, url+path, "Authorization", "Bearer good"); res.status != want {
			t.Errorf("GET %s = %d %s, want %d", path, res.status, res.body, want)
		}
	}
}

// TestRegistryIsConsistent: every code has a status and a description,
// and Status falls back to 500 for an unregistered code.
func TestRegistryIsConsistent(t *testing.T) {
	for _, c := range httpapi.Codes() {
		if len(c.Statuses) == 0 || c.Description == "" || c.Status() < 400 {
			t.Errorf("code %q: statuses %v, description %q", c.Code, c.Statuses, c.Description)
		}
		if httpapi.Status(c.Code) != c.Status() {
			t.Errorf("Status(%q) = %d, want %d", c.Code, httpapi.Status(c.Code), c.Status())
		}
	}
	if got := httpapi.Status("no_such_code"); got != 500 {
		t.Errorf("Status(unregistered) = %d, want 500", got)
	}
}

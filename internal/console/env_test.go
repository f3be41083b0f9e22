package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/grantd/grantd/internal/console"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/testenv"
)

const adminKey = "console-test-admin-key-0123456789"

// env is the real back end (sandbox, SQLite, broker) with the console on
// a loopback server, and two tenants, each with one connection.
type env struct {
	t     testing.TB
	e     *testenv.Env
	st    console.Store
	srv   *httptest.Server
	mux   *http.ServeMux
	tenA  string
	keyA  string
	connA store.Connection
	tenB  string
	keyB  string
	connB store.Connection

	mu  sync.Mutex
	now time.Time // zero: the real clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := testenv.New(t, testenv.Options{})
	st, ok := e.Store.(console.Store)
	if !ok {
		t.Fatalf("the store %T does not implement console.Store", e.Store)
	}
	v := &env{t: t, e: e, st: st}
	con, err := console.New(console.Options{
		Broker: e.Broker, Store: st, Vault: e.Vault, AdminKey: adminKey,
		SessionTTL: time.Hour, Logger: e.Logger, Now: v.clock, PageSize: 2,
	})
	if err != nil {
		t.Fatalf("console.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(console.Path, con)
	v.mux = mux
	v.srv = httptest.NewServer(mux)
	t.Cleanup(v.srv.Close)
	v.tenA, v.keyA = e.Tenant(t, "Tenant A")
	v.tenB, v.keyB = e.Tenant(t, "Tenant B")
	v.connA = e.Connect(t, v.tenA, testenv.Partner)
	v.connB = e.Connect(t, v.tenB, testenv.OtherPartner)
	return v
}

func (v *env) clock() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.now.IsZero() {
		return time.Now()
	}
	return v.now
}

func (v *env) setNow(t time.Time) {
	v.mu.Lock()
	v.now = t
	v.mu.Unlock()
}

// client is a plain HTTP client with its own cookie jar that does not
// follow redirects.
func (v *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs hc in with key over plain HTTP and returns the session's
// CSRF token (read from the overview's sign-out form).
func (v *env) signIn(hc *http.Client, key string) string {
	v.t.Helper()
	body := v.get(hc, "/console/signin", http.StatusOK)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		v.t.Fatalf("no csrf field on the sign-in page:\n%s", body)
	}
	resp := v.post(hc, "/console/signin", url.Values{"csrf": {m[1]}, "key": {key}})
	if resp.StatusCode != http.StatusSeeOther {
		v.t.Fatalf("sign in = %d, want 303", resp.StatusCode)
	}
	m = csrfRE.FindStringSubmatch(v.get(hc, "/console/", http.StatusOK))
	if m == nil {
		v.t.Fatal("no csrf field on the overview")
	}
	return m[1]
}

// get fetches path and checks its status; it returns the body.
func (v *env) get(hc *http.Client, path string, want int) string {
	v.t.Helper()
	resp, err := hc.Get(v.srv.URL + path)
	if err != nil {
		v.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		v.t.Fatalf("GET %s = %d, want %d:\n%s", path, resp.StatusCode, want, b)
	}
	return string(b)
}

// post sends a same-origin form post (as a browser does).
func (v *env) post(hc *http.Client, path string, form url.Values) *http.Response {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, v.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := hc.Do(req)
	if err != nil {
		v.t.Fatalf("POST %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// browserSignIn opens the sign-in page in Chromium and signs in with key.
func (v *env) browserSignIn(ctx context.Context, key string) {
	v.t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(v.srv.URL+"/console/signin"),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SetValue(chromedp.ID("key"), key),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("signout")),
	); err != nil {
		v.t.Fatalf("sign in with Chromium: %v", err)
	}
}

// browse returns a Chromium context with a minute to run.
func browse(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(testenv.Browser(t), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

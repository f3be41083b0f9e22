package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/grantd/grantd/connectresult"
	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/vault"
	"github.com/grantd/grantd/internal/web"
)

const (
	partner  = "partner@example-msp.test"
	password = "demo"
	appURL   = "https://app.example.com/integrations/done"
	tenantID = "ten_acme"
)

// env is grantd's pages, a real broker on SQLite and the real sandbox.
type env struct {
	t      *testing.T
	clk    *testenv.Clock
	sb     *sandbox.Server
	st     store.Store
	broker *broker.Broker
	srv    *httptest.Server
	integ  store.Integration
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := testenv.NewClock()
	sb, ep := sandboxtest.Start(t, sandbox.Options{Now: clk.Now})
	e := &env{t: t, clk: clk, sb: sb}
	h := http.Handler(http.NotFoundHandler())
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)

	st, err := sqlstore.Open(t.Context(), storetest.NewSQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	key, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := vault.New([]vault.Key{key}, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.SandboxProvider(t, "pax8", ep)
	reg, err := provider.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	e.broker, err = broker.New(broker.Options{
		Store: st, Vault: keys, Providers: reg, PublicURL: e.srv.URL,
		ReturnToAllow: []string{"https://app.example.com/integrations/"},
		Now:           clk.Now, Logger: logger, TokenCacheTTL: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := web.New(web.Options{Broker: e.broker, Logger: logger})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	h = wh

	ctx := t.Context()
	if err := st.CreateTenant(ctx, store.Tenant{ID: tenantID, Name: "Acme MSP", CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	const secret = "sandbox-client-secret"
	e.integ = store.Integration{
		ID: "int_pax8", Provider: "pax8", Name: "Acme automation", ClientID: "client-int_pax8",
		RedirectURI: e.srv.URL + "/oauth/callback/int_pax8", Scopes: p.Scopes, Audience: p.Audience,
		IsDefault: true, CreatedAt: clk.Now(), UpdatedAt: clk.Now(),
	}
	if e.integ.ClientSecret, err = keys.Seal([]byte(secret), vault.AAD("integration", e.integ.ID, "client_secret")); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIntegration(ctx, e.integ); err != nil {
		t.Fatal(err)
	}
	sb.RegisterClient("pax8", sandbox.Client{ID: e.integ.ClientID, Secret: secret, RedirectURIs: []string{e.integ.RedirectURI}, Name: "Acme automation"})
	return e
}

// link creates a connect link and returns its URL.
func (e *env) link(req broker.LinkRequest) string {
	e.t.Helper()
	if req.IntegrationID == "" {
		req.IntegrationID = e.integ.ID
	}
	l, err := e.broker.CreateLink(e.t.Context(), tenantID, req)
	if err != nil {
		e.t.Fatalf("CreateLink: %v", err)
	}
	return l.URL
}

// browser is a cookie-keeping client that does not follow redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, c *http.Client, method, u string, hdr ...string) page {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

// start opens the link page and presses its button; it returns the
// provider's authorization URL.
func (e *env) start(c *http.Client, linkURL string) string {
	e.t.Helper()
	if p := get(e.t, c, "GET", linkURL); p.status != 200 {
		e.t.Fatalf("connect page: %d %s", p.status, p.body)
	}
	p := get(e.t, c, "POST", linkURL+"/start")
	if p.status != http.StatusSeeOther {
		e.t.Fatalf("start: %d %s", p.status, p.body)
	}
	return p.header.Get("Location")
}

// consent logs in at the sandbox and returns the callback URL it sends
// the browser to.
func (e *env) consent(c *http.Client, authURL string, allow bool) string {
	e.t.Helper()
	loc, err := sandboxtest.Login(e.t.Context(), c, authURL, partner, password, allow)
	if err != nil {
		e.t.Fatalf("sandbox login: %v", err)
	}
	if !strings.HasPrefix(loc.String(), e.srv.URL+"/oauth/callback/") {
		e.t.Fatalf("sandbox redirected to %s, want our callback", loc)
	}
	return loc.String()
}

func (e *env) connections() []store.Connection {
	e.t.Helper()
	cs, err := e.st.ListConnections(context.Background(), store.ConnectionFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// codeExchanges counts authorization_code requests at the sandbox's token
// endpoint.
func (e *env) codeExchanges() int {
	n := 0
	for _, v := range e.sb.Stats().Providers["pax8"].TokenRequests["authorization_code"] {
		n += v
	}
	return n
}

// finish follows the callback URL cb: a 303 to the success page, which it
// returns.
func (e *env) finish(c *http.Client, cb string) page {
	e.t.Helper()
	p := get(e.t, c, "GET", cb)
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/oauth/done?") {
		e.t.Fatalf("callback = %d to %q, want 303 to /oauth/done; body:\n%s", p.status, loc, p.body)
	}
	if p.header.Get("Cache-Control") != "no-store" || p.header.Get("Referrer-Policy") != "no-referrer" {
		e.t.Errorf("callback headers: %v (SEC-10)", p.header)
	}
	done := get(e.t, c, "GET", e.srv.URL+loc)
	if done.status != 200 {
		e.t.Fatalf("success page: %d %s", done.status, done.body)
	}
	return done
}

// verifyResult checks a signed connect result as the application would.
func (e *env) verifyResult(q url.Values) connectresult.Result {
	e.t.Helper()
	vf := &connectresult.Verifier{Key: e.broker.ResultKey(tenantID), Now: e.clk.Now}
	res, err := vf.Verify(q)
	if err != nil {
		e.t.Fatalf("Verify(%v) = %v", q, err)
	}
	return res
}

var backRE = regexp.MustCompile(`id="back" href="([^"]*)"`)

// backLink returns the error page's link back to the application, or "".
func backLink(body string) string {
	m := backRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

package broker_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/sandbox"
	"github.com/grantd/grantd/internal/sandbox/sandboxtest"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/store/storetest"
	"github.com/grantd/grantd/internal/testenv"
	"github.com/grantd/grantd/internal/vault"
)

const (
	partner  = "partner@example-msp.test"
	password = "demo"
	clientID = "grantd-test"
	secret   = "s3cret-client-secret-canary"
)

// env is one grantd broker wired to a real sandbox and a real store.
type env struct {
	t        testing.TB
	clk      *testenv.Clock
	sb       *sandbox.Server
	ep       sandbox.Endpoints
	dsn      string
	st       store.Store
	keys     *vault.Keyring
	reg      *provider.Registry
	b        *broker.Broker
	tenant   string
	integ    store.Integration
	provider provider.Provider
	// refreshTimeout and leaseTTL are the brokers' RefreshTimeout and
	// LeaseTTL (zero: the defaults).
	refreshTimeout, leaseTTL time.Duration
	// minForced is the brokers' MinForcedInterval: off unless a test
	// turns it on with withMinForced.
	minForced time.Duration
}

type envOption func(*envConfig)

type envConfig struct {
	settings sandbox.Settings
	postgres bool
	cacheTTL time.Duration
	mutate   func(*provider.Provider)
	// refreshTimeout and leaseTTL override the broker's defaults.
	refreshTimeout, leaseTTL time.Duration
	minForced                time.Duration
}

// withMinForced throttles forced refreshes (off by default in these
// tests, which force refreshes back to back).
func withMinForced(d time.Duration) envOption { return func(c *envConfig) { c.minForced = d } }

func withSettings(s sandbox.Settings) envOption { return func(c *envConfig) { c.settings = s } }
func withPostgres() envOption                   { return func(c *envConfig) { c.postgres = true } }

// withRefreshTimeout sets the brokers' RefreshTimeout, and their LeaseTTL
// to twice that.
func withRefreshTimeout(d time.Duration) envOption {
	return func(c *envConfig) { c.refreshTimeout, c.leaseTTL = d, 2*d }
}
func withProvider(f func(*provider.Provider)) envOption {
	return func(c *envConfig) { c.mutate = f }
}

func strict() sandbox.Settings {
	return sandbox.Settings{Rotation: true, ReuseInterval: 0, AccessTTL: 24 * time.Hour, RefreshAbsolute: 8766 * time.Hour, RefreshIdle: 720 * time.Hour}
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	cfg := envConfig{settings: strict(), cacheTTL: -1}
	for _, o := range opts {
		o(&cfg)
	}
	clk := testenv.NewClock()
	sb, ep := sandboxtest.Start(t, sandbox.Options{Now: clk.Now, Pax8: cfg.settings})
	minForced := cfg.minForced
	if minForced == 0 {
		minForced = -1
	}
	e := &env{t: t, clk: clk, sb: sb, ep: ep, refreshTimeout: cfg.refreshTimeout, leaseTTL: cfg.leaseTTL, minForced: minForced}
	if cfg.postgres {
		e.dsn = storetest.NewPostgres(t)
	} else {
		e.dsn = storetest.NewSQLite(t)
	}
	e.st = e.open()
	key, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	if e.keys, err = vault.New([]vault.Key{key}, 1); err != nil {
		t.Fatal(err)
	}
	p := testenv.SandboxProvider(t, "pax8", ep)
	if cfg.mutate != nil {
		cfg.mutate(&p)
	}
	e.provider = p
	if e.reg, err = provider.NewRegistry(p); err != nil {
		t.Fatal(err)
	}
	e.b = e.newBroker("replica-a", cfg.cacheTTL)

	ctx := t.Context()
	e.tenant = "ten_acme"
	if err := e.st.CreateTenant(ctx, store.Tenant{ID: e.tenant, Name: "Acme MSP", CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	e.integ = e.addIntegration("int_pax8", "")
	return e
}

// open opens another handle on the env's database, as another replica
// would.
func (e *env) open() store.Store {
	e.t.Helper()
	db, err := sqlstore.Open(e.t.Context(), e.dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func (e *env) newBroker(owner string, cacheTTL time.Duration) *broker.Broker {
	e.t.Helper()
	return e.newBrokerOn(e.st, owner, cacheTTL)
}

func (e *env) newBrokerOn(st store.Store, owner string, cacheTTL time.Duration) *broker.Broker {
	e.t.Helper()
	b, err := broker.New(broker.Options{
		Store:             st,
		Vault:             e.keys,
		Providers:         e.reg,
		PublicURL:         "http://127.0.0.1:1",
		ReturnToAllow:     []string{"https://app.example.com/integrations/"},
		Now:               e.clk.Now,
		Owner:             owner,
		TokenCacheTTL:     cacheTTL,
		RefreshTimeout:    e.refreshTimeout,
		LeaseTTL:          e.leaseTTL,
		MinForcedInterval: e.minForced,
		Logger:            slog.New(slog.NewTextHandler(e.t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) addIntegration(id, tenant string) store.Integration {
	e.t.Helper()
	redirect := "http://127.0.0.1:1/oauth/callback/" + id
	sealed, err := e.keys.Seal([]byte(secret), vault.AAD("integration", id, "client_secret"))
	if err != nil {
		e.t.Fatal(err)
	}
	in := store.Integration{
		ID: id, TenantID: tenant, Provider: "pax8", Name: "Pax8", ClientID: clientID + "-" + id,
		ClientSecret: sealed, RedirectURI: redirect, Scopes: e.provider.Scopes, Audience: e.provider.Audience,
		IsDefault: true, CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now(),
	}
	if err := e.st.CreateIntegration(e.t.Context(), in); err != nil {
		e.t.Fatal(err)
	}
	e.sb.RegisterClient("pax8", sandbox.Client{ID: in.ClientID, Secret: secret, RedirectURIs: []string{redirect}})
	return in
}

// flow is one browser's authorization, stopped at the callback so tests
// can tamper with it.
type flow struct {
	browser  string
	authURL  *url.URL
	callback url.Values
}

// begin creates a link and presses its button in a fresh browser.
func (e *env) begin(ctx context.Context, req broker.LinkRequest) *flow {
	e.t.Helper()
	if req.IntegrationID == "" && req.Provider == "" {
		req.IntegrationID = e.integ.ID
	}
	link, err := e.b.CreateLink(ctx, e.tenant, req)
	if err != nil {
		e.t.Fatalf("CreateLink: %v", err)
	}
	token := link.URL[strings.LastIndex(link.URL, "/")+1:]
	f := &flow{browser: rand.Text() + rand.Text()}
	raw, err := e.b.Start(ctx, token, f.browser)
	if err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	if f.authURL, err = url.Parse(raw); err != nil {
		e.t.Fatal(err)
	}
	return f
}

// consent logs in at the sandbox as the partner and returns the callback
// query.
func (e *env) consent(ctx context.Context, f *flow, allow bool) url.Values {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	loc, err := sandboxtest.Login(ctx, hc, f.authURL.String(), partner, password, allow)
	if err != nil {
		e.t.Fatalf("sandbox login: %v", err)
	}
	f.callback = loc.Query()
	return f.callback
}

// connect runs the whole flow and returns the connection.
func (e *env) connect(ctx context.Context) store.Connection {
	e.t.Helper()
	f := e.begin(ctx, broker.LinkRequest{})
	q := e.consent(ctx, f, true)
	got, err := e.b.Callback(ctx, e.integ.ID, q, f.browser)
	if err != nil {
		e.t.Fatalf("Callback: %v", err)
	}
	return got.Connection
}

// reconnect reauthorizes connection id through a link made for it, as
// the same partner, and returns the connection.
func (e *env) reconnect(ctx context.Context, id string) store.Connection {
	e.t.Helper()
	f := e.begin(ctx, broker.LinkRequest{ConnectionID: id})
	q := e.consent(ctx, f, true)
	got, err := e.b.Callback(ctx, e.integ.ID, q, f.browser)
	if err != nil {
		e.t.Fatalf("Callback: %v", err)
	}
	return got.Connection
}

func (e *env) connections() []store.Connection {
	e.t.Helper()
	cs, err := e.st.ListConnections(e.t.Context(), store.ConnectionFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// tokenRequests is the number of token-endpoint requests the sandbox saw
// for a grant type, whatever their outcome.
func (e *env) tokenRequests(grant string) int {
	n := 0
	for _, v := range e.sb.Stats().Providers["pax8"].TokenRequests[grant] {
		n += v
	}
	return n
}

// settledTokenRequests is tokenRequests once the sandbox has finished
// every request it counts: a request whose client gave up is counted when
// its handler returns. It waits up to 5 s for want.
func (e *env) settledTokenRequests(grant string, want int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := e.tokenRequests(grant)
	for n < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		n = e.tokenRequests(grant)
	}
	return n
}

// expire moves the clock past the access token's lifetime.
func (e *env) expire() { e.clk.Advance(24*time.Hour + time.Minute) }

package testenv

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
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
	"github.com/grantd/grantd/internal/tenant"
	"github.com/grantd/grantd/internal/vault"
)

// Demo partner accounts of the sandbox. Each sees its own seeded Pax8 data.
const (
	Partner      = "partner@example-msp.test"
	OtherPartner = "ops@northwind-msp.test"
	Password     = "demo"
)

const clientSecret = "testenv-client-secret-canary"

// Options changes what [New] builds. The zero value is a sandbox with its
// default settings and the built-in pax8 provider pointing at it.
type Options struct {
	// Sandbox configures the sandbox; its Logger defaults to t.Output().
	Sandbox sandbox.Options
	// APIBaseURL, when set, replaces the provider's API base URL (the
	// sandbox's by default), so that a test upstream can see what grantd
	// sends. Tokens are still issued by the sandbox.
	APIBaseURL string
	// Logger receives the broker's logs (default: t.Output(), warn level).
	Logger *slog.Logger
	// Now is the broker's clock (default time.Now); pass a [Clock]'s Now,
	// also as Sandbox.Now, to cross lifetimes without waiting.
	Now func() time.Time
	// OnEvent is the broker's [broker.Options.OnEvent].
	OnEvent func(store.Event)
	// Postgres puts the store on a scratch PostgreSQL schema
	// (GRANTD_TEST_POSTGRES) instead of a SQLite file.
	Postgres bool
	// Broker, when set, edits each broker's options before it is built
	// (margins, throttles).
	Broker func(*broker.Options)
	// Provider, when set, edits the pax8 provider after it is pointed at
	// the sandbox (and after APIBaseURL), so a test can scale its
	// lifetimes to match the sandbox's settings. The result must still
	// validate.
	Provider func(*provider.Provider)
}

// Env is one assembled back end. Its fields are ready to use; they are
// closed when the test ends.
type Env struct {
	Sandbox   *sandbox.Server
	Endpoints sandbox.Endpoints
	Store     store.Store
	Vault     *vault.Keyring
	Providers *provider.Registry
	Provider  provider.Provider
	Broker    *broker.Broker
	// Integration is an operator integration every tenant may connect
	// through.
	Integration store.Integration
	Logger      *slog.Logger
	// DSN names the database (SQLite or PostgreSQL), for [Env.Replica].
	DSN string

	opts Options
}

// New builds an Env. It fails the test on any error.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	sb, ep := sandboxtest.Start(t, opts.Sandbox)
	e := &Env{Sandbox: sb, Endpoints: ep, Logger: log, opts: opts}
	if opts.Postgres {
		e.DSN = storetest.NewPostgres(t)
	} else {
		e.DSN = storetest.NewSQLite(t)
	}
	e.Store = e.openStore(t)

	key, err := vault.GenerateKey(1)
	if err != nil {
		t.Fatal(err)
	}
	if e.Vault, err = vault.New([]vault.Key{key}, 1); err != nil {
		t.Fatal(err)
	}

	p := SandboxProvider(t, "pax8", ep)
	if opts.APIBaseURL != "" {
		p.API.BaseURL = opts.APIBaseURL
	}
	if opts.Provider != nil {
		opts.Provider(&p)
		if err := p.Validate(true); err != nil {
			t.Fatalf("testenv: edited provider %s does not validate: %v", p.Name, err)
		}
	}
	e.Provider = p
	if e.Providers, err = provider.NewRegistry(p); err != nil {
		t.Fatalf("provider registry: %v", err)
	}
	e.Broker = e.newBroker(t, e.Store, "", opts.OnEvent)
	e.Integration = e.addIntegration(t, "int_pax8")
	return e
}

// Replica returns another broker, named owner in refresh leases, on its
// own handle to the Env's database, as a second grantd process would have.
// onEvent is its OnEvent.
func (e *Env) Replica(t testing.TB, owner string, onEvent func(store.Event)) *broker.Broker {
	t.Helper()
	return e.newBroker(t, e.openStore(t), owner, onEvent)
}

func (e *Env) openStore(t testing.TB) store.Store {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), e.DSN, e.Logger)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (e *Env) newBroker(t testing.TB, st store.Store, owner string, onEvent func(store.Event)) *broker.Broker {
	t.Helper()
	opts := broker.Options{
		Store:         st,
		Vault:         e.Vault,
		Providers:     e.Providers,
		PublicURL:     "http://127.0.0.1:1",
		TokenCacheTTL: -1,
		Logger:        e.Logger,
		Now:           e.opts.Now,
		Owner:         owner,
		OnEvent:       onEvent,
		// Tests force refreshes back to back unless they test the
		// throttle.
		MinForcedInterval: -1,
	}
	if e.opts.Broker != nil {
		e.opts.Broker(&opts)
	}
	b, err := broker.New(opts)
	if err != nil {
		t.Fatalf("broker.New: %v", err)
	}
	return b
}

// SandboxProvider returns the built-in provider name with every endpoint
// (issuer, authorize, token, userinfo, JWKS, revocation, API base) pointed
// at the sandbox's ep, so no URL of the real vendor is left behind.
func SandboxProvider(t testing.TB, name string, ep sandbox.Endpoints) provider.Provider {
	t.Helper()
	for _, p := range provider.Builtin() {
		if p.Name == name {
			p.Issuer, p.AuthorizeURL, p.TokenURL = ep.Issuer, ep.AuthorizeURL, ep.TokenURL
			p.UserinfoURL, p.JWKSURL, p.RevocationURL = ep.UserinfoURL, ep.JWKSURL, ep.RevocationURL
			p.API.BaseURL = ep.APIBaseURL
			// Validation catches a URL of the real vendor left behind (a
			// revocation URL off the token endpoint's origin, SEC-34).
			if err := p.Validate(true); err != nil {
				t.Fatalf("testenv: %s pointed at the sandbox does not validate: %v", name, err)
			}
			return p
		}
	}
	t.Fatalf("testenv: no built-in provider %q", name)
	return provider.Provider{}
}

func (e *Env) addIntegration(t testing.TB, id string) store.Integration {
	t.Helper()
	redirect := "http://127.0.0.1:1/oauth/callback/" + id
	sealed, err := e.Vault.Seal([]byte(clientSecret), vault.AAD("integration", id, "client_secret"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	in := store.Integration{
		ID: id, Provider: e.Provider.Name, Name: "Pax8", ClientID: "testenv-" + id,
		ClientSecret: sealed, RedirectURI: redirect, Scopes: e.Provider.Scopes, Audience: e.Provider.Audience,
		IsDefault: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := e.Store.CreateIntegration(t.Context(), in); err != nil {
		t.Fatalf("create integration: %v", err)
	}
	e.Sandbox.RegisterClient(e.Provider.Name, sandbox.Client{ID: in.ClientID, Secret: clientSecret, RedirectURIs: []string{redirect}})
	return in
}

// Tenant creates a tenant named name and returns its id and API key.
func (e *Env) Tenant(t testing.TB, name string) (tenantID, key string) {
	t.Helper()
	tn, key, err := tenant.Create(t.Context(), e.Store, name, time.Now().UTC())
	if err != nil {
		t.Fatalf("create tenant %s: %v", name, err)
	}
	return tn.ID, key
}

// Connect runs the delegated flow for tenantID as the sandbox partner
// username (password [Password]) and returns the new connection.
func (e *Env) Connect(t testing.TB, tenantID, username string) store.Connection {
	t.Helper()
	return e.connect(t, tenantID, username, "")
}

// Reconnect runs the delegated flow again for the tenant's connection
// connID (a new consent, as a ReAuthorize button starts) and returns it.
func (e *Env) Reconnect(t testing.TB, tenantID, connID, username string) store.Connection {
	t.Helper()
	return e.connect(t, tenantID, username, connID)
}

func (e *Env) connect(t testing.TB, tenantID, username, connID string) store.Connection {
	t.Helper()
	ctx := t.Context()
	link, err := e.Broker.CreateLink(ctx, tenantID, broker.LinkRequest{IntegrationID: e.Integration.ID, ConnectionID: connID})
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	browser := rand.Text() + rand.Text()
	authURL, err := e.Broker.Start(ctx, link.URL[strings.LastIndex(link.URL, "/")+1:], browser)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	loc, err := sandboxtest.Login(ctx, hc, authURL, username, Password, true)
	if err != nil {
		t.Fatalf("sandbox login: %v", err)
	}
	got, err := e.Broker.Callback(ctx, e.Integration.ID, loc.Query(), browser)
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	return got.Connection
}

// APICalls returns the sandbox's count of emulated API responses, all
// statuses together.
func (e *Env) APICalls() int {
	n := 0
	for _, v := range e.Sandbox.Stats().Providers[e.Provider.Name].APICalls {
		n += v
	}
	return n
}

// APICallsWithStatus returns the sandbox's count of API responses with the
// given status, such as "200" or "401".
func (e *Env) APICallsWithStatus(status string) int {
	return e.Sandbox.Stats().Providers[e.Provider.Name].APICalls[status]
}

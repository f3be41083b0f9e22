package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// Path is where the console is mounted.
const Path = "/console/"

// DefaultSessionTTL is how long a sign-in lasts when Options.SessionTTL is
// zero.
const DefaultSessionTTL = 8 * time.Hour

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the console needs from the database: the shared
// [store.Store] and the console's reads and sessions, which
// [github.com/grantd/grantd/internal/store/sqlstore.DB] implements.
type Store interface {
	store.Store
	ListConnectionsPage(ctx context.Context, q store.ConnectionQuery, after string, limit int) ([]store.Connection, error)
	ExpiringGrants(ctx context.Context, tenantID string, now, before time.Time, limit int) ([]store.Connection, error)
	HourlyEvents(ctx context.Context, tenantID string, since time.Time, kinds []string) ([]store.EventCount, error)
	CreateConsoleSession(ctx context.Context, s store.ConsoleSession) error
	GetConsoleSession(ctx context.Context, id []byte) (store.ConsoleSession, error)
	DeleteConsoleSession(ctx context.Context, id []byte, now time.Time) error
}

// Options configures a [Console].
type Options struct {
	Broker *broker.Broker
	Store  Store
	// Vault seals the client secrets of integrations created or edited on
	// the console.
	Vault *vault.Keyring
	// AdminKey signs in as the operator; empty: no admin sign-in.
	AdminKey string
	// SessionTTL is how long a sign-in lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	// Secure marks the session cookie Secure (public URL is https).
	Secure bool
	// PageSize is how many connections a page lists (default 50).
	PageSize int
	Logger   *slog.Logger
	Now      func() time.Time
}

// Console is the console's HTTP handler. It is safe for concurrent use.
type Console struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	tmpl    *template.Template
	mux     *http.ServeMux
	handler http.Handler

	aggMu     sync.Mutex
	agg       map[string]aggregates // by scope; see aggregatesTTL
	aggFlight singleflight.Group    // one recount per scope at a time
}

// New builds the console; it parses the templates once.
func New(opts Options) (*Console, error) {
	if opts.Broker == nil || opts.Store == nil {
		return nil, errors.New("console: Broker and Store are required")
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	c := &Console{opts: opts, log: opts.Logger, now: opts.Now, tmpl: tmpl, agg: map[string]aggregates{}}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/{file}", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console/signin", c.signInPage)
	mux.HandleFunc("POST /console/signin", c.signIn)
	mux.Handle("POST /console/signout", c.auth(c.signOut))
	mux.Handle("GET /console/{$}", c.auth(c.overview))
	mux.Handle("GET /console/tenants", c.auth(c.tenants))
	mux.Handle("GET /console/integrations", c.auth(c.integrations))
	mux.Handle("POST /console/integrations", c.auth(c.createIntegration))
	mux.Handle("GET /console/integrations/{id}", c.auth(c.integration))
	mux.Handle("POST /console/integrations/{id}", c.auth(c.updateIntegration))
	mux.Handle("POST /console/integrations/{id}/delete", c.auth(c.deleteIntegration))
	mux.Handle("GET /console/connections", c.auth(c.connections))
	mux.Handle("GET /console/connections/{id}", c.auth(c.connection))
	mux.Handle("POST /console/connections/{id}/refresh", c.auth(c.refresh))
	mux.Handle("POST /console/connections/{id}/reauth", c.auth(c.reauth))
	mux.Handle("POST /console/connections/{id}/disconnect", c.auth(c.disconnect))
	mux.Handle("GET /console/webhooks", c.auth(c.webhooks))
	mux.Handle("POST /console/webhooks/{id}/redeliver", c.auth(c.redeliver))
	mux.Handle("/console/", c.auth(func(w http.ResponseWriter, r *http.Request, _ viewer) error { return errNotFound }))
	c.mux = mux
	c.handler = headers(http.NewCrossOriginProtection().Handler(mux))
}

// ServeHTTP implements [http.Handler].
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// headers sets what every console response carries: no framing (SEC
// clickjacking), no sniffing, a strict CSP that allows no script at all
// and styles only from the console's own CSS file, and no caching.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

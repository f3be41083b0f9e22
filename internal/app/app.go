package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/grantd/grantd/internal/action"
	"github.com/grantd/grantd/internal/api"
	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/clientip"
	"github.com/grantd/grantd/internal/clock"
	"github.com/grantd/grantd/internal/config"
	"github.com/grantd/grantd/internal/console"
	"github.com/grantd/grantd/internal/notify"
	"github.com/grantd/grantd/internal/orgmap"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/proxy"
	"github.com/grantd/grantd/internal/refresh"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
	"github.com/grantd/grantd/internal/upstream"
	"github.com/grantd/grantd/internal/vault"
	"github.com/grantd/grantd/internal/web"
)

// App is one assembled grantd: build it with [Build], serve it with
// [App.Run] or [App.Serve], and release it with [App.Close]. Its methods
// are safe for concurrent use.
type App struct {
	cfg       *config.Config
	log       *slog.Logger
	now       func() time.Time
	store     *sqlstore.DB
	vault     *vault.Keyring
	providers *provider.Registry
	broker    *broker.Broker
	scheduler *refresh.Scheduler
	notify    *notify.Sender
	metrics   *prometheus.Registry
	handler   http.Handler
	// owner names this process in refresh leases and the replica
	// registry; heartbeat is the time of its last registry record.
	owner     string
	heartbeat prometheus.Gauge
}

// Build assembles grantd from cfg: it validates cfg, opens the store,
// checks the vault keys against the fingerprint stored with the data
// (refusing to start with a wrong key, ENC-06), builds the provider
// registry, writes the operator integrations of cfg into the store, and
// builds the webhook sender, the broker, the HTTP handlers (API, proxy,
// organisation mappings, pages) and the background refresher.
// cfg must have been read by [config.Load] or completed with
// [config.Config.ApplyDefaults]. When getenv is not nil, Build first
// re-reads the secrets cfg names through it ([config.Config.ResolveSecrets]);
// pass nil when cfg already holds its secrets, as a config assembled in
// code does. A nil logger discards logs. The caller closes the
// App.
func Build(ctx context.Context, cfg *config.Config, getenv func(string) string, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if getenv != nil {
		cfg.ResolveSecrets(getenv)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	a := &App{cfg: cfg, log: logger, now: time.Now, owner: "grantd-" + rand.Text()[:10]}

	reg, err := cfg.Registry()
	if err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	a.providers = reg
	kr, err := keyring(cfg)
	if err != nil {
		return nil, err
	}
	a.vault = kr

	st, err := sqlstore.Open(ctx, cfg.Database, logger.With("component", "store"))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	a.store = st
	if err := a.build(ctx); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return a, nil
}

// build does the part of Build that runs with the store open.
func (a *App) build(ctx context.Context) error {
	cfg := a.cfg
	if err := checkKeyring(ctx, a.store, a.vault, keySource(cfg), a.log); err != nil {
		return err
	}
	if err := syncIntegrations(ctx, a.store, a.vault, a.providers, cfg.Integrations, a.now(), a.log); err != nil {
		return err
	}

	a.metrics = prometheus.NewRegistry()
	a.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.heartbeat = newHeartbeatGauge(a.metrics)
	a.metrics.MustRegister(newStoreCollector(a.store, a.log, a.now))

	sender, err := newSender(cfg, a.store, a.log.With("component", "notify"), a.metrics, a.now)
	if err != nil {
		return err
	}
	a.notify = sender

	cacheTTL := cfg.TokenCacheTTL.D()
	if cacheTTL == 0 {
		cacheTTL = -1 // the broker reads 0 as "default"; config means "off"
	}
	b, err := broker.New(broker.Options{
		Store:          a.store,
		Vault:          a.vault,
		Providers:      a.providers,
		PublicURL:      cfg.PublicURL,
		ReturnToAllow:  cfg.ReturnToAllow,
		Logger:         a.log.With("component", "broker"),
		Now:            a.now,
		SessionTTL:     cfg.Connect.SessionTTL.D(),
		LinkTTL:        cfg.Connect.LinkTTL.D(),
		TokenCacheTTL:  cacheTTL,
		RefreshTimeout: cfg.Refresh.Timeout.D(),
		LeaseTTL:       cfg.Refresh.LeaseTTL.D(),
		ExpiryMargin:   cfg.Refresh.Ahead.D(),
		IdleMargin:     cfg.Refresh.IdleMargin.D(),
		// The config's 0 turns the throttle off; the broker's 0 is
		// "default".
		MinForcedInterval: cmp.Or(cfg.Refresh.MinForcedInterval.D(), -1),
		OnSchedule:        a.wakeScheduler,
		Owner:             a.owner,
		Metrics:           broker.NewMetrics(a.metrics),
		// Each event is emitted by the process where the change happened
		// and written once to the shared outbox, which every replica's
		// sender drains: each webhook is sent at least once, and under
		// normal operation once, whatever the number of replicas.
		OnEvent: sender.Notify,
		Quotas: broker.Quotas{
			Integrations: cfg.Quotas.Integrations,
			Connections:  cfg.Quotas.Connections,
			LinksPerHour: cfg.Quotas.ConnectLinksPerHour,
		},
		ResultSecret: []byte(cfg.Connect.ResultSecret.Reveal()),
	})
	if err != nil {
		return fmt.Errorf("build broker: %w", err)
	}
	a.broker = b

	// One resolver finds the client's address for the API's
	// failed-authentication limit and for the logs (SEC-53).
	clientIP := clientip.New(cfg.Server.TrustedPrefixes())
	apiSrv := api.New(api.Options{
		Broker:           b,
		Store:            a.store,
		Vault:            a.vault,
		AdminKey:         cfg.AdminKey.Reveal(),
		Logger:           a.log.With("component", "api"),
		Registry:         a.metrics,
		Now:              a.now,
		ClientIP:         clientIP,
		AuthFailureBurst: cfg.Server.AuthFailureLimit.Burst,
		AuthFailureEvery: cfg.Server.AuthFailureLimit.Every.D(),
	})
	// The proxy, the actions and the organisation mappings call provider APIs with
	// connections' tokens through the same transport: one 401 rule, one
	// check that tokens stay on their provider's API base.
	base := upstream.NewBaseTransport()
	px, err := proxy.New(proxy.Options{
		Tokens:    b,
		Providers: a.providers,
		Base:      base,
		Logger:    a.log.With("component", "proxy"),
		Registry:  a.metrics,
	})
	if err != nil {
		return fmt.Errorf("build proxy: %w", err)
	}
	orgs, err := orgmap.New(orgmap.Options{
		Broker:    b,
		Store:     a.store,
		Transport: &upstream.Transport{Tokens: b, Providers: a.providers, Base: base, Logger: a.log.With("component", "orgmap")},
		PublicURL: cfg.PublicURL,
		MaxUpload: cfg.Quotas.OrgImportBytes,
		Logger:    a.log.With("component", "orgmap"),
		Now:       a.now,
	})
	if err != nil {
		return fmt.Errorf("build organisation mappings: %w", err)
	}
	orgs.Routes(apiSrv)
	actions, err := action.New(action.Options{
		Tokens:    b,
		Providers: a.providers,
		Base:      base,
		Logger:    a.log.With("component", "action"),
		Store:     a.store,
		Now:       a.now,
	})
	if err != nil {
		return fmt.Errorf("build actions: %w", err)
	}
	action.Register(apiSrv, actions)

	webH, err := web.New(web.Options{
		Broker: b,
		Logger: a.log.With("component", "web"),
		Secure: isHTTPS(cfg.PublicURL),
	})
	if err != nil {
		return fmt.Errorf("build web pages: %w", err)
	}
	con, err := console.New(console.Options{
		Broker:     b,
		Store:      a.store,
		Vault:      a.vault,
		AdminKey:   cfg.AdminKey.Reveal(),
		SessionTTL: cfg.Console.SessionTTL.D(),
		Secure:     isHTTPS(cfg.PublicURL),
		Logger:     a.log.With("component", "console"),
		Now:        a.now,
	})
	if err != nil {
		return fmt.Errorf("build console: %w", err)
	}
	// The proxy sits in front of every mux, which would clean the dot
	// segments it must refuse (SEC-40).
	a.handler = px.Mount(apiSrv, a.routes(apiSrv, webH, orgs.Page(), con))
	if cfg.Server.AccessLog {
		a.handler = accessLog(a.log.With("component", "http"), clientIP, a.handler)
	}
	a.scheduler = &refresh.Scheduler{
		Broker:     b,
		Store:      b.Store(),
		Logger:     a.log.With("component", "refresh"),
		Clock:      clock.Func(a.now),
		Workers:    cfg.Refresh.Workers,
		LeaseTTL:   cfg.Refresh.LeaseTTL.D(),
		Interval:   cfg.Refresh.Interval.D(),
		Registerer: a.metrics,
	}
	for _, d := range cfg.Refresh.ReauthNotices {
		a.scheduler.ReauthNotices = append(a.scheduler.ReauthNotices, d.D())
	}
	return nil
}

// wakeScheduler wakes the refresh scheduler when a write scheduled a
// connection's refresh for now or earlier, so it does not wait for its
// planned wake-up.
func (a *App) wakeScheduler(next time.Time) {
	if a.scheduler != nil && !next.IsZero() && !next.After(a.now()) {
		a.scheduler.Wake()
	}
}

// newSender builds the webhook sender of cfg.Webhooks, with its durable
// outbox in st.
func newSender(cfg *config.Config, st store.Store, log *slog.Logger, reg prometheus.Registerer, now func() time.Time) (*notify.Sender, error) {
	eps := make([]notify.Endpoint, 0, len(cfg.Webhooks))
	for _, w := range cfg.Webhooks {
		eps = append(eps, notify.Endpoint{URL: w.URL, Secret: w.Secret.Reveal(), Events: w.Events})
	}
	r := cfg.WebhookRetry
	jitter := r.Jitter
	if jitter == 0 {
		jitter = -1 // none, as configured; notify's zero means its default
	}
	s, err := notify.New(notify.Options{Endpoints: eps, Store: st, Logger: log, Registerer: reg, Now: now,
		RetryFor: r.For.D(), Backoff: r.FirstDelay.D(), MaxDelay: r.MaxDelay.D(), Jitter: jitter})
	if err != nil {
		return nil, fmt.Errorf("build webhooks: %w", err)
	}
	return s, nil
}

// Handler returns the HTTP handler serving everything grantd serves.
func (a *App) Handler() http.Handler { return a.handler }

// Broker returns the broker.
func (a *App) Broker() *broker.Broker { return a.broker }

// Store returns the store; it is closed by [App.Close].
func (a *App) Store() store.Store { return a.store }

// Vault returns the keyring.
func (a *App) Vault() *vault.Keyring { return a.vault }

// Providers returns the provider registry.
func (a *App) Providers() *provider.Registry { return a.providers }

// Metrics returns the private Prometheus registry served at /metrics.
func (a *App) Metrics() *prometheus.Registry { return a.metrics }

// Config returns the configuration the App was built from. The caller
// must not modify it.
func (a *App) Config() *config.Config { return a.cfg }

// Close closes the webhook sender and the store. Call it after Run or
// Serve has returned.
func (a *App) Close() error { return errors.Join(a.notify.Close(), a.store.Close()) }

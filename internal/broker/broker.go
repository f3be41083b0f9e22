package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/grantd/grantd/internal/failpoint"
	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// Options configures a [Broker]. Store, Vault, Providers and PublicURL are
// required; the rest have defaults.
type Options struct {
	Store     store.Store
	Vault     *vault.Keyring
	Providers *provider.Registry
	// PublicURL is where grantd is reachable by browsers (connect pages and
	// callbacks), without a trailing slash.
	PublicURL string
	// ReturnToAllow lists URL prefixes a connect link may send the user back
	// to (SEC-09).
	ReturnToAllow []string
	// HTTPClient makes token requests. It must not follow redirects to
	// other hosts; the default has a 20 s timeout and follows none.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
	// Owner names this process in refresh leases (default host-pid-random).
	Owner string
	// SessionTTL bounds an authorization in flight (default 10 min).
	SessionTTL time.Duration
	// LinkTTL bounds a connect link (default 1 h).
	LinkTTL time.Duration
	// TokenCacheTTL bounds how long a valid access token is served from
	// memory before the row is read again (default 1 s; negative disables).
	TokenCacheTTL time.Duration
	// ExpiryMargin refreshes access tokens this long before they expire,
	// for providers that set no refresh.margin of their own; it is capped
	// at half of each token's lifetime (default 60 s).
	ExpiryMargin time.Duration
	// IdleMargin refreshes an idle grant this long before its refresh
	// token's inactivity deadline, so it never lapses; capped at half the
	// provider's idle lifetime (default 120 h).
	IdleMargin time.Duration
	// MinForcedInterval throttles forced refreshes (POST …/refresh, a 401
	// from the vendor) per connection: inside this long after the last
	// refresh, the current token is handed out and nothing is sent
	// (default 30 s; negative disables).
	MinForcedInterval time.Duration
	// LeaseTTL is how long a refresh lease lasts. It must exceed the token
	// request timeout so a lease never lapses while a request is in flight
	// (default 60 s).
	LeaseTTL time.Duration
	// RefreshTimeout bounds one token request (default 20 s).
	RefreshTimeout time.Duration
	// OnSchedule is called with a connection's NextRefreshAt after each
	// write that set it (the refresh scheduler's wake-up). It must not
	// block.
	OnSchedule func(next time.Time)
	// OnEvent is called after a connection event is stored (webhooks,
	// metrics). It must not block.
	OnEvent func(store.Event)
	Metrics *Metrics
	// Quotas bound what each tenant may hold or make.
	Quotas Quotas
	// ResultSecret signs the connect results added to return_to: each
	// tenant's key is [connectresult.DeriveKey] of it (default: derived
	// from the vault's primary key, see [vault.Keyring.Derive]).
	ResultSecret []byte
}

// Broker runs connect flows and keeps grants alive. It is safe for
// concurrent use; one Broker per process.
type Broker struct {
	opts    Options
	st      store.Store
	vault   *vault.Keyring
	reg     *provider.Registry
	hc      *http.Client
	log     *slog.Logger
	now     func() time.Time
	owner   string
	flight  singleflight.Group
	cache   tokenCache
	metrics *Metrics
	// integrations caches integrations for the access check.
	integrations integrationCache

	verifiersMu sync.Mutex
	verifiers   map[string]*oauthx.IDVerifier
	disco       discovered

	// refreshing serialises the refresh flights of one connection.
	refreshing keyLock
	// running counts the refresh flights, for Wait.
	running inflight

	// gates hold each provider's circuit breaker and rate limit.
	gatesMu sync.Mutex
	gates   map[string]*gate
	// share is the number of live replicas that split each provider's
	// max_refresh_rate (at least 1).
	share atomic.Int64

	// broken holds the ids of integrations last seen marked broken, so a
	// token issued with one clears the mark without a read per token.
	broken sync.Map
}

// New returns a Broker. It does not start background work; see package
// refresh.
func New(opts Options) (*Broker, error) {
	var errs []error
	if opts.Store == nil {
		errs = append(errs, errors.New("broker: Store is required"))
	}
	if opts.Vault == nil {
		errs = append(errs, errors.New("broker: Vault is required"))
	}
	if opts.Providers == nil {
		errs = append(errs, errors.New("broker: Providers is required"))
	}
	if opts.PublicURL == "" {
		errs = append(errs, errors.New("broker: PublicURL is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	setDefault(&opts.SessionTTL, 10*time.Minute)
	setDefault(&opts.LinkTTL, time.Hour)
	setDefault(&opts.TokenCacheTTL, time.Second)
	setDefault(&opts.ExpiryMargin, time.Minute)
	setDefault(&opts.IdleMargin, 120*time.Hour)
	setDefault(&opts.MinForcedInterval, 30*time.Second)
	setDefault(&opts.RefreshTimeout, 20*time.Second)
	setDefault(&opts.LeaseTTL, 60*time.Second)
	if opts.LeaseTTL <= opts.RefreshTimeout {
		return nil, fmt.Errorf("broker: LeaseTTL %s must exceed RefreshTimeout %s", opts.LeaseTTL, opts.RefreshTimeout)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = DefaultHTTPClient()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Owner == "" {
		opts.Owner = "grantd-" + rand.Text()[:10]
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	opts.Quotas.setDefaults()
	if len(opts.ResultSecret) == 0 {
		opts.ResultSecret = opts.Vault.Derive("connect result")
	}
	b := &Broker{
		opts:         opts,
		vault:        opts.Vault,
		reg:          opts.Providers,
		hc:           opts.HTTPClient,
		log:          opts.Logger,
		now:          opts.Now,
		owner:        opts.Owner,
		cache:        tokenCache{ttl: opts.TokenCacheTTL, entries: make(map[string]cacheEntry)},
		integrations: integrationCache{ttl: 5 * time.Second, entries: make(map[string]integrationEntry)},
		metrics:      opts.Metrics,
		verifiers:    make(map[string]*oauthx.IDVerifier),
		gates:        make(map[string]*gate),
	}
	b.st = scheduled{Store: opts.Store, b: b}
	return b, nil
}

// DefaultHTTPClient returns the client used for token requests: a 20 s
// timeout and no redirects (a token endpoint that redirects is refused, so
// credentials go nowhere else).
//
// In a process with failpoints armed (a binary built with -tags
// failpoint), its connections are [failpoint.Conn]s, so the
// refresh.after_send failpoint fires once the request reached the socket.
func DefaultHTTPClient() *http.Client {
	c := &http.Client{
		Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if failpoint.Armed() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		t.DialContext = failpoint.WrapDial(d.DialContext)
		c.Transport = t
	}
	return c
}

// Store returns the broker's store.
func (b *Broker) Store() store.Store { return b.st }

// Providers returns the provider registry.
func (b *Broker) Providers() *provider.Registry { return b.reg }

// PublicURL returns the configured public URL.
func (b *Broker) PublicURL() string { return b.opts.PublicURL }

// Now returns the broker's time.
func (b *Broker) Now() time.Time { return b.now() }

// Owner returns the name this process uses in refresh leases.
func (b *Broker) Owner() string { return b.owner }

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func (b *Broker) event(ctx context.Context, c store.Connection, kind, detail string) {
	e := store.Event{TenantID: c.TenantID, ConnectionID: c.ID, IntegrationID: c.IntegrationID, Provider: c.Provider,
		Kind: kind, Detail: detail, CreatedAt: b.now().UTC(), EndUser: c.EndUser, Tags: c.Tags}
	id, err := b.st.AddEvent(ctx, e)
	if err != nil {
		b.log.ErrorContext(ctx, "store event", "connection_id", c.ID, "kind", kind, "err", err)
	}
	e.ID = id
	b.log.InfoContext(ctx, "connection event", "connection_id", c.ID, "tenant_id", c.TenantID, "kind", kind, "detail", detail)
	if b.opts.OnEvent != nil {
		b.opts.OnEvent(e)
	}
}

func (b *Broker) provider(name string) (provider.Provider, error) {
	p, ok := b.reg.Get(name)
	if !ok {
		return provider.Provider{}, errorf(CodeNotFound, nil, "provider %q is not configured", name)
	}
	return p, nil
}

func (b *Broker) seal(table, id, field string, v string) (store.Sealed, error) {
	if v == "" {
		return nil, nil
	}
	ct, err := b.vault.Seal([]byte(v), vault.AAD(table, id, field))
	if err != nil {
		return nil, fmt.Errorf("seal %s.%s: %w", table, field, err)
	}
	return ct, nil
}

func (b *Broker) open(table, id, field string, ct store.Sealed) (string, error) {
	if len(ct) == 0 {
		return "", nil
	}
	pt, err := b.vault.Open(ct, vault.AAD(table, id, field))
	if err != nil {
		return "", fmt.Errorf("open %s %s.%s: %w", table, id, field, err)
	}
	return string(pt), nil
}

package api

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/clientip"
	"github.com/grantd/grantd/internal/httpapi"
	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/vault"
)

// Options configures a [Server]. Broker and Store are required.
type Options struct {
	Broker *broker.Broker
	Store  store.Store
	// Vault seals the client secrets tenants register with
	// POST /v1/integrations; without it that route answers 501.
	Vault *vault.Keyring
	// AdminKey is the operator's key, compared in constant time. Empty
	// disables the admin routes and acting on behalf of tenants.
	AdminKey string
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
	// Registry receives the HTTP metrics; nil keeps them private.
	Registry *prometheus.Registry
	// Now is the clock (default time.Now).
	Now func() time.Time
	// KeyCacheTTL is how long a tenant key lookup is remembered (default
	// 5 s; negative disables the cache).
	KeyCacheTTL time.Duration
	// ClientIP finds the caller's address, which keys the
	// failed-authentication limit and is logged with errors; nil trusts
	// no proxy, so the address is the TCP peer's (SEC-53).
	ClientIP *clientip.Resolver
	// AuthFailureBurst is how many failed authentications (401) one client
	// address may make in a row (default 20); AuthFailureEvery is how
	// often it gains one back (default 1 s). While it has none left, its
	// requests to authenticated routes are answered 429, with Retry-After,
	// before their key is checked. Successful requests spend nothing.
	AuthFailureBurst int
	AuthFailureEvery time.Duration
}

// Server is the /v1 API. It implements [http.Handler] and is safe for
// concurrent use. Routes are added at construction and with
// [Server.Handle], before the server is used.
type Server struct {
	broker    *broker.Broker
	store     store.Store
	vault     *vault.Keyring
	log       *slog.Logger
	now       func() time.Time
	adminHash []byte
	keys      *keyCache
	clientIP  *clientip.Resolver
	authFails *authLimiter
	adapter   *httpapi.Adapter
	mux       *http.ServeMux
	routes    []string

	idPrefix string
	idSeq    atomic.Uint64
}

type authKind int

const (
	authNone authKind = iota
	authAny           // any valid key, tenant or admin
	authTenant
	authAdmin
)

// New returns the API server with every /v1 route registered. It panics
// when Broker or Store is nil, a wiring mistake.
func New(opts Options) *Server {
	if opts.Broker == nil || opts.Store == nil {
		panic("api: Options.Broker and Options.Store are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeyCacheTTL == 0 {
		opts.KeyCacheTTL = 5 * time.Second
	}
	if opts.AuthFailureBurst <= 0 {
		opts.AuthFailureBurst = defaultAuthFailureBurst
	}
	if opts.AuthFailureEvery <= 0 {
		opts.AuthFailureEvery = defaultAuthFailureEvery
	}
	negTTL := min(opts.KeyCacheTTL, time.Second)
	s := &Server{
		broker:    opts.Broker,
		store:     opts.Store,
		vault:     opts.Vault,
		log:       opts.Logger,
		now:       opts.Now,
		keys:      newKeyCache(opts.KeyCacheTTL, negTTL, 10000),
		clientIP:  opts.ClientIP,
		authFails: newAuthLimiter(opts.AuthFailureBurst, opts.AuthFailureEvery, defaultAuthFailureClients),
		mux:       http.NewServeMux(),
		idPrefix:  rand.Text()[:8] + "-",
	}
	s.adapter = &httpapi.Adapter{
		Logger:    opts.Logger,
		Metrics:   httpapi.NewMetrics(registerer(opts.Registry)),
		RequestID: s.nextID,
		ClientIP:  s.clientIP.Resolve,
	}
	if opts.AdminKey != "" {
		h := sha256.Sum256([]byte(opts.AdminKey))
		s.adminHash = h[:]
	}
	s.mux.Handle("/", s.wrap("", authNone, s.fallback))

	s.handle("GET /v1/openapi.json", authNone, serveOpenAPI)
	s.handle("GET /v1/providers", authAny, s.listProviders)

	s.handle("POST /v1/connect-sessions", authTenant, s.createConnectSession)
	s.handle("GET /v1/connect-result-key", authTenant, s.connectResultKey)
	s.handle("GET /v1/connections", authTenant, s.listConnections)
	s.handle("POST /v1/connections", authTenant, s.createConnection)
	s.handle("GET /v1/connections/{id}", authTenant, s.getConnection)
	s.handle("DELETE /v1/connections/{id}", authTenant, s.deleteConnection)
	s.handle("POST /v1/connections/{id}/refresh", authTenant, s.refreshConnection)
	s.handle("GET /v1/connections/{id}/token", authTenant, s.token)
	s.handle("GET /v1/connections/{id}/events", authTenant, s.listEvents)
	s.handle("GET /v1/integrations", authTenant, s.listIntegrations)
	s.handle("POST /v1/integrations", authTenant, s.createIntegration)
	s.handle("GET /v1/integrations/{id}", authAny, s.getIntegration)
	s.handle("PATCH /v1/integrations/{id}", authAny, s.updateIntegration)
	s.handle("DELETE /v1/integrations/{id}", authAny, s.deleteIntegration)
	s.handle("GET /v1/webhook-deliveries", authAny, s.listDeliveries)
	s.handle("POST /v1/webhook-deliveries/{id}/redeliver", authAny, s.redeliverDelivery)

	s.handle("POST /v1/tenants", authAdmin, s.createTenant)
	s.handle("GET /v1/tenants", authAdmin, s.listTenants)
	s.registerTenancyRoutes()
	return s
}

// ServeHTTP implements [http.Handler].
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Handle adds a route whose callers must authenticate as a tenant (or as
// the admin on behalf of one); h finds the tenant with [TenantFrom] and
// its errors go through [httpapi.WriteError]. The pattern follows
// [http.ServeMux]; conflicting patterns panic.
func (s *Server) Handle(pattern string, h HandlerFunc) { s.handle(pattern, authTenant, h) }

// RequireTenant wraps h with tenant authentication, metrics and the error
// adapter, for handlers mounted outside the API's mux (the proxy); route
// labels its metrics and logs.
func (s *Server) RequireTenant(route string, h HandlerFunc) http.Handler {
	return s.wrap(route, authTenant, h)
}

// Routes returns the patterns registered so far, in order.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

func (s *Server) handle(pattern string, auth authKind, h HandlerFunc) {
	s.mux.Handle(pattern, s.wrap(pattern, auth, h))
	s.routes = append(s.routes, pattern)
}

// wrap is the middleware every route goes through (see
// [httpapi.Adapter.Wrap]): request id, client address, path checks, the
// failed-authentication limit and auth, handler, error adapter, metrics.
// pattern labels the metrics; "" takes the pattern the mux matched.
func (s *Server) wrap(pattern string, auth authKind, h HandlerFunc) http.Handler {
	var a httpapi.Authenticator
	if auth != authNone {
		a = routeAuth{s: s, kind: auth}
	}
	return s.adapter.Wrap(pattern, a, func(w http.ResponseWriter, r *http.Request) error {
		// The admin key acts as the operator: it may use the operator's
		// own credentials for a tenant (see broker.MayUse).
		if info := httpapi.InfoFrom(r.Context()); info != nil && info.Principal.Admin {
			r = r.WithContext(broker.AsOperator(r.Context()))
		}
		return h(w, r)
	})
}

// registerer is reg as a [prometheus.Registerer], nil when reg is nil.
func registerer(reg *prometheus.Registry) prometheus.Registerer {
	if reg == nil {
		return nil
	}
	return reg
}

// limitedAuthorize is authorize behind the failed-authentication limit of
// the caller's address: an address with no failures left is refused with
// 429 and Retry-After before its key is looked at, and each 401 spends
// one failure.
func (s *Server) limitedAuthorize(w http.ResponseWriter, r *http.Request, auth authKind) (httpapi.Principal, error) {
	ip := netip.Addr{}
	if info := httpapi.InfoFrom(r.Context()); info != nil {
		ip = info.ClientIP
	}
	if wait, ok := s.authFails.blocked(ip, s.now()); ok {
		w.Header()["Retry-After"] = []string{retryAfter(wait)}
		return httpapi.Principal{}, errTooManyFailures
	}
	p, err := s.authorize(r, auth)
	if e, ok := errors.AsType[*httpapi.Error](err); ok && e.Status == http.StatusUnauthorized {
		s.authFails.fail(ip, s.now())
	}
	return p, err
}

func (s *Server) authorize(r *http.Request, auth authKind) (httpapi.Principal, error) {
	c, err := s.authenticate(r)
	if err != nil {
		return httpapi.Principal{}, err
	}
	p := httpapi.Principal{Admin: c.admin}
	if !c.admin {
		p.TenantID = c.tenantID
	}
	switch auth {
	case authAny:
		p.TenantID = c.tenantID // "" for the admin key
	case authAdmin:
		if !c.admin {
			return httpapi.Principal{}, errAdminOnly
		}
	case authTenant:
		id, err := s.tenantOf(r, c)
		if err != nil {
			return httpapi.Principal{}, err
		}
		p.TenantID = id
	}
	return p, nil
}

// callerTenant is TenantFrom for this package's handlers, which are only
// registered behind tenant auth.
func callerTenant(r *http.Request) string {
	id, _ := TenantFrom(r.Context())
	return id
}

func (s *Server) nextID() string {
	return s.idPrefix + strconv.FormatUint(s.idSeq.Add(1), 36)
}

// probeMethods are tried to tell 405 from 404.
var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// fallback answers requests no route matches, in the API's error shape:
// 405 with Allow when another method would match, else 404.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := s.mux.Handler(r2); p != "" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header()["Allow"] = []string{strings.Join(allow, ", ")}
		return errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "method "+r.Method+" is not allowed here")
	}
	return errorf(http.StatusNotFound, codeNotFound, "no such route")
}

package sandbox

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/grantd/grantd/internal/sandbox/pax8api"
)

// Names of the personalities, the first path segment of their URLs.
const (
	// Pax8 emulates Pax8's Auth0 tenant and partner API (seeds/000-002).
	Pax8 = "pax8"
	// Paxful emulates Paxful's delegated access (seeds/003).
	Paxful = "paxful"
	// Daxko emulates Daxko's partner token endpoint and API (seeds/004).
	Daxko = "daxko"
)

// Options configures a [Server]. The zero value is usable: the real clock,
// discarded logs, [DefaultSettings] and the default API data size.
type Options struct {
	// Now is the base clock (default time.Now). The sandbox adds its own
	// offset, moved by [Server.Advance] or POST /_sandbox/clock.
	Now func() time.Time
	// Logger receives the sandbox's logs (default: discarded).
	Logger *slog.Logger
	// Pax8 holds the settings of the pax8 personality. The zero value means
	// [DefaultSettings]; see [Settings] for how other values are completed.
	Pax8 Settings
	// Paxful holds the settings of the paxful personality; the zero value
	// means [PaxfulSettings].
	Paxful Settings
	// Daxko holds the settings of the daxko personality; the zero value
	// means [DaxkoSettings].
	Daxko Settings
	// APISize is the size of the seeded Pax8 API data, passed to pax8api.
	APISize pax8api.Size
	// APIDiscrepancies seeds every partner's Pax8 data with one invoice
	// discrepancy of each category (pax8api.Options.Discrepancies); GET
	// /_sandbox/pax8/discrepancies lists them.
	APIDiscrepancies bool
}

// Settings are the switches of one personality. The zero Settings means
// [DefaultSettings]. In any other value, zero lifetimes (AccessTTL,
// RefreshAbsolute, RefreshIdle) take their defaults while the booleans and
// ReuseInterval are taken as given, so start from DefaultSettings to change
// one field.
type Settings struct {
	// Rotation turns refresh-token rotation on (default true). The paxful
	// personality rotates whatever it says, as Paxful documents (seeds/003).
	Rotation bool
	// ReuseInterval is Auth0's "reuse interval" (refresh_token.leeway):
	// within it the immediately previous refresh token may be exchanged
	// again without breach detection. Zero is strict.
	ReuseInterval time.Duration
	// AccessTTL is the access-token lifetime (default 24h).
	AccessTTL time.Duration
	// RefreshAbsolute is the refresh-token family's absolute lifetime
	// (default 8766h, one year of 31,557,600 s).
	RefreshAbsolute time.Duration
	// RefreshIdle is the refresh-token inactivity lifetime (default 720h,
	// 30 days); each use resets it.
	RefreshIdle time.Duration
	// SendIss adds the RFC 9207 iss parameter to authorization responses
	// and advertises authorization_response_iss_parameter_supported in
	// discovery. Auth0, and so Pax8, does not (default false).
	SendIss bool
	// RequireJSON refuses form-encoded token requests, to test a JSON-only
	// dialect (default false).
	RequireJSON bool
	// RateLimited makes every call of the emulated API answer 429 with
	// Retry-After (default false); Pax8's says "Too many requests hit the
	// API quickly".
	RateLimited bool
	// ExpiresInNumber makes the daxko token endpoint send expires_in as a
	// JSON number. By default it sends a string ("86400"), as the seed's
	// response example shows (seeds/004) although Daxko's swagger types it
	// as an integer (provider-facts §4), so that clients' lenient parsing
	// is exercised. Other personalities always send a number.
	ExpiresInNumber bool
	// TokenLatency delays every token-endpoint response, honouring the
	// request's context (default 0), to emulate a slow authorization
	// server under load.
	TokenLatency time.Duration
	// TokenRateLimit is the token endpoint's capacity in requests per
	// second of real time, a token bucket of TokenRateBurst requests
	// (default 0: unlimited). Beyond it the endpoint answers 429
	// too_many_requests with Retry-After and Auth0's X-RateLimit-*
	// headers, as Auth0's Authentication API does under its rate-limit
	// policy. The bucket starts full and is refilled when the settings
	// change.
	TokenRateLimit float64
	// TokenRateBurst is the bucket's size; zero means TokenRateLimit
	// rounded up (at least 1).
	TokenRateBurst int
	// APIRateLimit is the emulated API's capacity in requests per second of
	// real time, a token bucket of APIRateBurst requests (default 0:
	// unlimited). Beyond it Pax8's API answers 429 "Too many requests hit
	// the API quickly" with Retry-After. (Third parties report Pax8 allows
	// 1000 calls a minute, about 16.7 a second; Pax8 publishes no figure.)
	APIRateLimit float64
	// APIRateBurst is that bucket's size; zero means APIRateLimit rounded
	// up (at least 1).
	APIRateBurst int
}

// DefaultSettings returns Pax8's documented behaviour (seeds/000): rotation
// on, strict reuse, access tokens for 24 h, refresh tokens for one year
// absolute and 30 days idle.
func DefaultSettings() Settings {
	return Settings{
		Rotation:        true,
		AccessTTL:       24 * time.Hour,
		RefreshAbsolute: 8766 * time.Hour,
		RefreshIdle:     720 * time.Hour,
	}
}

// withDefaults completes st with the defaults of the personality whose
// documented settings are def.
func (st Settings) withDefaults(def func() Settings) Settings {
	if st == (Settings{}) {
		return def()
	}
	d := def()
	if st.AccessTTL <= 0 {
		st.AccessTTL = d.AccessTTL
	}
	if st.RefreshAbsolute <= 0 {
		st.RefreshAbsolute = d.RefreshAbsolute
	}
	if st.RefreshIdle <= 0 {
		st.RefreshIdle = d.RefreshIdle
	}
	if st.ReuseInterval < 0 {
		st.ReuseInterval = 0
	}
	st.TokenLatency = max(st.TokenLatency, 0)
	st.TokenRateLimit = max(st.TokenRateLimit, 0)
	st.TokenRateBurst = max(st.TokenRateBurst, 0)
	return st
}

// Client is an OAuth client registered with a personality. Name is shown on
// the consent page (default: the ID).
type Client struct {
	ID, Secret   string
	RedirectURIs []string
	Name         string
}

// Endpoints are the URLs of one personality.
type Endpoints struct {
	Issuer       string
	AuthorizeURL string
	TokenURL     string
	UserinfoURL  string
	JWKSURL      string
	DiscoveryURL string
	// RevocationURL is the RFC 7009 revocation endpoint, empty when the
	// personality has none (pax8 has Auth0's /oauth/revoke).
	RevocationURL string
	// APIBaseURL is the base of the emulated partner API.
	APIBaseURL string
	// APITokenURL is the documented client-credentials token URL
	// (api.pax8.com/v1/token), served by the same handler as TokenURL.
	APITokenURL string
}

// Server is the sandbox: authorization servers, the emulated APIs and the
// control API. Create it with [New], call [Server.SetBaseURL], then serve
// [Server.Handler]. It is safe for concurrent use.
type Server struct {
	baseNow func() time.Time
	log     *slog.Logger
	pages   *template.Template
	api     http.Handler
	pax8    *pax8api.API // the same API as api, for the control routes
	keys    *keySet
	faults  faultList
	mux     *http.ServeMux

	mu     sync.Mutex // guards offset and base
	offset time.Duration
	base   string

	providers map[string]*provider
}

// New returns a sandbox with the pax8, paxful and daxko personalities and
// no registered clients or Daxko partners.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	keys, err := newKeySet()
	if err != nil {
		return nil, fmt.Errorf("sandbox keys: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("sandbox pages: %w", err)
	}
	s := &Server{
		baseNow:   opts.Now,
		log:       opts.Logger,
		pages:     pages,
		keys:      keys,
		providers: map[string]*provider{},
	}
	for name, st := range map[string]Settings{Pax8: opts.Pax8, Paxful: opts.Paxful, Daxko: opts.Daxko} {
		d := dialects[name]
		s.providers[name] = newProvider(name, d, st.withDefaults(d.defaults))
	}
	s.faults.now = s.Now
	s.api = s.newAPI(opts)
	s.mux = s.routes()
	return s, nil
}

// SetBaseURL sets the externally visible base URL, such as
// "http://127.0.0.1:41234", from which every issuer and endpoint derives.
// Call it before serving.
func (s *Server) SetBaseURL(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base = strings.TrimRight(base, "/")
}

func (s *Server) baseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base
}

// Handler returns the handler serving every sandbox URL.
func (s *Server) Handler() http.Handler { return s.mux }

// RegisterClient registers (or replaces) a client of a personality. Unknown
// providers are ignored with a logged warning.
func (s *Server) RegisterClient(provider string, c Client) {
	p := s.providers[provider]
	if p == nil {
		s.log.Warn("sandbox register client: unknown provider", "provider", provider)
		return
	}
	c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	if c.Name == "" {
		c.Name = c.ID
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[c.ID] = c
}

// Configure replaces the settings of a personality; see [Settings] for how
// zero fields are completed. Unknown providers are ignored with a logged
// warning.
func (s *Server) Configure(provider string, st Settings) {
	p := s.providers[provider]
	if p == nil {
		s.log.Warn("sandbox configure: unknown provider", "provider", provider)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.settings = st.withDefaults(p.d.defaults)
	p.bucket, p.apiBucket = tokenBucket{}, tokenBucket{}
}

func (s *Server) settings(provider string) Settings {
	p := s.providers[provider]
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.settings
}

// Advance moves the sandbox clock forward by d (backward when negative) and
// returns the new sandbox time.
func (s *Server) Advance(d time.Duration) time.Time {
	s.mu.Lock()
	s.offset += d
	off := s.offset
	s.mu.Unlock()
	return s.baseNow().Add(off)
}

// Now returns the sandbox time: the base clock plus the offset set by
// [Server.Advance].
func (s *Server) Now() time.Time {
	s.mu.Lock()
	off := s.offset
	s.mu.Unlock()
	return s.baseNow().Add(off)
}

// Issuer returns the issuer identifier of a personality: with Auth0's
// trailing slash for pax8 (base+"/pax8/"), without one for paxful and
// daxko (base+"/paxful").
func (s *Server) Issuer(provider string) string {
	suffix := "/"
	if p := s.providers[provider]; p != nil {
		suffix = p.d.issuerSuffix
	}
	return s.baseURL() + "/" + provider + suffix
}

// Endpoints returns the URLs of a personality. Fields a personality does
// not have are empty. The zero Endpoints is returned for an unknown
// provider.
func (s *Server) Endpoints(provider string) Endpoints {
	p := s.providers[provider]
	if p == nil {
		return Endpoints{}
	}
	return p.d.endpoints(s.baseURL(), provider, s.Issuer(provider))
}

var errUnknownProvider = errors.New("unknown provider")

func (s *Server) provider(name string) (*provider, error) {
	p := s.providers[name]
	if p == nil {
		return nil, fmt.Errorf("%w %q", errUnknownProvider, name)
	}
	return p, nil
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	for _, p := range s.providers {
		p.d.routes(s, mux, p)
	}
	s.controlRoutes(mux)
	return mux
}

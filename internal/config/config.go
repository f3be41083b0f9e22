package config

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/clientip"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/vault"
)

// Duration reads and writes as "10m"; it is [provider.Duration].
type Duration = provider.Duration

// Config is the whole of grantd's configuration. Build one with [Load], or
// start from [Default] in code (the demo and tests), then call
// [Config.ApplyDefaults] and [Config.Validate]. Fields tagged yaml:"-" are
// resolved values, never read from YAML.
type Config struct {
	// Listen is the HTTP listen address (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// PublicURL is the externally visible base URL, used to build connect
	// URLs and redirect URIs (default http://127.0.0.1:8080, which is
	// valid only in dev mode).
	PublicURL string `yaml:"public_url"`
	// Database is a SQLite file path (default grantd.db in the working
	// directory) or a postgres:// or postgresql:// URL.
	Database string `yaml:"database"`
	// Dev allows http:// endpoints and URLs on loopback hosts only
	// (SEC-52). Never set it in production.
	Dev bool `yaml:"dev"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text (default) or json.
	LogFormat string `yaml:"log_format"`
	// AdminKeyEnv names the environment variable holding the operator's
	// admin API key (default GRANTD_ADMIN_KEY).
	AdminKeyEnv string `yaml:"admin_key_env"`
	// AdminKeyFile is a file holding the admin key, instead of AdminKeyEnv.
	AdminKeyFile string `yaml:"admin_key_file"`
	// Vault locates the encryption keys.
	Vault Vault `yaml:"vault"`
	// ReturnToAllow lists the URL prefixes an application may send its
	// users back to after a connect flow: scheme, host and port must match
	// exactly and the path must start with the entry's path (SEC-09).
	ReturnToAllow []string `yaml:"return_to_allow"`
	// Providers declares custom providers, which may extend a built-in
	// (see docs/providers.md and [provider.Custom]).
	Providers []provider.Custom `yaml:"providers"`
	// Integrations are the operator-owned OAuth clients.
	Integrations []Integration `yaml:"integrations"`
	// Refresh tunes the background refresher.
	Refresh Refresh `yaml:"refresh"`
	// TokenCacheTTL is how long a valid access token is cached in process
	// (default 1s; 0 disables the cache).
	TokenCacheTTL Duration `yaml:"token_cache_ttl"`
	// Connect tunes connect links and sessions.
	Connect Connect `yaml:"connect"`
	// Console tunes the operator console under /console/.
	Console Console `yaml:"console"`
	// Webhooks receive connection events (see package notify).
	Webhooks []Webhook `yaml:"webhooks"`
	// WebhookRetry is the retry schedule of every webhook delivery.
	WebhookRetry WebhookRetry `yaml:"webhook_retry"`
	// Server tunes how the HTTP server treats its callers.
	Server Server `yaml:"server"`
	// Quotas bound what each tenant may hold or make.
	Quotas Quotas `yaml:"quotas"`

	// AdminKey is the resolved admin key.
	AdminKey Secret `yaml:"-"`

	// envProblems and secretProblems are errors found while reading the
	// environment and the secrets; Validate reports them with the rest.
	envProblems, secretProblems []error
	// secretsResolved is set by ResolveSecrets; without it, Validate checks
	// the resolved fields themselves (configs built in code).
	secretsResolved bool
}

// Vault locates the vault keys. Exactly one of KeysEnv and KeysFile is set;
// the value is "id:base64key[,id:base64key…]" as [vault.ParseKeys] reads.
type Vault struct {
	// KeysEnv names the environment variable holding the keys (default
	// GRANTD_VAULT_KEYS).
	KeysEnv string `yaml:"keys_env"`
	// KeysFile is a file holding the keys, instead of KeysEnv.
	KeysFile string `yaml:"keys_file"`
	// Primary is the id of the key that seals new values; 0 (the default)
	// means the highest id.
	Primary uint32 `yaml:"primary"`

	// Keys are the resolved keys.
	Keys []vault.Key `yaml:"-"`
}

// Integration is an operator-owned OAuth client registered with a provider.
type Integration struct {
	// ID identifies the integration in URLs, including its callback path
	// /oauth/callback/<id>: lowercase letters, digits, dashes, underscores.
	ID string `yaml:"id"`
	// Provider is the name of a built-in or custom provider.
	Provider string `yaml:"provider"`
	// Name is shown on pages (default: the provider's display name).
	Name string `yaml:"name"`
	// ClientID is the OAuth client id (Daxko: the partner username).
	ClientID string `yaml:"client_id"`
	// ClientSecretEnv names the environment variable holding the client
	// secret (Daxko: the partner password).
	ClientSecretEnv string `yaml:"client_secret_env"`
	// ClientSecretFile is a file holding the client secret, instead.
	ClientSecretFile string `yaml:"client_secret_file"`
	// PartnerTokenEnv names the environment variable holding the partner's
	// long-lived refresh token, for partner_refresh_bearer providers
	// (Daxko) only.
	PartnerTokenEnv string `yaml:"partner_token_env"`
	// PartnerTokenFile is a file holding the partner token, instead.
	PartnerTokenFile string `yaml:"partner_token_file"`
	// RedirectURI is the callback registered with the provider (default
	// public_url + /oauth/callback/<id>; authorization_code only).
	RedirectURI string `yaml:"redirect_uri"`
	// Scopes are requested instead of the provider's when not empty.
	Scopes []string `yaml:"scopes"`
	// Audience replaces the provider's audience when not empty (pax8-vendor:
	// api://usage).
	Audience string `yaml:"audience"`
	// Tenants lists the tenant ids that may use this integration: connect
	// through it, see it in GET /v1/integrations and use the connections
	// made through it; "*" names every tenant. When it is absent, a
	// delegated (authorization_code) integration is open to every tenant,
	// each consenting with its own vendor account, and an operator
	// credential (client_credentials, partner_refresh_bearer) to none but
	// the admin key acting for a tenant, since it is the operator's own
	// identity. An empty list (tenants: []) closes it to every tenant.
	Tenants []string `yaml:"tenants"`

	// ClientSecret is the resolved client secret.
	ClientSecret Secret `yaml:"-"`
	// PartnerToken is the resolved partner token.
	PartnerToken Secret `yaml:"-"`
}

// Refresh tunes the refresh scheduler (package refresh) and the broker's
// refreshes.
type Refresh struct {
	// Interval is the scheduler's longest sleep and the period of its
	// housekeeping (session purge, reauth notices); it wakes earlier
	// when a refresh falls due (default 1m).
	Interval Duration `yaml:"interval"`
	// Ahead: access tokens are refreshed this long before they expire,
	// for providers without their own refresh.margin; never more than
	// half a token's lifetime (default 10m).
	Ahead Duration `yaml:"ahead"`
	// IdleMargin: grants whose idle lifetime ends within this are
	// refreshed to keep them alive; never more than half the idle
	// lifetime (default 120h).
	IdleMargin Duration `yaml:"idle_margin"`
	// Workers bounds the background refreshes each replica runs at once
	// (default 8).
	Workers int `yaml:"workers"`
	// MinForcedInterval throttles forced refreshes per connection (POST
	// /v1/connections/{id}/refresh, a vendor's 401 to the proxy or an
	// action): inside it, the current token is used and the API answers
	// 429 with Retry-After (default 30s).
	MinForcedInterval Duration `yaml:"min_forced_interval"`
	// ReauthNotices: a reauth_due event is sent once when a grant's
	// absolute lifetime ends within each of these (default 720h and 168h,
	// that is 30 and 7 days; an empty list sends none).
	ReauthNotices []Duration `yaml:"reauth_notices"`
	// Timeout bounds one token request to a provider (default 20s).
	Timeout Duration `yaml:"timeout"`
	// LeaseTTL is how long one replica may hold a connection's refresh
	// lease (default 60s). It must exceed Timeout, so a refresh's answer is
	// always stored by the replica that asked for it; a replica that dies
	// holding the lease delays that connection's next refresh by at most
	// this long.
	LeaseTTL Duration `yaml:"lease_ttl"`
}

// Webhook is one receiver of connection events: grantd POSTs each event as
// JSON, signed with HMAC-SHA256 in the Grantd-Signature header.
type Webhook struct {
	// URL receives the POSTs: https, or http on loopback in dev mode.
	URL string `yaml:"url"`
	// SecretEnv names the environment variable holding the signing secret
	// (at least 16 characters).
	SecretEnv string `yaml:"secret_env"`
	// SecretFile is a file holding the signing secret, instead.
	SecretFile string `yaml:"secret_file"`
	// Events are the event types sent (default: all of [notify.Types]).
	Events []string `yaml:"events"`

	// Secret is the resolved signing secret.
	Secret Secret `yaml:"-"`
}

// WebhookRetry is how failed webhook deliveries are retried: exponential
// backoff with jitter (the n-th retry waits FirstDelay·2^(n-1), at most
// MaxDelay, less a random part of up to Jitter of it) for For after the
// event, the last try made at the end of the window; then the delivery is
// failed and can be redelivered through the API. The defaults (72h, 30s,
// 6h, 0.3) retry about 20 times over three days, as Stripe does.
type WebhookRetry struct {
	// For is how long a delivery is retried (default 72h; at most 6 days,
	// so the outbox's 7-day retention keeps every pending delivery).
	For Duration `yaml:"for"`
	// FirstDelay is the wait before the first retry (default 30s).
	FirstDelay Duration `yaml:"first_delay"`
	// MaxDelay caps a wait, including one a Retry-After asks (default 6h).
	MaxDelay Duration `yaml:"max_delay"`
	// Jitter is the random fraction taken off each wait, 0 to 1 (default
	// 0.3; 0 for none).
	Jitter float64 `yaml:"jitter"`
}

// Connect tunes the connect flow.
type Connect struct {
	// SessionTTL is how long an authorization may take (default 10m).
	SessionTTL Duration `yaml:"session_ttl"`
	// LinkTTL is how long a connect link stays valid (default 1h). A link
	// is spent once it has produced a connection, whatever its TTL.
	LinkTTL Duration `yaml:"link_ttl"`
	// ResultSecretEnv names the environment variable holding the secret
	// that signs connect results (package connectresult); when neither it
	// nor ResultSecretFile is set, GRANTD_CONNECT_RESULT_SECRET is read if
	// present, and without any the secret is derived from the vault's
	// primary key. At least 32 bytes.
	ResultSecretEnv string `yaml:"result_secret_env"`
	// ResultSecretFile is a file holding the result secret, instead of
	// ResultSecretEnv.
	ResultSecretFile string `yaml:"result_secret_file"`
	// ResultSecret is the resolved result secret ("" when derived from the
	// vault).
	ResultSecret Secret `yaml:"-"`
}

// DefaultResultSecretEnv is read for the connect result secret when the
// config names no variable or file.
const DefaultResultSecretEnv = "GRANTD_CONNECT_RESULT_SECRET"

// Quotas bound what each tenant may hold or make. Each is a positive
// number, or -1 for no limit. Beyond a count (integrations, connections)
// the API answers 403 quota_exceeded; beyond a rate (connect links) 429
// rate_limited with Retry-After; beyond an upload size 413.
type Quotas struct {
	// Integrations bounds a tenant's own integrations (default 50).
	Integrations int `yaml:"integrations"`
	// Connections bounds a tenant's connections (default 1000).
	Connections int `yaml:"connections"`
	// ConnectLinksPerHour bounds the connect links a tenant creates in
	// any hour (default 100).
	ConnectLinksPerHour int `yaml:"connect_links_per_hour"`
	// OrgImportBytes bounds one upload of a tenant's organisations, PUT
	// /v1/organizations (default 33554432, 32 MiB).
	OrgImportBytes int64 `yaml:"org_import_bytes"`
}

// Console tunes the operator console (package console).
type Console struct {
	// SessionTTL is how long a console sign-in lasts (default 8h).
	SessionTTL Duration `yaml:"session_ttl"`
}

// Server tunes how the HTTP server treats its callers.
type Server struct {
	// TrustedProxies lists the reverse proxies, each an IP address or a
	// CIDR prefix, whose X-Forwarded-For header names the client (see
	// package clientip, RFC 9700 §4.13). The default, empty, trusts no
	// proxy: the client is the TCP peer. X-Forwarded-Proto and
	// X-Forwarded-Host are never used, whoever sends them: URLs come from
	// public_url.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// AuthFailureLimit limits failed API authentications per client
	// address.
	AuthFailureLimit AuthFailureLimit `yaml:"auth_failure_limit"`
	// AccessLog logs one line per request at info level: method, path
	// (link tokens masked), status, bytes, duration and client_ip. Off by
	// default: at high request rates it costs about a tenth of the token
	// endpoint's throughput (BENCHMARKS.md).
	AccessLog bool `yaml:"access_log"`
}

// AuthFailureLimit is a token bucket per client address: Burst failed
// authentications (401) in a row, then one more every Every. While it is
// empty, the address's API requests are answered 429 before their key is
// checked.
type AuthFailureLimit struct {
	// Burst is the bucket's size (default 20).
	Burst int `yaml:"burst"`
	// Every is how often the bucket gains one failure back (default 1s).
	Every Duration `yaml:"every"`
}

// TrustedPrefixes returns Server.TrustedProxies parsed by
// [clientip.ParsePrefix], leaving out the entries [Config.Validate]
// reports as invalid.
func (s Server) TrustedPrefixes() []netip.Prefix {
	var ps []netip.Prefix
	for _, e := range s.TrustedProxies {
		if p, err := clientip.ParsePrefix(e); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// Default returns the configuration used when nothing is configured. YAML
// is decoded over it, so a field written in the file, even as zero,
// replaces its default.
func Default() *Config {
	return &Config{
		Listen:        "127.0.0.1:8080",
		PublicURL:     "http://127.0.0.1:8080",
		Database:      "grantd.db",
		LogLevel:      "info",
		LogFormat:     "text",
		AdminKeyEnv:   "GRANTD_ADMIN_KEY",
		Vault:         Vault{KeysEnv: "GRANTD_VAULT_KEYS"},
		TokenCacheTTL: Duration(time.Second),
		Refresh: Refresh{
			Interval:          Duration(time.Minute),
			Ahead:             Duration(10 * time.Minute),
			IdleMargin:        Duration(120 * time.Hour),
			Workers:           8,
			MinForcedInterval: Duration(30 * time.Second),
			Timeout:           Duration(20 * time.Second),
			LeaseTTL:          Duration(time.Minute),
			ReauthNotices: []Duration{
				Duration(30 * 24 * time.Hour),
				Duration(7 * 24 * time.Hour),
			},
		},
		Connect: Connect{
			SessionTTL: Duration(10 * time.Minute),
			LinkTTL:    Duration(time.Hour),
		},
		Console: Console{SessionTTL: Duration(8 * time.Hour)},
		Server: Server{
			AuthFailureLimit: AuthFailureLimit{Burst: 20, Every: Duration(time.Second)},
		},
		Quotas: Quotas{Integrations: 50, Connections: 1000, ConnectLinksPerHour: 100, OrgImportBytes: 32 << 20},
		WebhookRetry: WebhookRetry{
			For:        Duration(72 * time.Hour),
			FirstDelay: Duration(30 * time.Second),
			MaxDelay:   Duration(6 * time.Hour),
			Jitter:     0.3,
		},
	}
}

// ApplyDefaults fills the defaults that depend on other settings: each
// integration's redirect URI (public_url + /oauth/callback/<id>), and its
// name, scopes and audience from its provider when it names a known one.
// Load calls it after flags are applied; code that builds a Config by hand
// calls it before Validate.
func (c *Config) ApplyDefaults() {
	reg, _ := c.Registry()
	for i := range c.Integrations {
		in := &c.Integrations[i]
		var p provider.Provider
		var known bool
		if reg != nil {
			p, known = reg.Get(in.Provider)
		}
		if in.RedirectURI == "" && in.ID != "" && (!known || p.Grant == provider.AuthorizationCode) {
			in.RedirectURI = CallbackURL(c.PublicURL, in.ID)
		}
		if !known {
			continue
		}
		if in.Name == "" {
			in.Name = p.DisplayName
		}
		if len(in.Scopes) == 0 {
			in.Scopes = p.Scopes
		}
		if in.Audience == "" {
			in.Audience = p.Audience
		}
	}
}

// CallbackURL returns the redirect URI of integration id under publicURL:
// publicURL + "/oauth/callback/" + id. Each integration has its own path,
// so a callback names the flow's provider (SEC-24).
func CallbackURL(publicURL, id string) string {
	return strings.TrimSuffix(publicURL, "/") + "/oauth/callback/" + id
}

// Registry returns the built-in providers with the custom ones applied.
// It does not validate them; [Config.Validate] does.
func (c *Config) Registry() (*provider.Registry, error) {
	ps, err := provider.Resolve(provider.Builtin(), c.Providers)
	if err != nil {
		return nil, err
	}
	return provider.NewRegistry(ps...)
}

// SlogLevel returns LogLevel as a [slog.Level] (info when unknown).
func (c *Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

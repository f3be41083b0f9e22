package provider

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// Grant names the way a provider hands out tokens.
type Grant string

const (
	// AuthorizationCode is the delegated flow of RFC 6749 §4.1: a user logs
	// in and consents at the provider, grantd exchanges the code (Pax8,
	// Paxful).
	AuthorizationCode Grant = "authorization_code"
	// ClientCredentials is RFC 6749 §4.4: the client authenticates as itself,
	// one token per audience, no refresh token (Pax8 partners and marketplace
	// vendors, seeds/001).
	ClientCredentials Grant = "client_credentials"
	// PartnerRefreshBearer is Daxko's dialect (seeds/004): a long-lived
	// partner refresh token is sent as "Authorization: Bearer" with a
	// client-credentials request and yields a client-scoped access token.
	PartnerRefreshBearer Grant = "partner_refresh_bearer"
)

// Encoding is the body encoding of token requests.
type Encoding string

const (
	// Form is application/x-www-form-urlencoded (RFC 6749 §4.1.3).
	Form Encoding = "form"
	// JSON is application/json, as Pax8's own examples post (seeds/000).
	JSON Encoding = "json"
)

// ClientAuth is where the client secret goes in a token request
// (RFC 6749 §2.3.1). It never goes in a URL.
type ClientAuth string

const (
	// ClientAuthBody puts client_id and client_secret in the request body
	// (client_secret_post).
	ClientAuthBody ClientAuth = "body"
	// ClientAuthBasic uses HTTP Basic authentication (client_secret_basic).
	ClientAuthBasic ClientAuth = "basic"
)

// Rotation says whether a provider replaces the refresh token on use.
type Rotation string

const (
	// RotationNever: the refresh response never carries a refresh token.
	RotationNever Rotation = "never"
	// RotationAlways: every refresh decommissions the token used and returns
	// a new one (Paxful, seeds/003).
	RotationAlways Rotation = "always"
	// RotationMaybe: the provider may rotate (Auth0 with rotation enabled,
	// Pax8); a returned refresh token replaces the stored one.
	RotationMaybe Rotation = "maybe"
)

// IssParameter is the provider's support for RFC 9207's iss authorization
// response parameter.
type IssParameter string

const (
	// IssOptional: iss is checked when present and accepted when absent
	// (Auth0, and so Pax8, may not send it).
	IssOptional IssParameter = "optional"
	// IssRequired: a response without iss is rejected (RFC 9207 §2.4).
	IssRequired IssParameter = "required"
)

// Provider describes a vendor's auth and API dialect as data. The zero value
// is not valid; built-ins come from [Builtin] and custom providers from
// config, both checked by [Provider.Validate]. A Provider is immutable once
// registered and safe to share.
type Provider struct {
	// Name is the stable identifier, used in URLs and config (pax8).
	Name string `yaml:"name" json:"name"`
	// DisplayName is shown on pages ("Pax8").
	DisplayName string `yaml:"display_name" json:"display_name"`
	// Description is a sentence shown on the connect page.
	Description string `yaml:"description" json:"description,omitempty"`
	// Grant is how tokens are obtained.
	Grant Grant `yaml:"grant" json:"grant"`

	// Issuer is the authorization server's issuer identifier, compared
	// byte for byte with id_token iss and RFC 9207 iss.
	Issuer string `yaml:"issuer" json:"issuer,omitempty"`
	// AuthorizeURL is the authorization endpoint (authorization_code only).
	AuthorizeURL string `yaml:"authorize_url" json:"authorize_url,omitempty"`
	// TokenURL is the token endpoint.
	TokenURL string `yaml:"token_url" json:"token_url"`
	// UserinfoURL is the OIDC userinfo endpoint, if any.
	UserinfoURL string `yaml:"userinfo_url" json:"userinfo_url,omitempty"`
	// JWKSURL is where id_token signing keys are published, if any.
	JWKSURL string `yaml:"jwks_url" json:"jwks_url,omitempty"`
	// RevocationURL is the RFC 7009 token revocation endpoint, if any.
	// When set, disconnecting a connection revokes its refresh token there
	// (Auth0's /oauth/revoke revokes the token's whole grant). Empty means
	// the vendor offers none, and a disconnect is only local.
	RevocationURL string `yaml:"revocation_url" json:"revocation_url,omitempty"`

	// TokenEncoding is the token request body encoding.
	TokenEncoding Encoding `yaml:"token_encoding" json:"token_encoding"`
	// ClientAuth is where the client secret goes.
	ClientAuth ClientAuth `yaml:"client_auth" json:"client_auth"`
	// Audience is sent as the audience parameter on authorize and token
	// requests when set (Auth0 convention; mandatory for Pax8).
	Audience string `yaml:"audience" json:"audience,omitempty"`
	// Resource is sent as the RFC 8707 resource parameter on authorize
	// and token requests when set: the standard way to ask an OpenID
	// server for an access token for one API. A JWT access token must
	// then name it in aud (SEC-12), like Audience.
	Resource string `yaml:"resource" json:"resource,omitempty"`
	// AuthorizeParams are extra static parameters for the authorization
	// request (for example prompt: consent, which some servers need before
	// they issue a refresh token). A parameter grantd sets itself (see
	// [ReservedParams]) is refused. A provider that extends another merges
	// them key by key.
	AuthorizeParams map[string]string `yaml:"authorize_params" json:"authorize_params,omitempty"`
	// TokenParams are extra static parameters for every token request
	// (code exchange, refresh, client credentials); the same rules apply.
	TokenParams map[string]string `yaml:"token_params" json:"token_params,omitempty"`
	// Scopes are requested by default.
	Scopes []string `yaml:"scopes" json:"scopes"`
	// PKCE enables RFC 7636 S256. It is on for every built-in.
	PKCE bool `yaml:"pkce" json:"pkce"`
	// OIDC means an id_token is expected when openid is requested and is
	// verified (OIDC Core §3.1.3.7).
	OIDC bool `yaml:"oidc" json:"oidc"`
	// IssParameter is the RFC 9207 policy.
	IssParameter IssParameter `yaml:"iss_parameter" json:"iss_parameter,omitempty"`
	// IDTokenAlgs lists accepted id_token signature algorithms (RS256).
	IDTokenAlgs []string `yaml:"id_token_algs" json:"id_token_algs,omitempty"`

	// AccessTokenTTL is assumed when a token response has no expires_in.
	AccessTokenTTL Duration `yaml:"access_token_ttl" json:"access_token_ttl"`
	// RefreshToken describes refresh-token lifetimes and rotation.
	RefreshToken RefreshPolicy `yaml:"refresh_token" json:"refresh_token"`
	// Refresh tunes how grantd treats the provider's token endpoint when
	// it refreshes: how early, how fast, and when to stop sending.
	Refresh RefreshTuning `yaml:"refresh" json:"refresh"`

	// API describes where access tokens may be sent.
	API API `yaml:"api" json:"api"`
}

// RefreshPolicy is a provider's refresh-token behaviour.
type RefreshPolicy struct {
	// AbsoluteLifetime is how long a grant lives from consent, whatever its
	// use (Pax8: one year). Zero means unlimited.
	AbsoluteLifetime Duration `yaml:"absolute_lifetime" json:"absolute_lifetime"`
	// IdleLifetime is how long a refresh token lives unused; each use resets
	// it (Pax8: 30 days). Zero means unlimited.
	IdleLifetime Duration `yaml:"idle_lifetime" json:"idle_lifetime"`
	// Rotation says whether refresh tokens are replaced on use.
	Rotation Rotation `yaml:"rotation" json:"rotation"`
	// ReuseInterval is how long the provider still accepts a refresh token
	// it has just replaced (Auth0's "Reuse Interval", the rotation's
	// leeway). When a refresh's answer is lost (a crash, a timeout or a
	// 5xx after the request left), grantd sends the same refresh token
	// once more only within this interval; past it, or when it is zero,
	// the connection is marked needs_reauth instead, because a strict
	// provider treats the replay as theft and revokes the whole grant
	// (RFC 9700 §4.14.2).
	ReuseInterval Duration `yaml:"reuse_interval" json:"reuse_interval,omitempty"`
	// RequiresScope is the scope without which no refresh token is issued
	// (offline_access for Auth0).
	RequiresScope string `yaml:"requires_scope" json:"requires_scope,omitempty"`
}

// RefreshTuning is grantd's side of refreshing with one provider. The zero
// value uses the process defaults (config refresh.ahead for the margin),
// no rate limit, and a circuit that opens after 5 transient failures in a
// row for 30 s.
type RefreshTuning struct {
	// Margin refreshes an access token this long before it expires, both
	// in the background and when a caller asks. It is capped at half the
	// token's lifetime, so a short-lived token is refreshed once per
	// lifetime, never on every call. Zero uses the config's refresh.ahead.
	Margin Duration `yaml:"margin" json:"margin,omitempty"`
	// MaxRefreshRate caps the token requests per second that grantd sends
	// to this provider, across all replicas (each live replica takes an
	// equal share). The vendor's token-endpoint limit is per OAuth client,
	// which every tenant of an operator integration shares. Zero: no cap.
	MaxRefreshRate float64 `yaml:"max_refresh_rate" json:"max_refresh_rate,omitempty"`
	// MaxRefreshBurst is the token bucket's depth (default: half a
	// second's worth of MaxRefreshRate, at least 1, so that a rate equal
	// to the vendor's limit leaves the vendor's bucket some slack).
	MaxRefreshBurst int `yaml:"max_refresh_burst" json:"max_refresh_burst,omitempty"`
	// CircuitFailures opens the provider's circuit after this many
	// transient failures in a row at its token endpoint (default 5):
	// grantd then sends nothing for CircuitCooldown, hands out tokens that
	// are still valid, and afterwards lets one probe through.
	CircuitFailures int `yaml:"circuit_failures" json:"circuit_failures,omitempty"`
	// CircuitCooldown is how long an open circuit stays open (default 30s).
	CircuitCooldown Duration `yaml:"circuit_cooldown" json:"circuit_cooldown,omitempty"`
}

// API is where a provider's access tokens may be sent.
type API struct {
	// BaseURL is the API root that the proxy and actions join paths onto.
	BaseURL string `yaml:"base_url" json:"base_url"`
}

// Duration is a time.Duration that reads and writes as "24h".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText implements [encoding.TextMarshaler].
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalYAML decodes a YAML scalar such as "24h" with
// [Duration.UnmarshalText], adding the line number to errors.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 24h", n.Line)
	}
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %s is negative", b)
	}
	*d = Duration(v)
	return nil
}

// HasScope reports whether scope is among p's default scopes.
func (p *Provider) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// APIBase returns the parsed API base URL.
func (p *Provider) APIBase() (*url.URL, error) { return url.Parse(p.API.BaseURL) }

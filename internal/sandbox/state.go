package sandbox

import (
	"sync"
	"time"
)

// Grant types of RFC 6749.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
)

// Pax8 audiences and scopes (seeds/000, seeds/001, provider-facts §1.2-1.3).
const (
	audAPI       = "https://api.pax8.com"
	audLegacy    = "api://p8p.client"
	scopeManage  = "Manage:Pax8Data"
	scopeOpenID  = "openid"
	scopeProfile = "profile"
	scopeEmail   = "email"
	scopeOffline = "offline_access"
)

// Lifetimes of the login transaction and the authorization code.
const (
	txnTTL  = 30 * time.Minute
	codeTTL = 10 * time.Minute
)

type scopeInfo struct{ Name, Description string }

// pax8Scopes are the supported delegated scopes, in canonical order
// (seeds/000 "Supported Scopes").
var pax8Scopes = []scopeInfo{
	{scopeManage, "Access to your Pax8 data (orders, subscriptions, contacts, products & invoices)"},
	{scopeOpenID, "Your identity (an ID token)"},
	{scopeProfile, "Basic profile information"},
	{scopeEmail, "Your email address"},
	{scopeOffline, "Access while you are away (a refresh token)"},
}

// delegatedAudiences are the audiences accepted at /authorize.
var delegatedAudiences = []string{audAPI, audLegacy}

// clientCredentialsScopes maps the client-credentials audiences to the scope
// their tokens carry (provider-facts §1.2).
var clientCredentialsScopes = map[string]string{
	audAPI:               "",
	audLegacy:            "",
	"api://provisioning": "vendor:provisioning",
	"api://usage":        "read:usageLine write:usageLine",
}

// provider is the state of one personality, guarded by mu.
type provider struct {
	name string
	d    *dialect

	mu       sync.Mutex
	settings Settings
	clients  map[string]Client
	txns     map[string]*txn
	codes    map[string]*authCode
	refresh  map[string]*refreshToken
	families map[string]*family
	// accessGrant maps an access token's jti to the family it came from,
	// so that revoking a family (code replay) also revokes its access
	// tokens.
	accessGrant map[string]accessEntry
	// prunedAt is when pruneTokensLocked last ran (sandbox clock).
	prunedAt time.Time
	// bucket is the token endpoint's rate limiter (Settings.TokenRateLimit).
	bucket tokenBucket
	// apiBucket is the emulated API's rate limiter (Settings.APIRateLimit).
	apiBucket tokenBucket
	stats     ProviderStats
	// partners are the registered Daxko partner credentials (daxko only).
	partners map[string]DaxkoPartner
}

func newProvider(name string, d *dialect, st Settings) *provider {
	return &provider{
		name:        name,
		d:           d,
		settings:    st,
		clients:     map[string]Client{},
		txns:        map[string]*txn{},
		codes:       map[string]*authCode{},
		refresh:     map[string]*refreshToken{},
		families:    map[string]*family{},
		accessGrant: map[string]accessEntry{},
		stats:       newProviderStats(),
		partners:    map[string]DaxkoPartner{},
	}
}

// txn is an authorization request between /authorize and the consent
// decision, keyed by an unguessable id carried in a hidden form field.
type txn struct {
	id          string
	clientID    string
	redirectURI string
	state       string
	nonce       string
	audience    string
	challenge   string
	scopes      []string
	created     time.Time
	account     *Account // set by a successful login
}

// authCode is an issued authorization code (RFC 6749 §4.1.2).
type authCode struct {
	clientID    string
	redirectURI string
	nonce       string
	audience    string
	challenge   string
	scopes      []string
	subject     string
	authTime    time.Time
	expires     time.Time
	exchanges   int
	familyID    string // set by the first successful exchange
}

// family is one grant: every refresh token and access token descended from
// one code exchange.
type family struct {
	id          string
	clientID    string
	subject     string
	audience    string
	scopes      []string
	authTime    time.Time
	absoluteExp time.Time
	revoked     bool
	// previous is the most recently consumed refresh token, the only one
	// the reuse interval may forgive.
	previous string
}

// refreshToken is one refresh token of a family.
// accessEntry is what the sandbox remembers of an access token it issued.
type accessEntry struct {
	familyID string // "" for tokens outside a grant family
	expires  time.Time
}

// pruneEvery is how often, in sandbox time, issuing a token also forgets
// the expired ones, so a long-running sandbox does not grow without bound.
const pruneEvery = time.Minute

// pruneTokensLocked forgets, at most once per pruneEvery, access tokens
// past their expiry, refresh tokens past their idle expiry or whose family
// is gone or past its absolute expiry, and families past their absolute
// expiry. Each answers exactly as before once forgotten: an unknown token
// is as invalid as an expired one. p.mu must be held.
func (p *provider) pruneTokensLocked(now time.Time) {
	if now.Sub(p.prunedAt) < pruneEvery {
		return
	}
	p.prunedAt = now
	for jti, a := range p.accessGrant {
		if !now.Before(a.expires) {
			delete(p.accessGrant, jti)
		}
	}
	for v, rt := range p.refresh {
		fam := p.families[rt.familyID]
		if !now.Before(rt.idleExp) || fam == nil || !now.Before(fam.absoluteExp) {
			delete(p.refresh, v)
		}
	}
	for id, fam := range p.families {
		if !now.Before(fam.absoluteExp) {
			delete(p.families, id)
		}
	}
}

type refreshToken struct {
	familyID   string
	idleExp    time.Time
	consumed   bool
	consumedAt time.Time
}

// revokeLocked revokes a family. It reports whether the family was live.
func (p *provider) revokeLocked(f *family) bool {
	if f.revoked {
		return false
	}
	f.revoked = true
	p.stats.FamiliesRevoked++
	return true
}

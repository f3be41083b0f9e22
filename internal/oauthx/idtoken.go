package oauthx

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ErrInvalidIDToken is wrapped by every id_token verification failure.
var ErrInvalidIDToken = errors.New("invalid id_token")

// ErrKeysUnavailable marks an id_token whose signature could not be
// checked because the provider's JWKS could not be fetched: it says
// nothing against the token itself. Errors that wrap it also wrap
// [ErrInvalidIDToken].
var ErrKeysUnavailable = errors.New("signing keys unavailable")

// leeway is the clock skew allowed on exp, nbf and iat (OIDC-05, OIDC-06).
const leeway = 60 * time.Second

// IDClaims are the verified claims of an id_token.
type IDClaims struct {
	Issuer          string
	Subject         string
	Nonce           string
	AuthorizedParty string
	Email           string
	Name            string
	Audience        []string
	IssuedAt        time.Time
	Expiry          time.Time
	AuthTime        time.Time // zero when absent
	AtHash          string
}

// IDVerifier verifies id_tokens from one issuer for one client (OIDC Core
// §3.1.3.7). It fetches the issuer's JWKS through go-oidc's remote key set,
// caches it, refetches on an unknown key id at most once per
// [DefaultJWKSRefetchInterval] (OIDC-13), and ignores keys it cannot use
// (OIDC-14). It is safe for concurrent use; build one per (issuer, client)
// and keep it.
type IDVerifier struct {
	issuer   string
	clientID string
	trusted  []string
	now      func() time.Time
	oidc     *oidc.IDTokenVerifier
	jwks     *jwksTransport
}

// IDOption configures an [IDVerifier].
type IDOption func(*idOptions)

type idOptions struct {
	trusted  []string
	interval time.Duration
}

// WithTrustedAudiences lets id_tokens name these audiences besides the
// client id (OIDC Core §3.1.3.7 step 3). Any other audience is refused.
func WithTrustedAudiences(aud ...string) IDOption {
	return func(o *idOptions) { o.trusted = append(o.trusted, aud...) }
}

// WithJWKSRefetchInterval sets the least time between two JWKS fetches.
func WithJWKSRefetchInterval(d time.Duration) IDOption {
	return func(o *idOptions) { o.interval = d }
}

// NewIDVerifier returns a verifier for id_tokens issued by issuer (compared
// byte for byte, so a trailing slash matters: OIDC-01) to clientID, signed
// with one of algs (RS256 when empty; none and HMAC algorithms are never
// accepted) by a key published at jwksURL. hc fetches the JWKS (nil means a
// client with a 30 s timeout); now is the clock (nil means time.Now). ctx
// only carries values: the key set outlives it.
func NewIDVerifier(ctx context.Context, hc *http.Client, issuer, jwksURL, clientID string, algs []string, now func() time.Time, opts ...IDOption) *IDVerifier {
	o := idOptions{interval: DefaultJWKSRefetchInterval}
	for _, opt := range opts {
		opt(&o)
	}
	if now == nil {
		now = time.Now
	}
	if hc == nil {
		hc = defaultClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	jt := &jwksTransport{base: base, now: now, interval: o.interval}
	c := *hc
	c.Transport = jt
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(ctx, &c), jwksURL)

	var allowed []string
	for _, a := range algs {
		if a == "" || strings.EqualFold(a, "none") || strings.HasPrefix(strings.ToUpper(a), "HS") {
			continue // OIDC-09, OIDC-10: never none or a MAC keyed by anything public
		}
		allowed = append(allowed, a)
	}
	if len(allowed) == 0 {
		allowed = []string{oidc.RS256}
	}
	return &IDVerifier{
		issuer:   issuer,
		clientID: clientID,
		trusted:  o.trusted,
		now:      now,
		jwks:     jt,
		oidc: oidc.NewVerifier(issuer, keys, &oidc.Config{
			ClientID:             clientID,
			SupportedSigningAlgs: allowed,
			// exp and nbf are checked below with our leeway and clock.
			SkipExpiryCheck: true,
			Now:             now,
		}),
	}
}

// Verify checks an id_token from a code exchange: signature, iss, aud, azp,
// sub, exp, iat, the nonce sent with the authorization request, and at_hash
// against accessToken when present (OIDC Core §3.1.3.7, §3.1.3.8). A token
// without a nonce, or a call with an empty nonce, is refused.
func (v *IDVerifier) Verify(ctx context.Context, raw, nonce, accessToken string) (*IDClaims, error) {
	c, err := v.verify(ctx, raw, accessToken)
	if err != nil {
		return nil, err
	}
	if nonce == "" {
		return nil, fmt.Errorf("%w: no nonce to compare with", ErrInvalidIDToken)
	}
	if c.Nonce == "" {
		return nil, fmt.Errorf("%w: missing nonce", ErrInvalidIDToken)
	}
	if subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce mismatch", ErrInvalidIDToken)
	}
	return c, nil
}

// VerifyRefreshed checks an id_token from a refresh response against the
// claims of the original one (OIDC Core §12.2): the same iss, sub, aud, azp
// and, when present, auth_time; iat is new; a nonce, which should be
// absent, must otherwise equal the original.
func (v *IDVerifier) VerifyRefreshed(ctx context.Context, raw string, original *IDClaims, accessToken string) (*IDClaims, error) {
	if original == nil {
		return nil, fmt.Errorf("%w: no original claims to compare with", ErrInvalidIDToken)
	}
	c, err := v.verify(ctx, raw, accessToken)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Issuer != original.Issuer:
		return nil, fmt.Errorf("%w: refreshed iss differs from the original", ErrInvalidIDToken)
	case c.Subject != original.Subject:
		return nil, fmt.Errorf("%w: refreshed sub differs from the original", ErrInvalidIDToken)
	case !sameSet(c.Audience, original.Audience):
		return nil, fmt.Errorf("%w: refreshed aud differs from the original", ErrInvalidIDToken)
	case c.AuthorizedParty != original.AuthorizedParty:
		return nil, fmt.Errorf("%w: refreshed azp differs from the original", ErrInvalidIDToken)
	case !c.AuthTime.IsZero() && !c.AuthTime.Equal(original.AuthTime):
		return nil, fmt.Errorf("%w: refreshed auth_time differs from the original", ErrInvalidIDToken)
	case c.Nonce != "" && subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(original.Nonce)) != 1:
		return nil, fmt.Errorf("%w: refreshed nonce differs from the original", ErrInvalidIDToken)
	}
	return c, nil
}

// extraClaims are the claims go-oidc does not expose.
type extraClaims struct {
	AuthorizedParty string      `json:"azp"`
	AuthTime        json.Number `json:"auth_time"`
	NotBefore       json.Number `json:"nbf"`
	Email           string      `json:"email"`
	Name            string      `json:"name"`
}

// verify runs the checks common to Verify and VerifyRefreshed.
func (v *IDVerifier) verify(ctx context.Context, raw, accessToken string) (*IDClaims, error) {
	if raw == "" {
		return nil, fmt.Errorf("%w: missing", ErrInvalidIDToken)
	}
	idt, err := v.oidc.Verify(ctx, raw)
	if err != nil {
		if v.jwks.unavailable() {
			return nil, fmt.Errorf("%w: %w: %v", ErrInvalidIDToken, ErrKeysUnavailable, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidIDToken, err)
	}
	var x extraClaims
	if err := idt.Claims(&x); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalidIDToken, err)
	}
	c := &IDClaims{
		Issuer:          idt.Issuer,
		Subject:         idt.Subject,
		Nonce:           idt.Nonce,
		AuthorizedParty: x.AuthorizedParty,
		Email:           x.Email,
		Name:            x.Name,
		Audience:        idt.Audience,
		IssuedAt:        idt.IssuedAt,
		Expiry:          idt.Expiry,
		AtHash:          idt.AccessTokenHash,
	}
	if c.AuthTime, err = numericDate(x.AuthTime); err != nil {
		return nil, fmt.Errorf("%w: auth_time: %v", ErrInvalidIDToken, err)
	}
	nbf, err := numericDate(x.NotBefore)
	if err != nil {
		return nil, fmt.Errorf("%w: nbf: %v", ErrInvalidIDToken, err)
	}
	now := v.now()

	switch {
	case c.Issuer != v.issuer: // go-oidc checks too; OIDC-01
		return nil, fmt.Errorf("%w: iss %q, want %q", ErrInvalidIDToken, c.Issuer, v.issuer)
	case c.Subject == "": // OIDC-04
		return nil, fmt.Errorf("%w: missing sub", ErrInvalidIDToken)
	case !slices.Contains(c.Audience, v.clientID): // OIDC-02
		return nil, fmt.Errorf("%w: aud does not contain the client id", ErrInvalidIDToken)
	}
	for _, a := range c.Audience {
		if a != v.clientID && !slices.Contains(v.trusted, a) { // OIDC-02
			return nil, fmt.Errorf("%w: untrusted audience %q", ErrInvalidIDToken, a)
		}
	}
	switch {
	case len(c.Audience) > 1 && c.AuthorizedParty == "": // OIDC-03
		return nil, fmt.Errorf("%w: several audiences and no azp", ErrInvalidIDToken)
	case c.AuthorizedParty != "" && c.AuthorizedParty != v.clientID: // OIDC-03
		return nil, fmt.Errorf("%w: azp is not the client id", ErrInvalidIDToken)
	case c.Expiry.IsZero(): // OIDC-05
		return nil, fmt.Errorf("%w: missing exp", ErrInvalidIDToken)
	case !now.Before(c.Expiry.Add(leeway)): // OIDC-05
		return nil, fmt.Errorf("%w: expired at %s", ErrInvalidIDToken, c.Expiry.UTC().Format(time.RFC3339))
	case !nbf.IsZero() && now.Add(leeway).Before(nbf):
		return nil, fmt.Errorf("%w: not valid before %s", ErrInvalidIDToken, nbf.UTC().Format(time.RFC3339))
	case c.IssuedAt.IsZero(): // OIDC-06
		return nil, fmt.Errorf("%w: missing iat", ErrInvalidIDToken)
	case c.IssuedAt.After(now.Add(leeway)): // OIDC-06
		return nil, fmt.Errorf("%w: iat in the future", ErrInvalidIDToken)
	}
	if c.AtHash != "" { // OIDC-18, OIDC Core §3.1.3.8
		if accessToken == "" {
			return nil, fmt.Errorf("%w: at_hash present but no access token to check", ErrInvalidIDToken)
		}
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, fmt.Errorf("%w: at_hash does not match the access token", ErrInvalidIDToken)
		}
	}
	return c, nil
}

// numericDate reads an RFC 7519 NumericDate; empty gives the zero time.
func numericDate(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return time.Time{}, errors.New("not a numeric date")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

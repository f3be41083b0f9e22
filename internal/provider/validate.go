package provider

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// nameRE is the shape of provider names: they appear in URL paths and
// config keys.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// idTokenAlgs are the asymmetric JWS algorithms accepted for id_tokens
// (RFC 7518 §3.1). "none" and the HMAC family are never accepted.
var idTokenAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Validate reports every problem with p at once, joined with
// [errors.Join]; each message starts with the provider name and the YAML
// field. It checks that the fields a grant needs are present, that enums
// hold known values, that scopes are single tokens and include
// RefreshToken.RequiresScope, that an OIDC provider has an issuer, a JWKS
// URL and safe algorithms, and that every URL is absolute https without
// wildcards or credentials. With allowInsecureLoopback (dev mode), http is
// also accepted for loopback hosts (SEC-52).
func (p Provider) Validate(allowInsecureLoopback bool) error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("provider %s: %s: %s", p.Name, field, fmt.Sprintf(format, args...)))
	}
	checkURL := func(field, raw string, required bool) {
		if raw == "" {
			if required {
				add(field, "is required")
			}
			return
		}
		if err := CheckURL(raw, allowInsecureLoopback); err != nil {
			add(field, "%v", err)
		}
	}

	if !nameRE.MatchString(p.Name) {
		errs = append(errs, fmt.Errorf("provider %q: name: must be lowercase letters, digits and dashes", p.Name))
	}
	switch p.Grant {
	case AuthorizationCode, ClientCredentials, PartnerRefreshBearer:
	case "":
		add("grant", "is required")
	default:
		add("grant", "unknown value %q (want authorization_code, client_credentials or partner_refresh_bearer)", p.Grant)
	}
	switch p.TokenEncoding {
	case Form, JSON:
	case "":
		add("token_encoding", "is required")
	default:
		add("token_encoding", "unknown value %q (want form or json)", p.TokenEncoding)
	}
	switch p.ClientAuth {
	case ClientAuthBody, ClientAuthBasic:
	case "":
		add("client_auth", "is required")
	default:
		add("client_auth", "unknown value %q (want body or basic)", p.ClientAuth)
	}
	switch p.IssParameter {
	case "", IssOptional:
	case IssRequired:
		if p.Issuer == "" {
			add("iss_parameter", "required needs an issuer")
		}
	default:
		add("iss_parameter", "unknown value %q (want optional or required)", p.IssParameter)
	}
	if p.Refresh.MaxRefreshRate < 0 {
		add("refresh.max_refresh_rate", "must not be negative")
	}
	if p.Refresh.MaxRefreshBurst < 0 {
		add("refresh.max_refresh_burst", "must not be negative")
	}
	if p.Refresh.CircuitFailures < 0 {
		add("refresh.circuit_failures", "must not be negative")
	}
	switch p.RefreshToken.Rotation {
	case "", RotationNever:
	case RotationAlways, RotationMaybe:
		if p.Grant != AuthorizationCode {
			add("refresh_token.rotation", "%s is only meaningful for authorization_code", p.RefreshToken.Rotation)
		}
	default:
		add("refresh_token.rotation", "unknown value %q (want never, always or maybe)", p.RefreshToken.Rotation)
	}

	checkURL("issuer", p.Issuer, p.OIDC)
	checkURL("authorize_url", p.AuthorizeURL, p.Grant == AuthorizationCode)
	checkURL("token_url", p.TokenURL, true)
	checkURL("userinfo_url", p.UserinfoURL, false)
	checkURL("jwks_url", p.JWKSURL, p.OIDC)
	checkURL("revocation_url", p.RevocationURL, false)
	checkURL("api.base_url", p.API.BaseURL, true)
	if p.Grant != AuthorizationCode && p.AuthorizeURL != "" {
		add("authorize_url", "is only used by authorization_code")
	}
	if p.Grant != AuthorizationCode && p.RevocationURL != "" {
		add("revocation_url", "is only used by authorization_code (the refresh token is what is revoked)")
	}
	// Refresh tokens go only to the endpoints of the server that issued
	// them (RFC 6749 §10.4, SEC-34): the revocation endpoint must be on the
	// token endpoint's origin.
	if p.RevocationURL != "" && p.TokenURL != "" && origin(p.RevocationURL) != origin(p.TokenURL) {
		add("revocation_url", "must be on the same scheme, host and port as token_url (%s): it is sent the refresh token", origin(p.TokenURL))
	}

	for i, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			add(fmt.Sprintf("scopes[%d]", i), "%q is not a single scope token (RFC 6749 §3.3)", s)
		}
	}
	if rs := p.RefreshToken.RequiresScope; rs != "" && p.Grant == AuthorizationCode && !slices.Contains(p.Scopes, rs) {
		add("scopes", "must include %s, without which no refresh token is issued", rs)
	}
	if strings.Contains(p.Audience, "*") {
		add("audience", "must not contain a wildcard")
	}
	if p.Resource != "" {
		// RFC 8707 §2: an absolute URI without a fragment.
		if u, err := url.Parse(p.Resource); err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(p.Resource, "*") {
			add("resource", "%q must be an absolute URI without a fragment or wildcard (RFC 8707 §2)", p.Resource)
		}
	}
	for _, set := range []struct {
		field  string
		params map[string]string
	}{
		{"authorize_params", p.AuthorizeParams},
		{"token_params", p.TokenParams},
	} {
		for _, k := range slices.Sorted(maps.Keys(set.params)) {
			switch {
			case k == "" || strings.ContainsAny(k, " \t\r\n&=#"):
				add(set.field, "%q is not a parameter name", k)
			case slices.Contains(ReservedParams, k):
				add(set.field+"."+k, "grantd sets %s itself; remove it", k)
			case k == "audience" || k == "resource" || k == "scope":
				add(set.field+"."+k, "use the provider's %s field instead", map[string]string{"audience": "audience", "resource": "resource", "scope": "scopes"}[k])
			}
		}
	}

	if p.OIDC {
		if p.Grant != AuthorizationCode {
			add("oidc", "needs grant authorization_code")
		}
		if len(p.IDTokenAlgs) == 0 {
			add("id_token_algs", "is required when oidc is true")
		}
	}
	for i, alg := range p.IDTokenAlgs {
		if !slices.Contains(idTokenAlgs, alg) {
			add(fmt.Sprintf("id_token_algs[%d]", i), "%q is not accepted (want one of %s)", alg, strings.Join(idTokenAlgs, ", "))
		}
	}

	if p.AccessTokenTTL <= 0 {
		add("access_token_ttl", "must be positive")
	}
	abs, idle := p.RefreshToken.AbsoluteLifetime, p.RefreshToken.IdleLifetime
	if abs > 0 && idle > abs {
		add("refresh_token.idle_lifetime", "%s is longer than absolute_lifetime %s", idle.D(), abs.D())
	}
	if ri := p.RefreshToken.ReuseInterval; ri < 0 {
		add("refresh_token.reuse_interval", "must not be negative")
	} else if ri > 0 && p.RefreshToken.Rotation == RotationNever {
		add("refresh_token.reuse_interval", "applies only to rotating refresh tokens (rotation is never)")
	}
	return errors.Join(errs...)
}

// ReservedParams are the parameters grantd sets itself on authorization
// and token requests; authorize_params and token_params may not name them.
var ReservedParams = []string{
	"state", "nonce", "redirect_uri", "code_challenge", "code_challenge_method", "client_id",
	"response_type", "grant_type", "code", "code_verifier", "refresh_token", "client_secret",
	"client_assertion", "client_assertion_type",
}

// CheckURL reports whether raw is an acceptable endpoint URL: absolute,
// https, with a host, and without user information, a fragment or a
// wildcard. When allowInsecureLoopback is true (dev mode), http is also
// accepted if the host is loopback: localhost, 127.0.0.0/8 or ::1
// (RFC 9700 §2.6, SEC-52). Config uses it for public_url, redirect URIs
// and return_to allow-list entries too.
func CheckURL(raw string, allowInsecureLoopback bool) error {
	safe := strconv.Quote(SafeURL(raw))
	if strings.Contains(raw, "*") {
		return fmt.Errorf("%s must not contain a wildcard", safe)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a URL")
	}
	if !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%s is not an absolute URL", safe)
	}
	if u.User != nil {
		return fmt.Errorf("%s must not contain user information", safe)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%s must not contain a fragment", safe)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if !IsLoopback(u.Hostname()) {
			return fmt.Errorf("%s must use https (http is allowed only for loopback hosts in dev mode)", safe)
		}
		if !allowInsecureLoopback {
			return fmt.Errorf("%s must use https (http on loopback needs dev: true in the config, or serve --dev)", safe)
		}
		return nil
	default:
		return fmt.Errorf("%s must use https", safe)
	}
}

// IsLoopback reports whether host (without port) is localhost or a
// loopback IP address (127.0.0.0/8, ::1).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package oauthx

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Discovery is the part of an OpenID Provider's metadata (OpenID Connect
// Discovery 1.0 §3, RFC 8414 §2) that grantd uses.
type Discovery struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	IDTokenSigningAlgs            []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethods          []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParam bool     `json:"authorization_response_iss_parameter_supported"`
}

// DiscoveryURL returns where issuer publishes its metadata: the issuer
// without its trailing slash, then "/.well-known/openid-configuration"
// (Discovery §4; an Auth0 issuer such as "https://login.pax8.com/" ends
// with a slash).
func DiscoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// Discover fetches issuer's metadata and checks that it names issuer,
// byte for byte (Discovery §4.3, OIDC-16). A nil hc means a client with a
// 30 s timeout.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Discovery, error) {
	body, err := getJSON(ctx, hc, "discovery", DiscoveryURL(issuer), "")
	if err != nil {
		return nil, err
	}
	var d Discovery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("discovery: decode metadata: %w", err)
	}
	if d.Issuer != issuer {
		return nil, fmt.Errorf("discovery: metadata names issuer %q, want %q", d.Issuer, issuer)
	}
	return &d, nil
}

// CheckDiscovery fails when issuer's metadata cannot be fetched or names
// another issuer (OIDC-16): a provider config with that issuer must not be
// used.
func CheckDiscovery(ctx context.Context, hc *http.Client, issuer string) error {
	_, err := Discover(ctx, hc, issuer)
	return err
}

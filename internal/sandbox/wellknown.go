package sandbox

import (
	"net/http"
)

// handleJWKS serves the JSON Web Key Set. A jwks_bad_key fault adds an
// unparseable key beside the good ones (OIDC-14); jwks_unavailable and an
// outage answer 503 (or the fault's status), so that no key can be fetched.
func (s *Server) handleJWKS(p *provider, w http.ResponseWriter, r *http.Request) {
	f, faulted := s.faults.take(p.name, endpointJWKS, "", nil)
	if faulted && (f.Kind == "jwks_unavailable" || f.Kind == kindOutage) {
		http.Error(w, "503 Service Unavailable (sandbox fault "+f.Kind+")", statusOr(f.Status, http.StatusServiceUnavailable))
		return
	}
	b, err := s.keys.jwks(faulted && f.Kind == "jwks_bad_key")
	if err != nil {
		s.log.Error("sandbox jwks", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// discovery is the OpenID Provider Metadata document (OpenID Connect
// Discovery 1.0 §3, RFC 8414 §2, RFC 9207 §3).
type discovery struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	RevocationEndpoint            string   `json:"revocation_endpoint,omitempty"`
	ScopesSupported               []string `json:"scopes_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	ResponseModesSupported        []string `json:"response_modes_supported"`
	CodeChallengeMethods          []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported           []string `json:"grant_types_supported"`
	SubjectTypesSupported         []string `json:"subject_types_supported"`
	IDTokenSigningAlgs            []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported               []string `json:"claims_supported"`
	AuthorizationResponseIssParam bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
}

func (s *Server) handleDiscovery(p *provider, w http.ResponseWriter, r *http.Request) {
	e := s.Endpoints(p.name)
	var scopes []string
	for _, sc := range p.d.scopes {
		scopes = append(scopes, sc.Name)
	}
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                        e.Issuer,
		AuthorizationEndpoint:         e.AuthorizeURL,
		TokenEndpoint:                 e.TokenURL,
		UserinfoEndpoint:              e.UserinfoURL,
		JWKSURI:                       e.JWKSURL,
		RevocationEndpoint:            e.RevocationURL,
		ScopesSupported:               scopes,
		ResponseTypesSupported:        []string{"code"},
		ResponseModesSupported:        []string{"query"},
		CodeChallengeMethods:          []string{"S256"},
		GrantTypesSupported:           []string{grantAuthorizationCode, grantRefreshToken, grantClientCredentials},
		SubjectTypesSupported:         []string{"public"},
		IDTokenSigningAlgs:            []string{"RS256"},
		TokenEndpointAuthMethods:      []string{"client_secret_basic", "client_secret_post"},
		ClaimsSupported:               []string{"aud", "auth_time", "email", "email_verified", "exp", "iat", "iss", "name", "nickname", "nonce", "sub", "updated_at"},
		AuthorizationResponseIssParam: s.settings(p.name).SendIss,
	})
}

package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

var errNoBearer = errors.New("no bearer token")

// verifyAccess checks the bearer access token of r: an RS256 JWT from one of
// the sandbox's keys, issued by p, unexpired on the sandbox clock, whose
// grant was not revoked. It returns the token's claims.
func (s *Server) verifyAccess(p *provider, r *http.Request) (map[string]any, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, errNoBearer
	}
	claims, err := s.keys.verify(strings.TrimSpace(tok))
	if err != nil {
		return nil, err
	}
	if iss, _ := claims["iss"].(string); iss != s.Issuer(p.name) {
		return nil, fmt.Errorf("%w: issuer %q", errBadToken, iss)
	}
	exp, _ := claims["exp"].(float64)
	if float64(s.Now().Unix()) >= exp {
		return nil, fmt.Errorf("%w: expired", errBadToken)
	}
	jti, _ := claims["jti"].(string)
	p.mu.Lock()
	a, known := p.accessGrant[jti]
	revoked := a.familyID != "" && p.families[a.familyID] != nil && p.families[a.familyID].revoked
	p.mu.Unlock()
	if !known || revoked {
		return nil, fmt.Errorf("%w: revoked", errBadToken)
	}
	return claims, nil
}

// audiences returns the aud claim as a list (RFC 7519 §4.1.3 allows a
// string or an array).
func audiences(claims map[string]any) []string {
	switch v := claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func hasScope(claims map[string]any, scope string) bool {
	s, _ := claims["scope"].(string)
	return slices.Contains(strings.Fields(s), scope)
}

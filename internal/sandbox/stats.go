package sandbox

import (
	"maps"
	"strconv"
)

// Stats are the sandbox's counters, by provider. They are exact under
// concurrency: each request is counted once, under the provider's lock.
type Stats struct {
	Providers map[string]ProviderStats `json:"providers"`
}

// ProviderStats are the counters of one personality.
type ProviderStats struct {
	AuthorizeRequests int `json:"authorize_requests"`
	// TokenRequests counts token-endpoint requests by grant_type
	// ("authorization_code", "refresh_token", "client_credentials" or
	// "other") and outcome: "ok", the OAuth error code returned, or the
	// fault kind that replaced the response.
	TokenRequests map[string]map[string]int `json:"token_requests"`
	// TokenRateLimited counts token requests refused with 429 by
	// Settings.TokenRateLimit; each is also in TokenRequests under the
	// outcome "too_many_requests" (a rate_limited fault counts there as
	// "rate_limited" instead).
	TokenRateLimited int `json:"token_rate_limited"`
	// CodeExchangesMaxPerCode is the highest number of exchanges of any
	// one authorization code (1 when no code was replayed; SEC-30).
	CodeExchangesMaxPerCode int `json:"code_exchanges_max_per_code"`
	RefreshReuseDetected    int `json:"refresh_reuse_detected"`
	FamiliesRevoked         int `json:"families_revoked"`
	// Revocations counts revocation requests answered 200 (RFC 7009 §2.2),
	// including those for unknown tokens, which revoke nothing.
	Revocations      int `json:"revocations"`
	UserinfoRequests int `json:"userinfo_requests"`
	// APICalls counts emulated API responses by HTTP status.
	APICalls map[string]int `json:"api_calls"`
}

func newProviderStats() ProviderStats {
	return ProviderStats{TokenRequests: map[string]map[string]int{}, APICalls: map[string]int{}}
}

func (ps ProviderStats) clone() ProviderStats {
	out := ps
	out.TokenRequests = make(map[string]map[string]int, len(ps.TokenRequests))
	for g, m := range ps.TokenRequests {
		out.TokenRequests[g] = maps.Clone(m)
	}
	out.APICalls = maps.Clone(ps.APICalls)
	return out
}

// Stats returns a snapshot of every provider's counters.
func (s *Server) Stats() Stats {
	st := Stats{Providers: map[string]ProviderStats{}}
	for name, p := range s.providers {
		p.mu.Lock()
		st.Providers[name] = p.stats.clone()
		p.mu.Unlock()
	}
	return st
}

// ResetStats sets every counter to zero.
func (s *Server) ResetStats() {
	for _, p := range s.providers {
		p.mu.Lock()
		p.stats = newProviderStats()
		p.mu.Unlock()
	}
}

func grantKey(grant string) string {
	switch grant {
	case grantAuthorizationCode, grantRefreshToken, grantClientCredentials:
		return grant
	}
	return "other"
}

func (p *provider) countToken(grant, outcome string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := grantKey(grant)
	m := p.stats.TokenRequests[g]
	if m == nil {
		m = map[string]int{}
		p.stats.TokenRequests[g] = m
	}
	m[outcome]++
}

func (p *provider) countAPI(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.APICalls[strconv.Itoa(status)]++
}

func (p *provider) countAuthorize() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.AuthorizeRequests++
}

func (p *provider) countUserinfo() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.UserinfoRequests++
}

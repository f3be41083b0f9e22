package sandbox

import (
	"net/http"
)

// handleRevoke is Auth0's token revocation endpoint, POST /oauth/revoke
// (RFC 7009 §2). The client authenticates as at the token endpoint (HTTP
// Basic or the body, JSON or form; a secret in the URL is refused, and a
// wrong client gets the dialect's 401). A refresh token of the client is
// revoked with its whole family, as Auth0 revokes the grant. An unknown
// token, or one issued to another client, revokes nothing and still gets
// 200 with an empty body (RFC 7009 §2.2; not telling one client about
// another's tokens is [inferred]). token_type_hint is ignored, which
// §2.1 allows. Faults on the "revoke" endpoint replace the answer.
func (s *Server) handleRevoke(p *provider, w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("client_secret") { // SEC-38
		writeTokenError(w, errInvalidRequest("client_secret must not be sent in the URL"))
		return
	}
	p.mu.Lock()
	st := p.settings
	p.mu.Unlock()
	tr, oerr := parseTokenRequest(r, p.d, st)
	if oerr != nil {
		writeTokenError(w, oerr)
		return
	}
	if f, ok := s.faults.take(p.name, endpointRevoke, "", nil); ok {
		if s.preTokenFault(w, r, p.d, "", tr.raw, f) || r.Context().Err() != nil {
			return
		}
	}
	client, oerr := p.authenticateClient(r, tr)
	if oerr != nil {
		writeTokenError(w, oerr)
		return
	}
	token := tr.get("token")
	if token == "" {
		writeTokenError(w, errInvalidRequest("Missing required parameter: token"))
		return
	}
	p.mu.Lock()
	revoked := false
	if rt := p.refresh[token]; rt != nil {
		if fam := p.families[rt.familyID]; fam != nil && fam.clientID == client.ID {
			revoked = p.revokeLocked(fam)
		}
	}
	p.stats.Revocations++
	p.mu.Unlock()
	if revoked {
		s.log.Info("sandbox refresh token family revoked", "provider", p.name, "client_id", client.ID)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

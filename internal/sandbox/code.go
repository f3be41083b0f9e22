package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"regexp"
	"slices"
	"time"
)

// pkceVerifier is RFC 7636 §4.1: 43-128 unreserved characters.
var pkceVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// verifyPKCE reports whether BASE64URL(SHA256(verifier)) equals the S256
// challenge (RFC 7636 §4.6; SEC-04, SEC-05).
func verifyPKCE(challenge, verifier string) bool {
	if !pkceVerifier.MatchString(verifier) {
		return false
	}
	d := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(b64(d[:])), []byte(challenge)) == 1
}

// exchangeCode is the authorization-code grant (RFC 6749 §4.1.3). A code
// is single use: every exchange attempt counts, and a second one revokes
// the grant the first produced (RFC 6749 §4.1.2; SEC-30).
func (s *Server) exchangeCode(p *provider, tr tokenRequest, client Client, st Settings, now time.Time, f Fault) (map[string]any, *oauthError) {
	code := tr.get("code")
	if code == "" {
		return nil, errInvalidRequest("Missing required parameter: code")
	}
	p.mu.Lock()
	ac := p.codes[code]
	if ac == nil {
		p.mu.Unlock()
		return nil, p.d.invalidGrant(grantAuthorizationCode)
	}
	ac.exchanges++
	p.stats.CodeExchangesMaxPerCode = max(p.stats.CodeExchangesMaxPerCode, ac.exchanges)
	if ac.exchanges > 1 {
		if fam := p.families[ac.familyID]; fam != nil && p.revokeLocked(fam) {
			s.log.Warn("sandbox code replayed, grant revoked", "provider", p.name, "client_id", client.ID)
		}
		p.mu.Unlock()
		return nil, p.d.invalidGrant(grantAuthorizationCode)
	}
	var oerr *oauthError
	switch {
	case ac.clientID != client.ID, !now.Before(ac.expires):
		oerr = p.d.invalidGrant(grantAuthorizationCode)
	case tr.get("redirect_uri") != ac.redirectURI: // SEC-08
		oerr = &oauthError{403, "invalid_grant", "redirect_uri does not match the authorization request"}
	case ac.challenge != "" && !verifyPKCE(ac.challenge, tr.get("code_verifier")): // SEC-05
		oerr = &oauthError{403, "invalid_grant", "Failed to verify code verifier"}
	case ac.challenge == "" && tr.get("code_verifier") != "":
		oerr = &oauthError{403, "invalid_grant", "code_verifier sent but the authorization request had no code_challenge"}
	}
	if oerr != nil {
		p.mu.Unlock()
		if p.d.rfcErrors {
			oerr.Status = http.StatusBadRequest // RFC 6749 §5.2
		}
		return nil, oerr
	}
	scopes := ac.scopes
	if f.Kind == "scope_narrowed" {
		scopes = narrowScopes(scopes)
	}
	fam := &family{
		id: randomToken(16), clientID: client.ID, subject: ac.subject, audience: ac.audience,
		scopes: scopes, authTime: ac.authTime, absoluteExp: now.Add(st.RefreshAbsolute),
	}
	p.families[fam.id] = fam
	ac.familyID = fam.id
	var rt string
	if p.d.refreshScope == "" || slices.Contains(scopes, p.d.refreshScope) {
		rt = p.mintRefreshLocked(fam, st, now)
	}
	p.mu.Unlock()
	resp, err := s.issueTokens(p, issue{
		client: client, subject: ac.subject, audience: ac.audience, scopes: scopes,
		nonce: ac.nonce, authTime: ac.authTime, familyID: fam.id,
	}, st, now, f)
	if err != nil {
		s.log.Error("sandbox issue tokens", "err", err)
		return nil, &oauthError{500, "server_error", "could not issue tokens"}
	}
	if rt != "" {
		resp["refresh_token"] = rt
	}
	return resp, nil
}

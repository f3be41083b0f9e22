package sandbox

import (
	"slices"
	"strings"
	"time"
)

// mintRefreshLocked creates a refresh token in fam; p.mu must be held. Its
// idle expiry starts now; the family's absolute expiry bounds it too.
func (p *provider) mintRefreshLocked(fam *family, st Settings, now time.Time) string {
	v := "v1." + randomToken(48)
	p.refresh[v] = &refreshToken{familyID: fam.id, idleExp: now.Add(st.RefreshIdle)}
	return v
}

// refreshGrant is the refresh-token grant (RFC 6749 §6) with Auth0's
// rotation: each use consumes the token and returns a new one of the same
// family; presenting a consumed token revokes the family (RFC 9700
// §4.14.2), unless it is the immediately previous token presented again
// within the reuse interval. Absolute and idle lifetimes run on the
// sandbox clock. With rotation off the token stays valid and the response
// carries no refresh_token.
func (s *Server) refreshGrant(p *provider, tr tokenRequest, client Client, st Settings, now time.Time, f Fault) (map[string]any, *oauthError) {
	value := tr.get("refresh_token")
	if value == "" {
		return nil, errInvalidRequest("Missing required parameter: refresh_token")
	}
	p.mu.Lock()
	rt := p.refresh[value]
	var fam *family
	if rt != nil {
		fam = p.families[rt.familyID]
	}
	if rt == nil || fam == nil || fam.revoked || fam.clientID != client.ID ||
		!now.Before(fam.absoluteExp) || !now.Before(rt.idleExp) {
		p.mu.Unlock()
		return nil, p.d.invalidGrant(grantRefreshToken)
	}
	var next string
	switch {
	case rt.consumed:
		if st.ReuseInterval > 0 && fam.previous == value && now.Sub(rt.consumedAt) <= st.ReuseInterval {
			next = p.mintRefreshLocked(fam, st, now)
			break
		}
		p.stats.RefreshReuseDetected++
		p.revokeLocked(fam)
		p.mu.Unlock()
		s.log.Warn("sandbox refresh token reuse detected, family revoked", "provider", p.name, "client_id", client.ID)
		return nil, p.d.invalidGrant(grantRefreshToken)
	case st.Rotation || p.d.alwaysRotate:
		rt.consumed, rt.consumedAt = true, now
		fam.previous = value
		next = p.mintRefreshLocked(fam, st, now)
	default:
		rt.idleExp = now.Add(st.RefreshIdle)
	}
	scopes := fam.scopes
	if req := tr.get("scope"); req != "" {
		// Narrowing only, never widening (RFC 6749 §6).
		var narrowed []string
		for sc := range strings.FieldsSeq(req) {
			if slices.Contains(fam.scopes, sc) && !slices.Contains(narrowed, sc) {
				narrowed = append(narrowed, sc)
			}
		}
		if len(narrowed) == 0 {
			p.mu.Unlock()
			return nil, &oauthError{403, "invalid_scope", "The requested scope exceeds the grant"}
		}
		scopes = narrowed
	}
	subject, aud, authTime, famID := fam.subject, fam.audience, fam.authTime, fam.id
	p.mu.Unlock()
	if f.Kind == "scope_narrowed" {
		scopes = narrowScopes(scopes)
	}
	resp, err := s.issueTokens(p, issue{
		client: client, subject: subject, audience: aud, scopes: scopes,
		authTime: authTime, familyID: famID,
	}, st, now, f)
	if err != nil {
		s.log.Error("sandbox issue tokens", "err", err)
		return nil, &oauthError{500, "server_error", "could not issue tokens"}
	}
	if next != "" {
		resp["refresh_token"] = next
	}
	return resp, nil
}

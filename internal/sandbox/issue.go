package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// idTokenTTL is Auth0's default id_token lifetime (36,000 s).
const idTokenTTL = 10 * time.Hour

// issue describes the tokens of one token response.
type issue struct {
	client   Client
	subject  string
	audience string
	scopes   []string
	nonce    string
	authTime time.Time
	familyID string
	// clientCredentials marks an M2M token (gty, no id_token).
	clientCredentials bool
	// scope overrides the scope claim of client-credentials tokens.
	scope string
}

// narrowScopes implements the scope_narrowed fault: it drops
// Manage:Pax8Data when other scopes remain, else the last scope.
func narrowScopes(scopes []string) []string {
	if len(scopes) <= 1 {
		return nil
	}
	if i := slices.Index(scopes, scopeManage); i >= 0 {
		return slices.Delete(slices.Clone(scopes), i, i+1)
	}
	return slices.Clone(scopes[:len(scopes)-1])
}

// issueTokens signs the access token and, with openid, the id_token, and
// returns the response fields of RFC 6749 §5.1 (without refresh_token).
// The fault, if any, shapes the id_token (security-checklist §2.3).
func (s *Server) issueTokens(p *provider, in issue, st Settings, now time.Time, f Fault) (map[string]any, error) {
	iss := s.Issuer(p.name)
	if f.Kind == "id_token_unknown_kid_rotated" {
		if _, err := s.keys.rotate(); err != nil {
			return nil, fmt.Errorf("rotate signing key: %w", err)
		}
	}
	key := s.keys.signer()
	jti := randomToken(16)
	openid := !in.clientCredentials && slices.Contains(in.scopes, scopeOpenID)
	at := map[string]any{
		"iss": iss,
		"sub": in.subject,
		"azp": in.client.ID,
		"iat": now.Unix(),
		"exp": now.Add(st.AccessTTL).Unix(),
		"jti": jti,
	}
	scope := strings.Join(in.scopes, " ")
	if in.clientCredentials {
		scope = in.scope
		at["gty"] = "client-credentials"
	}
	if scope != "" {
		at["scope"] = scope
	}
	if openid || p.d.audiences == nil {
		// Without an audience parameter (Paxful) one token serves both
		// the API and userinfo.
		at["aud"] = []string{in.audience, s.Endpoints(p.name).UserinfoURL}
	} else {
		at["aud"] = in.audience
	}
	access, err := signJWT(key, algRS256, false, at)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.pruneTokensLocked(now)
	p.accessGrant[jti] = accessEntry{familyID: in.familyID, expires: now.Add(st.AccessTTL)}
	p.mu.Unlock()
	resp := map[string]any{
		"access_token": access,
		"expires_in":   int64(st.AccessTTL / time.Second),
		"token_type":   "Bearer",
	}
	if scope != "" {
		resp["scope"] = scope
	}
	if openid {
		idt, err := s.idToken(p.d, iss, key, access, in, now, f)
		if err != nil {
			return nil, err
		}
		resp["id_token"] = idt
	}
	return resp, nil
}

// idToken builds the OIDC id_token (OIDC Core §2), misbehaving as the fault
// says.
func (s *Server) idToken(d *dialect, iss string, key *signingKey, access string, in issue, now time.Time, f Fault) (string, error) {
	c := map[string]any{
		"iss":       iss,
		"sub":       in.subject,
		"aud":       in.client.ID,
		"iat":       now.Unix(),
		"exp":       now.Add(idTokenTTL).Unix(),
		"auth_time": in.authTime.Unix(),
		"at_hash":   halfHash(access),
	}
	if in.nonce != "" {
		c["nonce"] = in.nonce
	}
	if acct, ok := d.accountBySubject(in.subject); ok {
		d.profile(acct, in.scopes, false, c)
	}
	const untrusted = "https://untrusted.example"
	alg, noKid, badSig := algRS256, false, false
	switch f.Kind {
	case "id_token_iss_mismatch":
		c["iss"] = strings.TrimSuffix(iss, "/") + "-other/"
	case "id_token_iss_trailing_slash":
		c["iss"] = strings.TrimSuffix(iss, "/")
	case "id_token_no_aud":
		delete(c, "aud")
	case "id_token_wrong_aud":
		c["aud"] = "some-other-client"
	case "id_token_extra_aud":
		c["aud"] = []string{in.client.ID, untrusted}
		c["azp"] = in.client.ID
	case "id_token_multi_aud_no_azp":
		c["aud"] = []string{in.client.ID, untrusted}
	case "id_token_wrong_azp":
		c["azp"] = "some-other-client"
	case "id_token_no_sub":
		delete(c, "sub")
	case "id_token_other_sub":
		c["sub"] = "auth0|someone-else"
	case "id_token_expired":
		c["iat"] = now.Add(-2 * time.Hour).Unix()
		c["exp"] = now.Add(-time.Hour).Unix()
	case "id_token_no_iat":
		delete(c, "iat")
	case "id_token_future_iat":
		c["iat"] = now.Add(time.Hour).Unix()
		c["exp"] = now.Add(time.Hour + idTokenTTL).Unix()
	case "id_token_no_nonce":
		delete(c, "nonce")
	case "id_token_wrong_nonce":
		c["nonce"] = "not-the-nonce-you-sent"
	case "id_token_bad_at_hash":
		c["at_hash"] = halfHash(access + "x")
	case "id_token_bad_signature":
		badSig = true
	case "id_token_alg_none":
		alg = algNone
	case "id_token_hs256":
		alg = algHS256PublicKey
	case "id_token_no_kid":
		noKid = true
	}
	tok, err := signJWT(key, alg, noKid, c)
	if err != nil {
		return "", err
	}
	if badSig {
		tok = corruptSignature(tok)
	}
	return tok, nil
}

// corruptSignature changes one character in the middle of the signature,
// keeping it valid base64url.
func corruptSignature(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 20
	b := []byte(tok)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// clientCredentials is the client-credentials grant (RFC 6749 §4.4) as
// Pax8 documents it: audience required, one day, no refresh token.
func (s *Server) clientCredentials(p *provider, tr tokenRequest, client Client, st Settings, now time.Time) (map[string]any, *oauthError) {
	aud := tr.get("audience")
	if aud == "" {
		return nil, &oauthError{403, "access_denied", "audience is required"}
	}
	scope, ok := clientCredentialsScopes[aud]
	if !ok {
		return nil, &oauthError{403, "access_denied", "Service not found: " + aud}
	}
	resp, err := s.issueTokens(p, issue{
		client: client, subject: client.ID + "@clients", audience: aud,
		clientCredentials: true, scope: scope,
	}, st, now, Fault{})
	if err != nil {
		s.log.Error("sandbox issue tokens", "err", err)
		return nil, &oauthError{500, "server_error", "could not issue tokens"}
	}
	return resp, nil
}

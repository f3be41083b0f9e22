package broker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// grant is a token response checked and sealed for one connection row.
type grant struct {
	access, refresh, id store.Sealed
	tokenType           string
	scopes              []string
	accessExpiresAt     time.Time
	idToken             string
	accessToken         string
}

// newGrant checks a token response and seals its secrets for connection
// connID. oauthx has already rejected a missing access_token, an unknown
// token_type (SEC-31) and a bad expires_in.
func (b *Broker) newGrant(_ context.Context, p provider.Provider, connID string, tok *oauthx.Token, now time.Time) (grant, error) {
	g := grant{tokenType: "Bearer", scopes: tok.Scope, idToken: tok.IDToken, accessToken: tok.AccessToken}
	g.accessExpiresAt = tok.Expiry
	if g.accessExpiresAt.IsZero() && p.AccessTokenTTL > 0 {
		g.accessExpiresAt = now.Add(p.AccessTokenTTL.D())
	}
	var err error
	if g.access, err = b.seal("connection", connID, "access_token", tok.AccessToken); err != nil {
		return grant{}, errorf(CodeInternal, err, "token cannot be stored")
	}
	if g.refresh, err = b.seal("connection", connID, "refresh_token", tok.RefreshToken); err != nil {
		return grant{}, errorf(CodeInternal, err, "token cannot be stored")
	}
	if g.id, err = b.seal("connection", connID, "id_token", tok.IDToken); err != nil {
		return grant{}, errorf(CodeInternal, err, "token cannot be stored")
	}
	return g, nil
}

// apply writes g into c. A response without refresh_token keeps the stored
// one (RFC 6749 §6, SEC-33, RT-07); one without scope keeps the stored
// scopes (RFC 6749 §5.1). Each use resets the inactivity clock.
func (g grant) apply(c *store.Connection, p provider.Provider, now time.Time) {
	c.AccessToken = g.access
	c.TokenType = g.tokenType
	c.AccessExpiresAt = g.accessExpiresAt
	if len(g.refresh) > 0 {
		c.RefreshToken = g.refresh
	}
	if len(g.id) > 0 {
		c.IDToken = g.id
	}
	if g.scopes != nil {
		c.Scopes = g.scopes
	}
	c.LastRefreshAt = now
	if idle := p.RefreshToken.IdleLifetime.D(); idle > 0 && len(c.RefreshToken) > 0 {
		c.RefreshIdleExpiresAt = now.Add(idle)
		if !c.RefreshExpiresAt.IsZero() && c.RefreshExpiresAt.Before(c.RefreshIdleExpiresAt) {
			c.RefreshIdleExpiresAt = c.RefreshExpiresAt
		}
	}
	c.FailureCount = 0
	c.NextAttemptAt = time.Time{}
	c.LastError = ""
	clearJournal(c)
}

// verifier returns the cached id_token verifier for an issuer and client.
func (b *Broker) verifier(ctx context.Context, p provider.Provider, clientID string) *oauthx.IDVerifier {
	key := p.Issuer + "\x00" + p.JWKSURL + "\x00" + clientID
	b.verifiersMu.Lock()
	defer b.verifiersMu.Unlock()
	v, ok := b.verifiers[key]
	if !ok {
		v = oauthx.NewIDVerifier(context.WithoutCancel(ctx), b.hc, p.Issuer, p.JWKSURL, clientID, p.IDTokenAlgs, b.now)
		b.verifiers[key] = v
	}
	return v
}

// checkRefreshedIDToken applies OIDC Core §12.2 to an id_token from a
// refresh response (OIDC-15): a valid signature, iss, aud and exp, and the
// same iss, sub, aud, azp and auth_time as the one stored at connect time,
// with the original nonce carried into the comparison (a refreshed
// id_token should have none; if it has one, it must be the original's).
// Only an unreachable JWKS is forgiven: the identity claims still have to
// match, the gap is logged and counted, and the tokens are kept, because
// they came straight from the token endpoint over TLS (OIDC Core §3.1.3.7
// step 6). A failure of the id_token wraps [oauthx.ErrInvalidIDToken];
// any other error is grantd's own (the store, the vault), says nothing
// against the answer, and is returned unwrapped.
func (b *Broker) checkRefreshedIDToken(ctx context.Context, p provider.Provider, c store.Connection, g grant) error {
	var in store.Integration
	err := b.holding(ctx, c.ID, func() (err error) {
		in, err = b.st.GetIntegration(ctx, c.IntegrationID)
		return err
	})
	if err != nil {
		return err
	}
	raw, err := b.open("connection", c.ID, "id_token", c.IDToken)
	if err != nil {
		return err
	}
	orig, err := unverifiedIDClaims(raw)
	if err != nil {
		return err
	}
	next, err := unverifiedIDClaims(g.idToken)
	if err != nil {
		return fmt.Errorf("%w: %v", oauthx.ErrInvalidIDToken, err)
	}
	if err := sameIdentity(orig, next); err != nil {
		return fmt.Errorf("%w: %v", oauthx.ErrInvalidIDToken, err)
	}
	_, err = b.verifier(ctx, p, in.ClientID).VerifyRefreshed(ctx, g.idToken, orig, g.accessToken)
	if errors.Is(err, oauthx.ErrKeysUnavailable) {
		b.metrics.Refreshes.WithLabelValues(p.Name, "id_token_unverified").Inc()
		b.log.WarnContext(ctx, "refreshed id_token not verified: the provider's signing keys are unreachable; keeping tokens from the token endpoint", "connection_id", c.ID, "err", err)
		return nil
	}
	return err
}

// rejectRefreshed handles a refresh answer whose id_token failed
// checkRefreshedIDToken. The refresh token in it is kept (the provider has
// already spent the one sent), no access token from it is handed out or
// stored, and the connection is marked needs_reauth with the reason: the
// answer may not be the partner's.
func (b *Broker) rejectRefreshed(ctx context.Context, p provider.Provider, c store.Connection, g grant, cause error) error {
	b.metrics.Refreshes.WithLabelValues(p.Name, "id_token_rejected").Inc()
	reason := "the refreshed id_token failed verification (OIDC Core §12.2): " + idTokenProblem(cause)
	nc, err := b.st.UpdateConnection(ctx, c.ID, func(cur store.Connection) (store.Connection, error) {
		if !b.stillOurs(cur, c) {
			return cur, store.ErrConflict
		}
		if len(g.refresh) > 0 {
			cur.RefreshToken = g.refresh
			cur.ObservedRotation = store.RotationRotates
		}
		clearJournal(&cur)
		cur.Status = store.StatusNeedsReauth
		cur.LastError = reason
		if cur.LeaseOwner == b.owner {
			cur.LeaseOwner, cur.LeaseExpiresAt = "", time.Time{}
		}
		return cur, nil
	})
	b.cache.drop(c.ID)
	if err != nil {
		b.release(ctx, c.ID)
		b.log.ErrorContext(ctx, "store rejected refresh", "connection_id", c.ID, "err", err)
		return errorf(CodeInternal, err, "connection %s could not be updated", c.ID)
	}
	b.event(ctx, nc, "needs_reauth", reason)
	return errorf(CodeIDToken, cause, "connection %s needs reauthorization: %s", c.ID, reason)
}

// idTokenProblem is a short, secret-free description of an id_token
// failure, fit for last_error and events.
func idTokenProblem(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, oauthx.ErrInvalidIDToken.Error()+": ")
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return strings.ToValidUTF8(msg, "")
}

// sameIdentity compares the claims OIDC Core §12.2 requires to be equal.
func sameIdentity(a, b *oauthx.IDClaims) error {
	switch {
	case a.Issuer != b.Issuer:
		return fmt.Errorf("refreshed id_token iss differs")
	case a.Subject != b.Subject:
		return fmt.Errorf("refreshed id_token sub differs")
	case !slices.Equal(a.Audience, b.Audience):
		return fmt.Errorf("refreshed id_token aud differs")
	case a.AuthorizedParty != b.AuthorizedParty:
		return fmt.Errorf("refreshed id_token azp differs")
	case !b.AuthTime.IsZero() && !a.AuthTime.Equal(b.AuthTime):
		return fmt.Errorf("refreshed id_token auth_time differs")
	}
	return nil
}

// unverifiedClaims decodes a JWT's payload without checking its signature.
// It is only used on tokens grantd verified before storing them, and to
// read the aud of a JWT access token (SEC-12).
func unverifiedClaims(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	return m, nil
}

func unverifiedIDClaims(raw string) (*oauthx.IDClaims, error) {
	m, err := unverifiedClaims(raw)
	if err != nil {
		return nil, err
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	unix := func(k string) time.Time {
		if f, ok := m[k].(float64); ok {
			return time.Unix(int64(f), 0).UTC()
		}
		return time.Time{}
	}
	return &oauthx.IDClaims{
		Issuer:          str("iss"),
		Subject:         str("sub"),
		AuthorizedParty: str("azp"),
		Nonce:           str("nonce"),
		Email:           str("email"),
		Name:            str("name"),
		Audience:        audience(m),
		IssuedAt:        unix("iat"),
		Expiry:          unix("exp"),
		AuthTime:        unix("auth_time"),
	}, nil
}

// audience reads a JWT aud claim, which may be a string or a list.
func audience(m map[string]any) []string {
	switch v := m["aud"].(type) {
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

// tokenParams returns a new map of p's static token parameters plus its
// RFC 8707 resource (§2.2), for the caller to add its own to.
func tokenParams(p provider.Provider) map[string]string {
	m := make(map[string]string, len(p.TokenParams)+6)
	maps.Copy(m, p.TokenParams)
	if p.Resource != "" {
		m["resource"] = p.Resource
	}
	return m
}

// checkAudience checks the access token's audience against what was asked
// for, whichever parameter carried it: audience (Auth0) or resource
// (RFC 8707). An opaque token cannot be checked; that is logged, so a
// provider answering for the wrong API is not silent.
func (b *Broker) checkAudience(ctx context.Context, p provider.Provider, accessToken, audience string) error {
	for _, want := range []string{audience, p.Resource} {
		if err := checkAccessAudience(accessToken, want); err != nil {
			return err
		}
	}
	if audience != "" || p.Resource != "" {
		if _, err := unverifiedClaims(accessToken); err != nil {
			b.log.InfoContext(ctx, "access token is opaque; its audience cannot be checked",
				"provider", p.Name, "audience", audience, "resource", p.Resource)
		}
	}
	return nil
}

// checkAccessAudience rejects a JWT access token whose aud does not name
// the audience grantd asked for (SEC-12). Opaque tokens pass: only the
// provider can read them.
func checkAccessAudience(accessToken, want string) error {
	if want == "" {
		return nil
	}
	m, err := unverifiedClaims(accessToken)
	if err != nil {
		return nil
	}
	if aud := audience(m); aud != nil && !slices.Contains(aud, want) {
		return fmt.Errorf("access token audience %q does not include %q", aud, want)
	}
	return nil
}

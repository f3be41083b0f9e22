package broker

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"time"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// Connected is the result of a callback. On failure only the fields
// known from the session are set (ReturnTo, SessionID, TenantID and, for a
// reauthorization, ConnectionID), so the page can still send the user back
// with the outcome.
type Connected struct {
	Connection store.Connection
	// ReturnTo is the allow-listed URL to send the user to, or "".
	ReturnTo string
	// SessionID is the connect session's id: one per authorization.
	SessionID string
	// TenantID is the session's tenant.
	TenantID string
	// ConnectionID is the connection made or reauthorized (on failure,
	// the connection a reauthorization was for).
	ConnectionID string
	// Reauthorized is set when an existing connection got a new grant.
	Reauthorized bool
}

// Callback completes an authorization on integrationID's callback path. It
// checks, in order and before any token request: the state (single use,
// unexpired, SEC-01/02/03), the browser binding (SEC-01), that the session
// belongs to this callback path (SEC-24), the RFC 9207 iss (SEC-21/22), and
// only then an error response (SEC-11) or the code. The code is exchanged
// once at the token endpoint recorded in the session (SEC-20, SEC-30), the
// id_token verified (OIDC-01…18) and the tokens sealed and stored.
func (b *Broker) Callback(ctx context.Context, integrationID string, q url.Values, browserSecret string) (Connected, error) {
	res, err := b.callback(ctx, integrationID, q, browserSecret)
	outcome := "ok"
	if err != nil {
		outcome = string(CodeOf(err))
	}
	b.metrics.Connects.WithLabelValues(res.Connection.Provider, outcome).Inc()
	return res, err
}

func (b *Broker) callback(ctx context.Context, integrationID string, q url.Values, browserSecret string) (Connected, error) {
	state := q.Get("state")
	if state == "" {
		return Connected{}, errorf(CodeInvalidState, nil, "the authorization response has no state")
	}
	s, err := b.st.ConsumeConnectSession(ctx, hash(state))
	if errors.Is(err, store.ErrNotFound) {
		return Connected{}, errorf(CodeInvalidState, nil, "this authorization is unknown or was already used; start again")
	}
	if err != nil {
		return Connected{}, errorf(CodeInternal, err, "the authorization cannot be read")
	}
	base := Connected{ReturnTo: s.ReturnTo, SessionID: s.ID, TenantID: s.TenantID, ConnectionID: s.ConnectionID}
	res, err := b.completeSession(ctx, integrationID, q, browserSecret, s)
	if err != nil {
		return base, err
	}
	return res, nil
}

// completeSession checks the rest of the response for session s and
// exchanges its code.
func (b *Broker) completeSession(ctx context.Context, integrationID string, q url.Values, browserSecret string, s store.ConnectSession) (Connected, error) {
	now := b.now()
	if !now.Before(s.ExpiresAt) {
		return Connected{}, errorf(CodeStateExpired, nil, "this authorization expired; start again")
	}
	if browserSecret == "" || subtle.ConstantTimeCompare(hash(browserSecret), s.BrowserHash) != 1 {
		return Connected{}, errorf(CodeBrowserMismatch, nil, "this authorization was started in another browser; start again here")
	}
	if s.IntegrationID != integrationID {
		return Connected{}, errorf(CodeInvalidState, nil, "this authorization belongs to another integration")
	}
	p, err := b.provider(s.Provider)
	if err != nil {
		return Connected{}, err
	}
	if iss, ok := q["iss"]; ok {
		if len(iss) != 1 || iss[0] != s.Issuer {
			return Connected{}, errorf(CodeIssuerMismatch, nil, "the authorization response came from an unexpected issuer")
		}
	} else if p.IssParameter == provider.IssRequired {
		return Connected{}, errorf(CodeIssuerMismatch, nil, "the authorization response has no iss")
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return Connected{}, errorf(CodeAccessDenied, nil, "access was not granted at %s", p.DisplayName)
		}
		return Connected{}, errorf(CodeAuthorizeError, nil, "%s answered the authorization with error %q", p.DisplayName, oauthErrorCode(e))
	}
	code := q.Get("code")
	if code == "" {
		return Connected{}, errorf(CodeInvalidRequest, nil, "the authorization response has no code")
	}
	in, err := b.st.GetIntegration(ctx, s.IntegrationID)
	if err != nil || !b.mayUse(in, s.TenantID, false) {
		return Connected{}, errorf(CodeNotFound, err, "the integration no longer exists")
	}
	return b.exchange(ctx, p, in, s, code)
}

// exchange redeems the code, once, and stores the connection.
func (b *Broker) exchange(ctx context.Context, p provider.Provider, in store.Integration, s store.ConnectSession, code string) (Connected, error) {
	secret, err := b.open("integration", in.ID, "client_secret", in.ClientSecret)
	if err != nil {
		return Connected{}, errorf(CodeInternal, err, "the integration cannot be read")
	}
	verifier, err := b.open("connect_session", s.ID, "verifier", s.Verifier)
	if err != nil {
		return Connected{}, errorf(CodeInternal, err, "the authorization cannot be read")
	}
	nonce, err := b.open("connect_session", s.ID, "nonce", s.Nonce)
	if err != nil {
		return Connected{}, errorf(CodeInternal, err, "the authorization cannot be read")
	}
	params := tokenParams(p)
	params["grant_type"] = "authorization_code"
	params["code"] = code
	params["redirect_uri"] = s.RedirectURI
	if p.PKCE {
		params["code_verifier"] = verifier
	}
	if s.Audience != "" {
		params["audience"] = s.Audience
	}
	rctx, cancel := context.WithTimeout(ctx, b.opts.RefreshTimeout)
	defer cancel()
	// The token endpoint comes from the session, never from the callback
	// (SEC-20). oauthx.Do never retries, so a code is sent once (SEC-30).
	tok, err := oauthx.Do(rctx, b.hc, b.now, oauthx.Request{
		TokenURL:     s.TokenURL,
		Encoding:     p.TokenEncoding,
		ClientAuth:   p.ClientAuth,
		ClientID:     in.ClientID,
		ClientSecret: secret,
		Params:       params,
	})
	if err != nil {
		b.log.WarnContext(ctx, "code exchange failed", "provider", p.Name, "integration_id", in.ID, "err", err)
		if oauthx.IsTransient(err) {
			return Connected{}, errorf(CodeUpstreamDown, err, "%s could not be reached to finish the connection; start again", p.DisplayName)
		}
		if reason, ok := credentialsRefused(err); ok {
			b.markBroken(ctx, in.ID, reason)
			e := errorf(CodeRejectedCredentials, err,
				"%s refused the credentials the application is configured with, so the connection cannot be made; this is not something you did: the application's administrator must correct its %s integration",
				p.DisplayName, p.DisplayName)
			e.ReturnTo = s.ReturnTo
			return Connected{}, e
		}
		return Connected{}, errorf(CodeTokenResponse, err, "%s did not issue tokens; start again", p.DisplayName)
	}
	b.noteIntegration(in)
	b.markWorking(ctx, in.ID)
	if err := b.checkAudience(ctx, p, tok.AccessToken, s.Audience); err != nil {
		return Connected{}, errorf(CodeTokenResponse, err, "%s issued a token for another audience", p.DisplayName)
	}
	var claims *oauthx.IDClaims
	wantID := p.OIDC && contains(s.Scopes, "openid")
	if wantID && tok.IDToken == "" {
		return Connected{}, errorf(CodeIDToken, nil, "%s did not return an id_token", p.DisplayName)
	}
	if tok.IDToken != "" && p.OIDC {
		// Nothing from the response is used before the nonce and the rest
		// of the id_token check out (RFC 9700 §4.5.3.2, SEC-06/07).
		claims, err = b.verifier(ctx, p, in.ClientID).Verify(ctx, tok.IDToken, nonce, tok.AccessToken)
		if err != nil {
			b.log.WarnContext(ctx, "id_token rejected", "provider", p.Name, "integration_id", in.ID, "err", err)
			return Connected{}, errorf(CodeIDToken, err, "%s returned an id_token that failed verification", p.DisplayName)
		}
	}
	return b.saveConnection(ctx, p, in, s, tok, claims)
}

// saveConnection stores the grant: a new connection, or, for a session
// that reauthorizes one, the connection's new grant. A reauthorization
// must come back with the connection's vendor account unless the link
// allowed a change; the link is spent before anything is stored, so it
// produces one connection at most; and the grant a reauthorization
// replaces is revoked at the provider (RFC 7009). A grant refused here is
// revoked too, so that no unused consent stays live at the vendor.
func (b *Broker) saveConnection(ctx context.Context, p provider.Provider, in store.Integration, s store.ConnectSession, tok *oauthx.Token, claims *oauthx.IDClaims) (Connected, error) {
	now := b.now().UTC()
	id := s.ConnectionID
	if id == "" {
		id = newID("conn")
	}
	g, err := b.newGrant(ctx, p, id, tok, now)
	if err != nil {
		return Connected{}, err
	}
	if g.scopes == nil {
		g.scopes = s.Scopes
	}
	// refuse discards the fresh grant and returns err.
	refuse := func(err error) (Connected, error) {
		b.discardGrant(ctx, p, in, id, g)
		return Connected{}, err
	}
	if s.ConnectionID != "" {
		cur, err := b.st.GetConnection(ctx, id)
		if err != nil || cur.TenantID != s.TenantID {
			return refuse(errorf(CodeNotFound, err, "the connection to reauthorize no longer exists"))
		}
		if err := sameAccount(cur, claims, s.AllowAccountChange); err != nil {
			b.log.InfoContext(ctx, "reauthorization with another account refused", "connection_id", id, "provider", p.Name)
			return refuse(err)
		}
	}
	if s.ConnectionID == "" {
		if err := b.checkConnectionQuota(ctx, s.TenantID); err != nil {
			return refuse(err)
		}
	}
	if s.LinkID != "" {
		// A link purged since the session started (it expired) has
		// nothing left to spend; the session itself was single use.
		err := b.st.SpendConnectLink(ctx, s.LinkID, now)
		switch {
		case errors.Is(err, store.ErrConflict):
			return refuse(errorf(CodeLinkUsed, nil, "this connect link was already used to connect; ask for a new one"))
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return refuse(errorf(CodeInternal, err, "the connect link cannot be updated"))
		}
	}
	fill := func(c *store.Connection) {
		c.Status = store.StatusActive
		g.apply(c, p, now)
		c.RefreshToken = g.refresh // a new consent replaces any old grant
		c.IDToken = g.id
		c.ConnectedAt = now
		c.RefreshExpiresAt = time.Time{}
		c.ReauthNoticeAt = time.Time{} // a new grant gets its own notices
		c.ObservedRotation = store.RotationUnknown
		if abs := p.RefreshToken.AbsoluteLifetime.D(); abs > 0 && len(g.refresh) > 0 {
			c.RefreshExpiresAt = now.Add(abs)
		}
		if idle := p.RefreshToken.IdleLifetime.D(); idle > 0 && len(g.refresh) > 0 {
			c.RefreshIdleExpiresAt = now.Add(idle)
		} else {
			c.RefreshIdleExpiresAt = time.Time{}
		}
		if claims != nil {
			c.Subject, c.Email = claims.Subject, claims.Email
		}
		c.RequestedScopes = s.Scopes
		// A reauthorization link without labels keeps the connection's.
		if s.EndUser != (store.EndUser{}) {
			c.EndUser = s.EndUser
		}
		if len(s.Tags) > 0 {
			c.Tags = s.Tags
		}
	}
	var c, old store.Connection
	kind := "connected"
	if s.ConnectionID != "" {
		kind = "reauthorized"
		c, err = b.st.UpdateConnection(ctx, id, func(cur store.Connection) (store.Connection, error) {
			if cur.TenantID != s.TenantID {
				return cur, store.ErrNotFound
			}
			// Checked again where the write happens, against a
			// concurrent reauthorization.
			if err := sameAccount(cur, claims, s.AllowAccountChange); err != nil {
				return cur, err
			}
			old = cur
			fill(&cur)
			cur.LeaseOwner, cur.LeaseExpiresAt = "", time.Time{}
			return cur, nil
		})
		b.cache.drop(id)
	} else {
		c = store.Connection{
			ID:            id,
			TenantID:      s.TenantID,
			IntegrationID: in.ID,
			Provider:      p.Name,
			CreatedAt:     now,
			UpdatedAt:     now,
		}
		fill(&c)
		err = b.st.CreateConnection(ctx, c)
		c.Version = 1
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return refuse(e)
	}
	if err != nil {
		return Connected{}, errorf(CodeInternal, err, "the connection cannot be stored")
	}
	detail := "scopes: " + joinScopes(c.Scopes)
	if kind == "reauthorized" && old.Subject != "" && old.Subject != c.Subject {
		detail += "; account changed from " + accountName(old) + " to " + accountName(c)
	}
	b.event(ctx, c, kind, detail)
	if kind == "reauthorized" {
		b.revokeReplaced(ctx, p, old, tok.RefreshToken)
	}
	return Connected{
		Connection:   c,
		ReturnTo:     s.ReturnTo,
		SessionID:    s.ID,
		TenantID:     s.TenantID,
		ConnectionID: c.ID,
		Reauthorized: kind == "reauthorized",
	}, nil
}

// oauthErrorCode keeps an authorization-response error code only when it
// is one of RFC 6749 §4.1.2.1's, so a hostile value is never echoed.
func oauthErrorCode(e string) string {
	switch e {
	case "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
		"invalid_scope", "server_error", "temporarily_unavailable", "login_required", "consent_required":
		return e
	}
	return "unknown"
}

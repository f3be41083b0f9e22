package broker

import (
	"context"
	"strconv"
	"strings"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// ConnectClient creates a connection for an integration whose provider
// needs no user: client credentials (Pax8 partner API credentials, a
// marketplace vendor's audience) or a partner token as bearer (Daxko). It
// requests the first token at once, so bad credentials fail here, and Token
// requests new ones as they expire, with the same single-flight and lease
// as refreshes (SEC-36).
//
// scopes are the connection's scopes, sent as the token request's scope.
// A partner_refresh_bearer provider needs them: Daxko's name the one Daxko
// client the connection acts for ("client:9999", seeds/004), so one partner
// credential yields a connection per client; without them the
// integration's scopes are used. Client-credentials
// connections take no scopes; theirs are the integration's.
func (b *Broker) ConnectClient(ctx context.Context, tenantID, integrationID string, scopes ...string) (store.Connection, error) {
	in, err := b.resolveIntegration(ctx, tenantID, integrationID, "")
	if err != nil {
		return store.Connection{}, err
	}
	p, err := b.provider(in.Provider)
	if err != nil {
		return store.Connection{}, err
	}
	connScopes, detail := in.Scopes, "client credentials, audience "+in.Audience
	switch p.Grant {
	case provider.ClientCredentials:
		if len(scopes) > 0 {
			return store.Connection{}, errorf(CodeInvalidRequest, nil, "provider %s takes no connection scopes; its scopes are the integration's", p.Name)
		}
	case provider.PartnerRefreshBearer:
		if len(scopes) == 0 {
			scopes = in.Scopes // an integration for one Daxko client
		}
		if err := checkPartnerScopes(scopes); err != nil {
			return store.Connection{}, err
		}
		connScopes, detail = append([]string(nil), scopes...), "partner token, scope "+strings.Join(scopes, " ")
	default:
		return store.Connection{}, errorf(CodeUnsupportedGrant, nil, "provider %s uses %s; create its connections through a connect link", p.Name, p.Grant)
	}
	if err := b.checkConnectionQuota(ctx, tenantID); err != nil {
		return store.Connection{}, err
	}
	now := b.now().UTC()
	c := store.Connection{
		ID: newID("conn"), TenantID: tenantID, IntegrationID: in.ID, Provider: p.Name,
		Status: store.StatusActive, Scopes: connScopes, ConnectedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	req, err := b.refreshRequest(ctx, p, c)
	if err != nil {
		return store.Connection{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, b.opts.RefreshTimeout)
	defer cancel()
	gt := b.gate(p)
	if err := b.admit(rctx, p, gt); err != nil {
		return store.Connection{}, errorf(CodeUpstreamDown, err, "%s is not being sent token requests right now; try again later", p.DisplayName)
	}
	tok, err := oauthx.Do(rctx, b.hc, b.now, req)
	b.settle(p, gt, err)
	if err != nil {
		if oauthx.IsTransient(err) {
			return store.Connection{}, errorf(CodeUpstreamDown, err, "%s could not be reached; try again", p.DisplayName)
		}
		if reason, ok := credentialsRefused(err); ok {
			if breaksIntegration(p, err) {
				b.markBroken(ctx, in.ID, reason)
			}
			return store.Connection{}, refusedError(p, in, reason, err)
		}
		return store.Connection{}, errorf(CodeUpstream, err, "%s answered the token request with an unusable response; try again later", p.DisplayName)
	}
	b.noteIntegration(in)
	b.markWorking(ctx, in.ID)
	g, err := b.newGrant(ctx, p, c.ID, tok, now)
	if err != nil {
		return store.Connection{}, err
	}
	b.dropUnexpectedRefreshToken(ctx, p, &g)
	g.apply(&c, p, now)
	if err := b.st.CreateConnection(ctx, c); err != nil {
		return store.Connection{}, errorf(CodeInternal, err, "the connection cannot be stored")
	}
	c.Version = 1
	b.event(ctx, c, "connected", detail)
	return c, nil
}

// checkPartnerScopes checks the scopes of a partner_refresh_bearer
// connection: space-free name:value pairs naming exactly one client, an
// integer (Daxko's grammar, provider-facts §4).
func checkPartnerScopes(scopes []string) error {
	clients := 0
	for _, s := range scopes {
		name, value, ok := strings.Cut(s, ":")
		if !ok || name == "" || value == "" || strings.ContainsAny(s, " \t\r\n") {
			return errorf(CodeInvalidRequest, nil, "scope %q is not a name:value pair", s)
		}
		if name == "client" {
			if n, err := strconv.Atoi(value); err != nil || n <= 0 {
				return errorf(CodeInvalidRequest, nil, "scope %q: the client must be a positive integer", s)
			}
			clients++
		}
	}
	if clients != 1 {
		return errorf(CodeInvalidRequest, nil, "scopes must name exactly one client, such as client:9999")
	}
	return nil
}

// dropUnexpectedRefreshToken discards a refresh token from a grant that
// should not carry one (client credentials, RFC 6749 §4.4.3, SEC-36), so
// it is never stored or sent anywhere.
func (b *Broker) dropUnexpectedRefreshToken(ctx context.Context, p provider.Provider, g *grant) {
	if (p.Grant == provider.ClientCredentials || p.Grant == provider.PartnerRefreshBearer) && len(g.refresh) > 0 {
		b.log.WarnContext(ctx, "ignoring refresh token in a client-credentials response", "provider", p.Name)
		g.refresh = nil
	}
}

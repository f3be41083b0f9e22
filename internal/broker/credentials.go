package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// credentialsRefused returns the vendor's reason when err is its token
// endpoint refusing the integration's own credentials: a 401, or one of
// the RFC 6749 §5.2 codes that are about the client rather than the grant
// (invalid_client, unauthorized_client) or access_denied, which Auth0 (Pax8)
// and Daxko answer for a client that may not use the grant. The reason is
// the code and the error_description, which oauthx has scrubbed and
// truncated; it never holds the body. Transient answers (5xx, 429) and
// invalid_grant are never refusals of the credentials.
func credentialsRefused(err error) (string, bool) {
	te, ok := errors.AsType[*oauthx.TokenError](err)
	if !ok || oauthx.IsTransient(err) || te.Code == "invalid_grant" {
		return "", false
	}
	switch te.Code {
	case "invalid_client", "unauthorized_client", "access_denied":
	default:
		if te.Status != http.StatusUnauthorized {
			return "", false
		}
	}
	reason := te.Code
	if reason == "" {
		reason = fmt.Sprintf("status %d", te.Status)
	}
	if te.Description != "" {
		reason += ": " + te.Description
	}
	return reason, true
}

// breaksIntegration reports whether a refusal of the credentials (see
// credentialsRefused) condemns the integration itself, which is then marked
// broken. A partner token provider's 403 does not: Daxko authenticated the
// partner and refused only the one client the connection named (seeds/004,
// as the sandbox emulates it [inferred]), and the integration's other
// clients still work.
func breaksIntegration(p provider.Provider, err error) bool {
	te, ok := errors.AsType[*oauthx.TokenError](err)
	return !ok || p.Grant != provider.PartnerRefreshBearer || te.Status != http.StatusForbidden
}

// refusedError is what a caller is told when the vendor refused the
// integration's credentials: it is the application's configuration that
// must change, not the user's doing, and trying again will not help. For a
// refusal that does not break the integration (a partner token provider
// refusing one client), it names the client instead of the secret.
func refusedError(p provider.Provider, in store.Integration, reason string, cause error) *Error {
	if !breaksIntegration(p, cause) {
		return errorf(CodeRejectedCredentials, cause,
			"%s refused integration %s access to the client the connection names (%s); the vendor must authorize the partner for it, trying again will not help",
			p.DisplayName, in.ID, reason)
	}
	return errorf(CodeRejectedCredentials, cause,
		"%s refused the client credentials of integration %s (%s); the integration's client id or secret must be corrected, trying again will not help",
		p.DisplayName, in.ID, reason)
}

// markBroken records on the integration that its credentials were refused
// at now with reason, keeping the first BrokenAt of a run of refusals. A
// failure to record is logged: the caller's error matters more.
func (b *Broker) markBroken(ctx context.Context, integrationID, reason string) {
	now := b.now().UTC()
	err := b.st.UpdateIntegration(ctx, integrationID, func(in store.Integration) (store.Integration, error) {
		if in.BrokenAt.IsZero() {
			in.BrokenAt = now
		}
		in.LastError = reason
		in.UpdatedAt = now
		return in, nil
	})
	b.broken.Store(integrationID, true)
	b.log.WarnContext(ctx, "integration credentials refused", "integration_id", integrationID, "reason", reason)
	if err != nil {
		b.log.ErrorContext(ctx, "mark integration broken", "integration_id", integrationID, "err", err)
	}
}

// markWorking clears the broken mark of an integration whose credentials
// just obtained a token. It writes only when the integration was marked
// (known from the last read of it, so a working integration costs nothing).
func (b *Broker) markWorking(ctx context.Context, integrationID string) {
	if _, ok := b.broken.LoadAndDelete(integrationID); !ok {
		return
	}
	err := b.st.UpdateIntegration(ctx, integrationID, func(in store.Integration) (store.Integration, error) {
		in.LastError, in.BrokenAt = "", time.Time{}
		return in, nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		b.log.ErrorContext(ctx, "clear integration broken mark", "integration_id", integrationID, "err", err)
	}
}

// noteIntegration remembers whether a freshly read integration is marked
// broken, for markWorking.
func (b *Broker) noteIntegration(in store.Integration) {
	if in.LastError != "" || !in.BrokenAt.IsZero() {
		b.broken.Store(in.ID, true)
	}
}

// isTokenCode reports whether err is a token endpoint error with code.
func isTokenCode(err error, code string) bool {
	te, ok := errors.AsType[*oauthx.TokenError](err)
	return ok && te.Code == code
}

// CheckCredentials asks the vendor for a token with the integration's
// credentials, without storing anything: a client credentials or partner
// token integration can be checked on save. scopes are a partner token
// connection's scopes (Daxko's client:<id>); without them the
// integration's scopes are used. It returns nil when a token was issued,
// an [Error] with [CodeRejectedCredentials] when the vendor refused the
// credentials, [CodeUnsupportedGrant] when the grant cannot be checked
// without a user (authorization code), and [CodeUpstreamDown] or
// [CodeUpstream] when the vendor could not tell.
func (b *Broker) CheckCredentials(ctx context.Context, in store.Integration) error {
	p, err := b.provider(in.Provider)
	if err != nil {
		return err
	}
	if p.Grant != provider.ClientCredentials && p.Grant != provider.PartnerRefreshBearer {
		return errorf(CodeUnsupportedGrant, nil, "provider %s uses %s: its credentials can only be checked by a user's authorization", p.Name, p.Grant)
	}
	req, err := b.requestFor(p, in, store.Connection{ID: "check", Scopes: in.Scopes})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, b.opts.RefreshTimeout)
	defer cancel()
	_, err = oauthx.Do(rctx, b.hc, b.now, req)
	switch reason, refused := credentialsRefused(err); {
	case err == nil:
		return nil
	case p.Grant == provider.PartnerRefreshBearer && checkPartnerScopes(in.Scopes) != nil && isTokenCode(err, "invalid_scope"):
		// No client to ask for: the vendor authenticated the partner
		// (bearer, username, password) and then refused only the missing
		// scope, which a connection names (Daxko's order of checks, as the
		// sandbox emulates it [inferred]).
		return nil
	case refused:
		return refusedError(p, in, reason, err)
	case oauthx.IsTransient(err):
		return errorf(CodeUpstreamDown, err, "%s could not be reached to check the credentials; try again", p.DisplayName)
	default:
		return errorf(CodeUpstream, err, "%s answered the credential check with an unusable response", p.DisplayName)
	}
}

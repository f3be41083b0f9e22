package broker

import (
	"context"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// sameAccount refuses a reauthorization of cur whose consent came back
// with another vendor account (another id_token sub) than the
// connection's, unless the link allowed a change. A connection without a
// known subject accepts any account.
func sameAccount(cur store.Connection, claims *oauthx.IDClaims, allowChange bool) error {
	if cur.Subject == "" || allowChange {
		return nil
	}
	got := ""
	if claims != nil {
		got = claims.Subject
	}
	if got == cur.Subject {
		return nil
	}
	return errorf(CodeAccountMismatch, nil,
		"you signed in with a different account; sign in as %s to reauthorize this connection, or ask for a link that allows another account", accountName(cur))
}

// accountName names a connection's vendor account: its email when known,
// else its subject.
func accountName(c store.Connection) string {
	if c.Email != "" {
		return c.Email
	}
	return c.Subject
}

// revokeReplaced revokes, at the provider (RFC 7009), the grant that a
// reauthorization replaced: old is the row as it was before, and
// newRefresh the refresh token that replaced its own (the old one is left
// alone when they are equal). The outcome is recorded as a revoked or
// revocation_failed event; the new grant is stored either way.
func (b *Broker) revokeReplaced(ctx context.Context, p provider.Provider, old store.Connection, newRefresh string) {
	if p.RevocationURL == "" || p.Grant != provider.AuthorizationCode || len(old.RefreshToken) == 0 {
		return
	}
	if rt, err := b.open("connection", old.ID, "refresh_token", old.RefreshToken); err != nil || rt == "" || rt == newRefresh {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := b.revoke(ctx, p, old); err != nil {
		b.log.WarnContext(ctx, "revocation of a replaced grant failed", "connection_id", old.ID, "provider", p.Name, "err", err)
		b.event(ctx, old, "revocation_failed", "the replaced grant could not be revoked at "+p.Name+" ("+revocationFailure(err)+")")
		return
	}
	b.event(ctx, old, "revoked", "the replaced grant was revoked at "+p.Name)
}

// discardGrant revokes at the provider a grant obtained for connection id
// that is not stored (refused after the code exchange), so that no unused
// consent stays live there. It is best effort and logs a failure.
func (b *Broker) discardGrant(ctx context.Context, p provider.Provider, in store.Integration, id string, g grant) {
	if p.RevocationURL == "" || len(g.refresh) == 0 {
		return
	}
	c := store.Connection{ID: id, TenantID: in.TenantID, IntegrationID: in.ID, Provider: p.Name, RefreshToken: g.refresh}
	if err := b.revoke(context.WithoutCancel(ctx), p, c); err != nil {
		b.log.WarnContext(ctx, "revocation of a refused grant failed", "provider", p.Name, "err", err)
	}
}

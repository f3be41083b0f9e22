package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grantd/grantd/internal/oauthx"
	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// revokeAtProvider revokes c's refresh token at p's revocation endpoint
// (RFC 7009 §2.1, token_type_hint refresh_token; Auth0 then revokes the
// whole grant). It holds the connection's refresh lease while it does, so
// that no refresh in this or another replica rotates the token meanwhile:
// it waits for a running refresh as [Broker.refresh] does, at most
// RefreshTimeout, and then revokes the token it last read. The request
// itself is bounded by RefreshTimeout.
//
// It records a revoked or revocation_failed event (events outlive the row)
// and never fails: the caller deletes the row either way. owned reports
// whether the lease is held; unlock releases the in-process lock and must
// be called after the row is deleted.
func (b *Broker) revokeAtProvider(ctx context.Context, p provider.Provider, c store.Connection) (revoked, owned bool, unlock func()) {
	unlock = func() {}
	wctx, cancel := context.WithTimeout(ctx, b.opts.RefreshTimeout)
	defer cancel()
	if err := b.refreshing.lock(wctx, c.ID); err == nil {
		unlock = func() { b.refreshing.unlock(c.ID) }
	}
	cur, owned := b.leaseForRevocation(wctx, c)

	err := b.revoke(ctx, p, cur)
	if err != nil {
		detail := fmt.Sprintf("the grant could not be revoked at %s (%s); the connection was deleted here only", p.Name, revocationFailure(err))
		b.log.WarnContext(ctx, "revocation failed", "connection_id", c.ID, "provider", p.Name, "transient", oauthx.IsTransient(err), "err", err)
		b.event(ctx, cur, "revocation_failed", detail)
		return false, owned, unlock
	}
	b.event(ctx, cur, "revoked", "the grant was revoked at "+p.Name)
	return true, owned, unlock
}

// leaseForRevocation takes c's refresh lease, waiting while another owner
// holds it, until ctx ends. It returns the row as last read and whether the
// lease is held.
func (b *Broker) leaseForRevocation(ctx context.Context, c store.Connection) (store.Connection, bool) {
	wait := 5 * time.Millisecond
	for {
		now := b.now()
		cur, owned, err := b.st.AcquireLease(ctx, c.ID, b.owner, now, now.Add(b.opts.LeaseTTL))
		if err == nil {
			c = cur
			if owned {
				return c, true
			}
		} else if errors.Is(err, store.ErrNotFound) || ctx.Err() != nil {
			return c, false
		}
		select {
		case <-ctx.Done():
			return c, false
		case <-time.After(wait):
		}
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// revoke sends the revocation request for c's refresh token.
func (b *Broker) revoke(ctx context.Context, p provider.Provider, c store.Connection) error {
	in, err := b.st.GetIntegration(ctx, c.IntegrationID)
	if err != nil {
		return fmt.Errorf("read integration: %w", err)
	}
	secret, err := b.open("integration", in.ID, "client_secret", in.ClientSecret)
	if err != nil {
		return fmt.Errorf("open client secret: %w", err)
	}
	rt, err := b.open("connection", c.ID, "refresh_token", c.RefreshToken)
	if err != nil {
		return fmt.Errorf("open refresh token: %w", err)
	}
	if rt == "" {
		return errors.New("no refresh token")
	}
	rctx, cancel := context.WithTimeout(ctx, b.opts.RefreshTimeout)
	defer cancel()
	return oauthx.Revoke(rctx, b.hc, oauthx.RevokeRequest{
		RevocationURL: p.RevocationURL,
		Encoding:      p.TokenEncoding,
		ClientAuth:    p.ClientAuth,
		ClientID:      in.ClientID,
		ClientSecret:  secret,
		Token:         rt,
		TokenTypeHint: "refresh_token",
	})
}

// revocationFailure describes a failed revocation for an event: the status
// and error code, never a body, token or description.
func revocationFailure(err error) string {
	if te, ok := errors.AsType[*oauthx.TokenError](err); ok {
		if te.Code != "" {
			return fmt.Sprintf("revocation endpoint error %s, status %d", te.Code, te.Status)
		}
		return fmt.Sprintf("revocation endpoint answered %d", te.Status)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if oauthx.IsTransient(err) {
		return "network error"
	}
	return "internal error"
}

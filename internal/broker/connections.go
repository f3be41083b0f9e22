package broker

import (
	"context"
	"slices"
	"strings"

	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// Connection returns tenantID's connection id; another tenant's is not
// found (SEC-43), and so is one made through an integration the tenant
// may no longer use (see [Broker.MayUse]).
func (b *Broker) Connection(ctx context.Context, tenantID, id string) (store.Connection, error) {
	c, err := b.getConnection(ctx, id)
	if err != nil {
		return store.Connection{}, err
	}
	ok, err := b.mayUseConnection(ctx, tenantID, c.TenantID, c.IntegrationID)
	if err != nil {
		return store.Connection{}, err
	}
	if !ok {
		return store.Connection{}, errorf(CodeNotFound, nil, "connection %s not found", id)
	}
	return c, nil
}

// Connections lists tenantID's connections, leaving out those made through
// an integration the tenant may no longer use.
func (b *Broker) Connections(ctx context.Context, tenantID string) ([]store.Connection, error) {
	cs, err := b.st.ListConnections(ctx, store.ConnectionFilter{TenantID: tenantID})
	if err != nil {
		return nil, errorf(CodeInternal, err, "connections cannot be listed")
	}
	out := cs[:0]
	for _, c := range cs {
		ok, err := b.mayUseConnection(ctx, tenantID, c.TenantID, c.IntegrationID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// Events returns the newest events of tenantID's connection id.
func (b *Broker) Events(ctx context.Context, tenantID, id string, limit int) ([]store.Event, error) {
	if _, err := b.Connection(ctx, tenantID, id); err != nil {
		return nil, err
	}
	es, err := b.st.ListEvents(ctx, id, limit)
	if err != nil {
		return nil, errorf(CodeInternal, err, "events cannot be listed")
	}
	return es, nil
}

// Disconnect deletes tenantID's connection id and its sealed tokens. When
// the provider has a revocation URL and the connection holds a refresh
// token, that token is first revoked at the provider (RFC 7009), which ends
// the grant there too; see [Broker.revokeAtProvider]. A failed revocation
// does not stop the local deletion, since the user asked to disconnect: it
// is recorded as a revocation_failed event, and revoked is false. Another
// tenant's connection is not found and nothing is revoked (SEC-43).
func (b *Broker) Disconnect(ctx context.Context, tenantID, id string) (revoked bool, err error) {
	c, err := b.Connection(ctx, tenantID, id)
	if err != nil {
		return false, err
	}
	// Finish what was started even if the caller goes away: a revoked
	// grant whose row survives would only fail later.
	ctx = context.WithoutCancel(ctx)
	owned := false
	if p, perr := b.provider(c.Provider); perr == nil && p.RevocationURL != "" && p.Grant == provider.AuthorizationCode && len(c.RefreshToken) > 0 {
		var unlock func()
		revoked, owned, unlock = b.revokeAtProvider(ctx, p, c)
		defer unlock()
	}
	b.cache.drop(id)
	sctx, cancel := context.WithTimeout(ctx, b.opts.LeaseTTL)
	defer cancel()
	if err := b.st.DeleteConnection(sctx, id); err != nil {
		if owned {
			b.release(sctx, id)
		}
		return revoked, errorf(CodeInternal, err, "connection %s cannot be deleted", id)
	}
	b.event(sctx, c, "deleted", "")
	return revoked, nil
}

// Purge deletes expired connect sessions and links (SEC-03).
func (b *Broker) Purge(ctx context.Context) (int, error) {
	return b.st.DeleteExpired(ctx, b.now())
}

// Due lists active connections the background refresher should refresh:
// access tokens expiring within ahead, and grants whose inactivity

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func joinScopes(s []string) string { return strings.Join(s, " ") }

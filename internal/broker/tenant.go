package broker

import (
	"context"
	"errors"

	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// TenantDeletion is what [Broker.DeleteTenant] did.
type TenantDeletion struct {
	// Connections is how many connections were deleted.
	Connections int
	// Revoked is how many grants were revoked at their provider;
	// RevocationFailed how many could not be (each has a
	// revocation_failed event).
	Revoked, RevocationFailed int
}

// DeleteTenant deletes tenant id and everything it owns: each of its
// delegated grants is first revoked at its provider (RFC 7009), as
// [Broker.Disconnect] does, then its rows go in one transaction (API keys,
// integrations, connect links and sessions, connections, org mappings,
// organisations, mapping links), and a deleted event is recorded for each
// connection; events stay as history. A failed revocation does not stop
// the deletion. An unknown tenant is [CodeNotFound].
func (b *Broker) DeleteTenant(ctx context.Context, id string) (TenantDeletion, error) {
	var d TenantDeletion
	if _, err := b.st.GetTenant(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return d, errorf(CodeNotFound, err, "tenant %s not found", id)
		}
		return d, errorf(CodeInternal, err, "tenant %s cannot be read", id)
	}
	// Finish what was started even if the caller goes away.
	ctx = context.WithoutCancel(ctx)
	cs, err := b.st.ListConnections(ctx, store.ConnectionFilter{TenantID: id})
	if err != nil {
		return d, errorf(CodeInternal, err, "connections of tenant %s cannot be listed", id)
	}
	var unlocks []func()
	defer func() {
		for _, u := range unlocks {
			u()
		}
	}()
	for _, c := range cs {
		p, perr := b.provider(c.Provider)
		if perr != nil || p.RevocationURL == "" || p.Grant != provider.AuthorizationCode || len(c.RefreshToken) == 0 {
			continue
		}
		revoked, _, unlock := b.revokeAtProvider(ctx, p, c)
		unlocks = append(unlocks, unlock)
		if revoked {
			d.Revoked++
		} else {
			d.RevocationFailed++
		}
	}
	if err := b.st.DeleteTenant(ctx, id); err != nil {
		return d, errorf(CodeInternal, err, "tenant %s cannot be deleted", id)
	}
	for _, c := range cs {
		b.cache.drop(c.ID)
		b.event(ctx, c, "deleted", "tenant deleted")
	}
	d.Connections = len(cs)
	return d, nil
}

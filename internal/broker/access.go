package broker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/grantd/grantd/internal/provider"
	"github.com/grantd/grantd/internal/store"
)

// operatorKey marks a context as the operator's.
type operatorKey struct{}

// AsOperator returns ctx marked as acting for the operator (the admin key,
// on behalf of a tenant). The operator may use every operator integration
// for any tenant, whatever its tenant list; see [Broker.MayUse].
func AsOperator(ctx context.Context) context.Context {
	return context.WithValue(ctx, operatorKey{}, true)
}

func isOperator(ctx context.Context) bool {
	v, _ := ctx.Value(operatorKey{}).(bool)
	return v
}

// MayUse reports whether tenantID may use integration in: connect through
// it, see it listed, and use the connections made through it. A tenant's
// own integration is its owner's only. An operator integration is open to
// the tenants its list names (all of them for [store.AllTenants]); without
// a list, a delegated (authorization_code) integration is open to every
// tenant, since each consents with its own vendor account, and an operator
// credential (client credentials, a partner token) to none, since it is
// the operator's own identity. The operator (see [AsOperator]) may use
// every operator integration.
func (b *Broker) MayUse(ctx context.Context, in store.Integration, tenantID string) bool {
	return b.mayUse(in, tenantID, isOperator(ctx))
}

// mayUse is MayUse for a caller that is the operator or not.
func (b *Broker) mayUse(in store.Integration, tenantID string, operator bool) bool {
	if in.TenantID != "" {
		return in.TenantID == tenantID
	}
	if operator {
		return true
	}
	if in.TenantsListed {
		return slices.Contains(in.Tenants, store.AllTenants) || slices.Contains(in.Tenants, tenantID)
	}
	p, ok := b.reg.Get(in.Provider)
	return ok && p.Grant == provider.AuthorizationCode
}

// Integrations lists the integrations tenantID may use (see
// [Broker.MayUse]), ordered by creation.
func (b *Broker) Integrations(ctx context.Context, tenantID string) ([]store.Integration, error) {
	all, err := b.st.ListIntegrations(ctx, tenantID)
	if err != nil {
		return nil, errorf(CodeInternal, err, "integrations cannot be listed")
	}
	out := all[:0]
	for _, in := range all {
		if b.MayUse(ctx, in, tenantID) {
			out = append(out, in)
		}
	}
	return out, nil
}

// mayUseConnection reports whether tenantID may use connection c: it must
// be the tenant's, and the tenant must still be allowed its integration.
// The integration is read through a short cache, since this is on the
// token path.
func (b *Broker) mayUseConnection(ctx context.Context, tenantID, connTenantID, integrationID string) (bool, error) {
	if connTenantID != tenantID {
		return false, nil
	}
	in, err := b.integrations.get(ctx, b.st, integrationID, b.now())
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, errorf(CodeInternal, err, "integration %s cannot be read", integrationID)
	}
	return b.MayUse(ctx, in, tenantID), nil
}

// integrationCache remembers integrations for a few seconds, so that the
// access check on the token path does not read the database each time. A
// change to an operator integration's tenant list (a restart with a new
// config) takes effect within its TTL. It is safe for concurrent use.
type integrationCache struct {
	ttl     time.Duration
	mu      sync.RWMutex
	entries map[string]integrationEntry
}

type integrationEntry struct {
	in    store.Integration
	until time.Time
}

func (c *integrationCache) get(ctx context.Context, st store.Store, id string, now time.Time) (store.Integration, error) {
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Before(e.until) {
		return e.in, nil
	}
	in, err := st.GetIntegration(ctx, id)
	if err != nil {
		return store.Integration{}, err
	}
	c.mu.Lock()
	if len(c.entries) >= 10000 {
		clear(c.entries)
	}
	c.entries[id] = integrationEntry{in: in, until: now.Add(c.ttl)}
	c.mu.Unlock()
	return in, nil
}

package broker

import (
	"context"
	"time"

	"github.com/grantd/grantd/internal/store"
)

// Quotas bound what one tenant may hold or make. A zero field takes its
// default; a negative one means no limit.
type Quotas struct {
	// Integrations bounds the tenant's own integrations (default 50).
	Integrations int
	// Connections bounds the tenant's connections (default 1000).
	Connections int
	// LinksPerHour bounds the connect links a tenant creates in any hour
	// (default 100).
	LinksPerHour int
}

func (q *Quotas) setDefaults() {
	for _, f := range []struct {
		v   *int
		def int
	}{{&q.Integrations, 50}, {&q.Connections, 1000}, {&q.LinksPerHour, 100}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
}

// CheckIntegrationQuota refuses a new integration for tenantID when it has
// as many of its own as Quotas.Integrations allows ([CodeQuotaExceeded]).
func (b *Broker) CheckIntegrationQuota(ctx context.Context, tenantID string) error {
	limit := b.opts.Quotas.Integrations
	if limit < 0 {
		return nil
	}
	ins, err := b.st.ListIntegrations(ctx, tenantID)
	if err != nil {
		return errorf(CodeInternal, err, "integrations cannot be counted")
	}
	n := 0
	for _, in := range ins {
		if in.TenantID == tenantID {
			n++
		}
	}
	if n >= limit {
		return errorf(CodeQuotaExceeded, nil, "this tenant has %d integrations, its quota; delete one first", n)
	}
	return nil
}

// checkConnectionQuota refuses a new connection for tenantID when it has
// as many as Quotas.Connections allows ([CodeQuotaExceeded]).
func (b *Broker) checkConnectionQuota(ctx context.Context, tenantID string) error {
	limit := b.opts.Quotas.Connections
	if limit < 0 {
		return nil
	}
	cs, err := b.st.ListConnections(ctx, store.ConnectionFilter{TenantID: tenantID})
	if err != nil {
		return errorf(CodeInternal, err, "connections cannot be counted")
	}
	if len(cs) >= limit {
		return errorf(CodeQuotaExceeded, nil, "this tenant has %d connections, its quota; delete one first", len(cs))
	}
	return nil
}

// checkLinkQuota refuses a new connect link when tenantID made
// Quotas.LinksPerHour in the last hour: a [CodeRateLimited] error whose
// RetryAfter is the wait until the oldest of them leaves the hour. Links
// are counted in the store, so the quota holds across replicas.
func (b *Broker) checkLinkQuota(ctx context.Context, tenantID string) error {
	limit := b.opts.Quotas.LinksPerHour
	if limit < 0 {
		return nil
	}
	since := b.now().Add(-time.Hour)
	n, oldest, err := b.st.CountConnectLinks(ctx, tenantID, since)
	if err != nil {
		return errorf(CodeInternal, err, "connect links cannot be counted")
	}
	if n < limit {
		return nil
	}
	e := errorf(CodeRateLimited, nil, "this tenant created %d connect links in the last hour, its quota; try again later", n)
	e.RetryAfter = max(oldest.Sub(since), time.Second)
	return e
}

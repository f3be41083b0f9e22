package console

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/grantd/grantd/internal/broker"
	"github.com/grantd/grantd/internal/store"
)

// chartKinds are the events the overview's refresh chart counts.
var chartKinds = []string{"refreshed", "needs_reauth", "refresh_malformed", "refresh_failed"}

type providerRow struct {
	Provider    string
	Active      int
	NeedsReauth int
	Revoked     int
	Total       int
}

type circuitRow struct {
	Provider string
	State    broker.CircuitState
}

type overviewData struct {
	Providers []providerRow
	Chart     chart
	Expiring  []store.Connection
	Circuits  []circuitRow
	Pending   int
	Failed    int
}

// overview shows connections by provider and status, refresh outcomes per
// hour over 24 h, grants ending within 30 days, open circuits and the
// webhook backlog.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, v viewer) error {
	ctx := r.Context()
	now := c.now().UTC()
	agg, err := c.aggregates(ctx, v.scope(), now)
	if err != nil {
		return err
	}
	counts := agg.counts
	var d overviewData
	byProvider := map[string]*providerRow{}
	for _, n := range counts {
		row := byProvider[n.Provider]
		if row == nil {
			row = &providerRow{Provider: n.Provider}
			byProvider[n.Provider] = row
		}
		switch n.Status {
		case store.StatusActive:
			row.Active += n.Count
		case store.StatusNeedsReauth:
			row.NeedsReauth += n.Count
		case store.StatusRevoked:
			row.Revoked += n.Count
		}
		row.Total += n.Count
	}
	for _, row := range byProvider {
		d.Providers = append(d.Providers, *row)
	}
	sort.Slice(d.Providers, func(i, j int) bool { return d.Providers[i].Provider < d.Providers[j].Provider })

	d.Chart = refreshChart(agg.since, agg.hourly)
	if d.Expiring, err = c.opts.Store.ExpiringGrants(ctx, v.scope(), now, now.Add(30*24*time.Hour), 20); err != nil {
		return err
	}
	for name, st := range c.opts.Broker.Circuits() {
		if st.Open {
			d.Circuits = append(d.Circuits, circuitRow{Provider: name, State: st})
		}
	}
	slices.SortFunc(d.Circuits, func(a, b circuitRow) int {
		if a.Provider < b.Provider {
			return -1
		}
		return 1
	})
	if v.Admin {
		// Deliveries carry no tenant: the backlog is the operator's.
		if d.Pending, err = c.opts.Store.CountDeliveries(ctx, store.DeliveryPending); err != nil {
			return err
		}
		if d.Failed, err = c.opts.Store.CountDeliveries(ctx, store.DeliveryFailed); err != nil {
			return err
		}
	}
	c.render(w, r, http.StatusOK, "overview", v, "Overview", d)
	return nil
}

// tenants lists every tenant (operator only).
func (c *Console) tenants(w http.ResponseWriter, r *http.Request, v viewer) error {
	if !v.Admin {
		return errAdminOnly
	}
	ts, err := c.opts.Store.ListTenants(r.Context())
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "tenants", v, "Tenants", ts)
	return nil
}

// aggregatesTTL is how long the overview's two fleet-wide counts
// (connections by provider and status, refresh outcomes per hour), whose
// cost grows with the fleet, are fresh; the lists and the backlog are read
// live. Past it, a request is still served the last counts at once while
// one recount runs in the background (stale while revalidate), so no
// page view waits for a count over the whole fleet unless the scope has
// none younger than aggregatesMaxAge.
const (
	aggregatesTTL    = 15 * time.Second
	aggregatesMaxAge = 5 * time.Minute
)

type aggregates struct {
	at     time.Time
	since  time.Time
	counts []store.ConnectionCount
	hourly []store.EventCount
}

// aggregates returns scope's counts: the cached ones while fresh; stale
// ones (with one background recount) until aggregatesMaxAge; else a
// recount the caller waits for.
func (c *Console) aggregates(ctx context.Context, scope string, now time.Time) (aggregates, error) {
	c.aggMu.Lock()
	a, ok := c.agg[scope]
	c.aggMu.Unlock()
	age := now.Sub(a.at)
	switch {
	case ok && age >= 0 && age < aggregatesTTL:
		return a, nil
	case ok && age >= 0 && age < aggregatesMaxAge:
		go func() {
			// The flight is shared with callers that wait for it, so it
			// returns the counts as theirs does.
			_, err, _ := c.aggFlight.Do(scope, func() (any, error) {
				return c.recount(context.WithoutCancel(ctx), scope, c.now())
			})
			if err != nil {
				c.log.WarnContext(ctx, "recount the console overview", "err", err)
			}
		}()
		return a, nil
	}
	v, err, _ := c.aggFlight.Do(scope, func() (any, error) { return c.recount(ctx, scope, now) })
	if err != nil {
		return aggregates{}, err
	}
	return v.(aggregates), nil
}

// recount reads scope's two counts and caches them.
func (c *Console) recount(ctx context.Context, scope string, now time.Time) (aggregates, error) {
	a := aggregates{at: now, since: now.Truncate(time.Hour).Add(-23 * time.Hour)}
	var err error
	if a.counts, err = c.opts.Store.CountConnections(ctx, scope); err != nil {
		return aggregates{}, err
	}
	if a.hourly, err = c.opts.Store.HourlyEvents(ctx, scope, a.since, chartKinds); err != nil {
		return aggregates{}, err
	}
	c.aggMu.Lock()
	if len(c.agg) > 10_000 {
		clear(c.agg)
	}
	c.agg[scope] = a
	c.aggMu.Unlock()
	return a, nil
}

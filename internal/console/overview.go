package console

import (
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
	counts, err := c.opts.Store.CountConnections(ctx, v.scope())
	if err != nil {
		return err
	}
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

	since := now.Truncate(time.Hour).Add(-23 * time.Hour)
	counts24, err := c.opts.Store.HourlyEvents(ctx, v.scope(), since, chartKinds)
	if err != nil {
		return err
	}
	d.Chart = refreshChart(since, counts24)
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

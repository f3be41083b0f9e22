package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grantd/grantd/internal/store"
	"github.com/grantd/grantd/internal/store/sqlstore"
)

// Health and readiness for orchestrators, and the gauges of what the
// store holds.
//
// GET /healthz is liveness: 200 while the process serves HTTP; it touches
// nothing else, so a slow database never gets a live process restarted.
// GET /readyz is readiness: 200 when the database answers and every
// migration embedded in this binary is applied to it; otherwise 503 with
// the reason, so a load balancer sends no traffic to a replica whose
// database is down or behind its code (a new binary before it migrated).

// handleLive is GET /healthz.
func (a *App) handleLive(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, `{"status":"ok"}`)
}

// handleReady is GET /readyz.
func (a *App) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.store.CheckSchema(ctx); err != nil {
		a.log.WarnContext(ctx, "readiness check", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		// The reason names a migration file or says the database does
		// not answer; it holds no secret (the DSN is never in it).
		reason := "database unavailable"
		if sqlstore.IsSchemaBehind(err) {
			reason = "migrations not applied"
		}
		fmt.Fprintf(w, `{"status":"unavailable","reason":%q}`+"\n", reason)
		return
	}
	fmt.Fprintln(w, `{"status":"ok"}`)
}

// storeCollector exports, at scrape time, the number of connections by
// provider and status and the webhook backlog by state. Labels name
// providers, statuses and states only, never an id. The counts come from
// two GROUP BY queries, cached for cacheFor so that frequent scrapes or
// several scrapers cost one query per interval; a failed query drops the
// gauges of that scrape and is logged.
type storeCollector struct {
	st       store.Store
	log      *slog.Logger
	now      func() time.Time
	cacheFor time.Duration

	conns   *prometheus.Desc
	backlog *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	counts  []store.ConnectionCount
	pending map[store.DeliveryState]int
}

func newStoreCollector(st store.Store, log *slog.Logger, now func() time.Time) *storeCollector {
	return &storeCollector{
		st: st, log: log, now: now, cacheFor: 15 * time.Second,
		conns: prometheus.NewDesc("grantd_connections",
			"Connections by provider and status (active, needs_reauth, revoked), counted at scrape time.",
			[]string{"provider", "status"}, nil),
		backlog: prometheus.NewDesc("grantd_webhook_outbox",
			"Webhook deliveries in the durable outbox by state; pending is the backlog still to send.",
			[]string{"state"}, nil),
	}
}

// Describe implements [prometheus.Collector].
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.conns
	ch <- c.backlog
}

// Collect implements [prometheus.Collector].
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	counts, states, ok := c.read()
	if !ok {
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(n.Count), n.Provider, string(n.Status))
	}
	for _, s := range []store.DeliveryState{store.DeliveryPending, store.DeliveryFailed} {
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(states[s]), string(s))
	}
}

func (c *storeCollector) read() ([]store.ConnectionCount, map[store.DeliveryState]int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.at.IsZero() && now.Sub(c.at) < c.cacheFor {
		return c.counts, c.pending, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.CountConnections(ctx, "")
	if err != nil {
		c.log.WarnContext(ctx, "count connections for metrics", "err", err)
		return nil, nil, false
	}
	states := map[store.DeliveryState]int{}
	for _, s := range []store.DeliveryState{store.DeliveryPending, store.DeliveryFailed} {
		n, err := c.st.CountDeliveries(ctx, s)
		if err != nil {
			c.log.WarnContext(ctx, "count deliveries for metrics", "err", err)
			return nil, nil, false
		}
		states[s] = n
	}
	c.at, c.counts, c.pending = now, counts, states
	return counts, states, true
}

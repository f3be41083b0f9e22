package refresh

import "github.com/prometheus/client_golang/prometheus"

// metrics are the scheduler's collectors. What to alert on: a growing
// grantd_refresh_lag_seconds (rows wait longer than their schedule: too
// few workers or replicas, or a provider's rate limit), claim errors (the
// database), and, in the broker's metrics, grantd_provider_circuit_open
// and the refresh outcomes.
type metrics struct {
	claimed     prometheus.Counter
	claimErrors prometheus.Counter
	failed      prometheus.Counter
	busy        prometheus.Gauge
	lag         prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		claimed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "grantd_refresh_claimed_total",
			Help: "Connections this replica claimed for a background refresh.",
		}),
		claimErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "grantd_refresh_claim_errors_total",
			Help: "Claims of due connections that failed (the database).",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "grantd_refresh_background_failures_total",
			Help: "Background refreshes that returned an error (see grantd_refreshes_total for why).",
		}),
		busy: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "grantd_refresh_workers_busy",
			Help: "Background refreshes in flight on this replica.",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "grantd_refresh_lag_seconds",
			Help:    "How late claimed connections were against their schedule (next_refresh_at).",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.claimed, m.claimErrors, m.failed, m.busy, m.lag)
	}
	return m
}

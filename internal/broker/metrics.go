package broker

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the broker's Prometheus collectors. Labels never carry tenant
// or connection ids.
type Metrics struct {
	TokenRequests *prometheus.CounterVec // source: cache|store|refresh|error
	Refreshes     *prometheus.CounterVec // provider, outcome
	RefreshTime   *prometheus.HistogramVec
	Connects      *prometheus.CounterVec // provider, outcome

	circuitOpen *prometheus.GaugeVec     // provider
	rateLimited *prometheus.CounterVec   // provider
	rateWait    *prometheus.HistogramVec // provider

	// The TokenRequests children, bound once: the hot path of Token must
	// not hash label values on every call.
	fromCache, fromStore, fromRefresh, tokenErrors prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg when reg is
// not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		TokenRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grantd_token_requests_total",
			Help: "Access-token requests by where the token came from.",
		}, []string{"source"}),
		Refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grantd_refreshes_total",
			Help: "Refresh-token grants sent to providers, by outcome.",
		}, []string{"provider", "outcome"}),
		RefreshTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grantd_refresh_duration_seconds",
			Help:    "Duration of refresh-token requests to providers.",
			Buckets: prometheus.DefBuckets,
		}, []string{"provider"}),
		Connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grantd_connects_total",
			Help: "Authorization callbacks by outcome.",
		}, []string{"provider", "outcome"}),
		circuitOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "grantd_provider_circuit_open",
			Help: "1 while a provider's token-endpoint circuit is open (grantd sends it nothing), else 0.",
		}, []string{"provider"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grantd_refresh_rate_limited_total",
			Help: "Token requests held back because the provider's max_refresh_rate was saturated.",
		}, []string{"provider"}),
		rateWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grantd_refresh_rate_wait_seconds",
			Help:    "Time token requests waited for the provider's max_refresh_rate.",
			Buckets: []float64{0.005, 0.01, 0.05, 0.1, 0.5, 1, 5},
		}, []string{"provider"}),
	}
	m.fromCache = m.TokenRequests.WithLabelValues("cache")
	m.fromStore = m.TokenRequests.WithLabelValues("store")
	m.fromRefresh = m.TokenRequests.WithLabelValues("refresh")
	m.tokenErrors = m.TokenRequests.WithLabelValues("error")
	if reg != nil {
		reg.MustRegister(m.TokenRequests, m.Refreshes, m.RefreshTime, m.Connects, m.circuitOpen, m.rateLimited, m.rateWait)
	}
	return m
}

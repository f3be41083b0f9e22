package httpapi

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP collectors of the routes an [Adapter] serves:
// grantd_http_requests_total by route and status and
// grantd_http_request_duration_seconds by route. Labels are the route
// pattern and the status only: never a tenant or connection id. It is safe
// for concurrent use.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	mu     sync.RWMutex
	routes map[string]*routeMetrics
}

// routeMetrics caches one route's curried collectors, so the hot path does
// no label hashing for the route.
type routeMetrics struct {
	latency prometheus.Observer
	mu      sync.RWMutex
	byCode  map[int]prometheus.Counter
	vec     *prometheus.CounterVec
}

// NewMetrics returns the collectors, registered with reg unless it is nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grantd_http_requests_total",
			Help: "API requests by route pattern and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grantd_http_request_duration_seconds",
			Help:    "API request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		routes: make(map[string]*routeMetrics),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency)
	}
	return m
}

func (m *Metrics) route(pattern string) *routeMetrics {
	m.mu.RLock()
	rm, ok := m.routes[pattern]
	m.mu.RUnlock()
	if ok {
		return rm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rm, ok := m.routes[pattern]; ok {
		return rm
	}
	rm = &routeMetrics{
		latency: m.latency.WithLabelValues(pattern),
		byCode:  make(map[int]prometheus.Counter),
		vec:     m.requests.MustCurryWith(prometheus.Labels{"route": pattern}),
	}
	m.routes[pattern] = rm
	return rm
}

func (rm *routeMetrics) observe(status int, d time.Duration) {
	rm.latency.Observe(d.Seconds())
	rm.mu.RLock()
	c, ok := rm.byCode[status]
	rm.mu.RUnlock()
	if !ok {
		rm.mu.Lock()
		if c, ok = rm.byCode[status]; !ok {
			c = rm.vec.WithLabelValues(strconv.Itoa(status))
			rm.byCode[status] = c
		}
		rm.mu.Unlock()
	}
	c.Inc()
}

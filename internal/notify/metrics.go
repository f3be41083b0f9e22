package notify

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts deliveries. Labels are event types and outcomes only,
// never tenant, connection or delivery ids.
type metrics struct {
	deliveries *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	queued     prometheus.GaugeFunc
	recovered  prometheus.Counter
}

// newMetrics builds the metrics; pending counts the outbox's pending
// deliveries when the gauge is scraped.
func newMetrics(reg prometheus.Registerer, pending func() float64) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grantd_webhook_deliveries_total",
			Help: "Webhook deliveries by event type and outcome (delivered, failed, dropped: not written to the outbox).",
		}, []string{"event", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grantd_webhook_attempts_total",
			Help: "Webhook POST attempts by event type and result (2xx, 3xx, 4xx, 5xx, error).",
		}, []string{"event", "result"}),
		queued: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "grantd_webhook_queue_length",
			Help: "Webhook deliveries pending in the outbox, retries included, for all replicas.",
		}, pending),
		recovered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "grantd_webhook_deliveries_recovered_total",
			Help: "Webhook deliveries written by reconciliation: events stored without their deliveries (a crash between the two writes).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.attempts, m.queued, m.recovered)
	}
	return m
}

// label bounds the event label to the known types.
func label(typ string) string {
	if slices.Contains(Types, typ) {
		return typ
	}
	return "other"
}

func (m *metrics) outcome(typ, outcome string) {
	m.deliveries.WithLabelValues(label(typ), outcome).Inc()
}

func (m *metrics) attempt(typ, class string) {
	m.attempts.WithLabelValues(label(typ), class).Inc()
}

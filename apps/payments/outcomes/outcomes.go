// Package outcomes counts payments by final status in the app's Prometheus
// registry: captured, declined (with the provider's reason) and refunded.
package outcomes

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/payments/payments"
)

// Module provides the payments.Outcomes of the app.
var Module = fx.Provide(fx.Annotate(New, fx.As(new(payments.Outcomes))))

// Metrics implements payments.Outcomes.
type Metrics struct{ payments *prometheus.CounterVec }

// New registers the instrument in r.
func New(r *prometheus.Registry) *Metrics {
	m := &Metrics{payments: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shopmesh_payments_total",
		Help: "Payments by outcome (captured, declined, refunded); reason: the provider's, for declined.",
	}, []string{"outcome", "reason"})}
	r.MustRegister(m.payments)
	m.payments.WithLabelValues("captured", "")
	return m
}

// Settled implements payments.Outcomes.
func (m *Metrics) Settled(status payments.Status, reason string) {
	outcome := string(status)
	if status == payments.StatusFailed {
		outcome = "declined"
	}
	m.payments.WithLabelValues(outcome, reason).Inc()
}

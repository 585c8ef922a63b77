// Package outcomes counts what becomes of orders in the app's Prometheus
// registry: orders placed, confirmed and cancelled by reason, and the time
// from placed to settled (the saga's own duration, not a client's wait).
package outcomes

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/orders/orders"
)

// Module provides the orders.Outcomes of the app.
var Module = fx.Provide(fx.Annotate(New, fx.As(new(orders.Outcomes))))

// Metrics implements orders.Outcomes.
type Metrics struct {
	orders *prometheus.CounterVec
	settle *prometheus.HistogramVec
}

// New registers the instruments in r.
func New(r *prometheus.Registry) *Metrics {
	m := &Metrics{
		orders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopmesh_orders_total",
			Help: "Orders by outcome: placed, confirmed, or cancelled with a reason.",
		}, []string{"outcome", "reason"}),
		settle: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopmesh_order_settle_duration_seconds",
			Help:    "Time from an order placed to confirmed or cancelled, by outcome.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"outcome"}),
	}
	r.MustRegister(m.orders, m.settle)
	// Series that exist before their first order: a rate over them is 0,
	// not "no data", on dashboards and in alert rules.
	m.orders.WithLabelValues("placed", "")
	m.orders.WithLabelValues("confirmed", "")
	return m
}

// Placed implements orders.Outcomes.
func (m *Metrics) Placed() { m.orders.WithLabelValues("placed", "").Inc() }

// Settled implements orders.Outcomes.
func (m *Metrics) Settled(status, reason string, after time.Duration) {
	m.orders.WithLabelValues(status, reason).Inc()
	m.settle.WithLabelValues(status).Observe(after.Seconds())
}

// Package outcomes counts reservations by outcome in the app's Prometheus
// registry: reserved, or rejected with a reason (out of stock).
package outcomes

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/shopmesh/shopmesh/apps/inventory/inventory"
)

// Module provides the inventory.Outcomes of the app.
var Module = fx.Provide(fx.Annotate(New, fx.As(new(inventory.Outcomes))))

// Metrics implements inventory.Outcomes.
type Metrics struct{ reservations *prometheus.CounterVec }

// New registers the instrument in r.
func New(r *prometheus.Registry) *Metrics {
	m := &Metrics{reservations: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shopmesh_reservations_total",
		Help: "Orders' stock reservations by outcome: reserved, or rejected with a reason.",
	}, []string{"outcome", "reason"})}
	r.MustRegister(m.reservations)
	m.reservations.WithLabelValues(string(inventory.StatusReserved), "")
	return m
}

// Reservation implements inventory.Outcomes.
func (m *Metrics) Reservation(status inventory.Status, reason string) {
	m.reservations.WithLabelValues(string(status), reason).Inc()
}

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopmesh/shopmesh/local/stack"
)

// prometheusURL is the local Prometheus (local/prometheus.sh).
var prometheusURL = envOr("SHOPMESH_PROMETHEUS_URL", "http://127.0.0.1:19090")

// Prometheus scrapes every app and every sidecar, and a checkout moves the
// business counters by exactly what it did: one order confirmed with its
// payment captured, one cancelled for the declined card.
func TestCheckoutsMoveTheBusinessMetrics(t *testing.T) {
	requireStack(t)
	tmpl, err := stack.LoadTemplate(repoRoot() + "/dapr/dapr.yaml")
	require.NoError(t, err)
	eventually(t, settle, "every app and daprd target is up", func() bool {
		up := promTargetsUp(t)
		for _, s := range tmpl.Apps {
			if !up["apps/"+s.ID] || !up["daprd/"+s.ID] {
				return false
			}
		}
		return true
	}, func() string { return "targets up: " + string(mustJSON(t, promTargetsUp(t))) })

	counters := map[string]string{
		"placed":            `sum(shopmesh_orders_total{outcome="placed"})`,
		"confirmed":         `sum(shopmesh_orders_total{outcome="confirmed"})`,
		"cancelled/decline": `sum(shopmesh_orders_total{outcome="cancelled",reason="payment_declined"}) or vector(0)`,
		"captured":          `sum(shopmesh_payments_total{outcome="captured"})`,
		"declined":          `sum(shopmesh_payments_total{outcome="declined"}) or vector(0)`,
		"reserved":          `sum(shopmesh_reservations_total{outcome="reserved"})`,
		"orders events":     `sum(messaging_client_sent_messages_total{app="orders",messaging_destination_name="orders"}) or vector(0)`,
		"settled (count)":   `sum(shopmesh_order_settle_duration_seconds_count) or vector(0)`,
	}
	// Prometheus holds what it scraped up to 5 s ago: count from a scrape
	// of every app made after the orders of earlier tests settled.
	promScrapedSince(t, time.Now())
	before := map[string]float64{}
	for name, q := range counters {
		before[name] = promValue(t, q)
	}

	p := stockedProduct(t, 5, 700)
	c := newCustomer(t, "metered")
	c.addToCart(t, p.ID, 1)
	ok := c.placeOrder(t, "tok_visa")
	require.Equal(t, "confirmed", c.settled(t, ok, settle).Status)
	c.addToCart(t, p.ID, 1)
	declined := c.placeOrder(t, "tok_chargeDeclined")
	require.Equal(t, "cancelled", c.settled(t, declined, settle).Status)

	want := map[string]float64{
		"placed": 2, "confirmed": 1, "cancelled/decline": 1, "captured": 1, "declined": 1, "reserved": 2,
		"orders events":   4, // placed twice, confirmed, cancelled
		"settled (count)": 2,
	}
	promScrapedSince(t, time.Now())
	got := map[string]float64{}
	eventually(t, settle, "Prometheus scraped the checkouts", func() bool {
		for name, q := range counters {
			got[name] = promValue(t, q) - before[name]
		}
		for name, d := range want {
			if got[name] < d {
				return false
			}
		}
		return true
	}, func() string { return "moved: " + string(mustJSON(t, got)) })
	assert.Equal(t, want, got, "each counter moved by what the two checkouts did, no more")
}

// promScrapedSince waits until Prometheus has scraped every app after t.
func promScrapedSince(t *testing.T, since time.Time) {
	t.Helper()
	eventually(t, settle, "a scrape of every app after "+since.Format(time.RFC3339Nano), func() bool {
		return promValue(t, `min(timestamp(up{job="apps"}))`) > float64(since.UnixMilli())/1000
	})
}

// promValue evaluates an instant query whose answer is one sample.
func promValue(t *testing.T, query string) float64 {
	t.Helper()
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	promGet(t, "/api/v1/query?query="+url.QueryEscape(query), &body)
	require.Len(t, body.Data.Result, 1, "one sample for %s", query)
	v, err := strconv.ParseFloat(body.Data.Result[0].Value[1].(string), 64)
	require.NoError(t, err)
	return v
}

// promTargetsUp says which "<job>/<app>" targets are up.
func promTargetsUp(t *testing.T) map[string]bool {
	t.Helper()
	var body struct {
		Data struct {
			ActiveTargets []struct {
				Labels map[string]string `json:"labels"`
				Health string            `json:"health"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	promGet(t, "/api/v1/targets?state=active", &body)
	up := map[string]bool{}
	for _, tg := range body.Data.ActiveTargets {
		up[tg.Labels["job"]+"/"+tg.Labels["app"]] = tg.Health == "up"
	}
	return up
}

// promFiring lists the alerts firing now, by name, with their labels.
func promFiring(t *testing.T) map[string][]map[string]string {
	t.Helper()
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	promGet(t, "/api/v1/alerts", &body)
	out := map[string][]map[string]string{}
	for _, a := range body.Data.Alerts {
		if a.State == "firing" {
			out[a.Labels["alertname"]] = append(out[a.Labels["alertname"]], a.Labels)
		}
	}
	return out
}

func promGet(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := client.Get(prometheusURL + path)
	require.NoError(t, err, "Prometheus at %s (local/prometheus.sh)", prometheusURL)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

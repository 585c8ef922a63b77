package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// The dashboards, in the order the page lists them.
func boards() []*board {
	out := []*board{overview()}
	for _, s := range services {
		out = append(out, serviceBoard(s))
	}
	return append(out, sidecars())
}

// probeRoutes are the kit's routes that daprd and Prometheus call every few
// seconds (app health checks, scrapes): left out of RED, they would drown
// the shoppers' traffic and flatter its latency.
const probeRoutes = `route!~"/healthz|/readyz|/metrics"`

// appSel selects an app's own series (job apps, not its sidecar's).
func appSel(app string, more ...string) string {
	return "{" + strings.Join(append([]string{`job="apps"`, `app="` + app + `"`}, more...), ", ") + "}"
}

// rate is `rate(metric{sel}[$__rate_interval])`.
func rate(metric, sel string) string {
	return "rate(" + metric + sel + "[" + rateInterval + "])"
}

// ratio is num/den per the grouping labels, 0 (not "no data") while den
// has traffic and num has no series: e.g. no 5xx yet.
func ratio(by, num, den string) string {
	return fmt.Sprintf("(sum by (%[1]s) (%[2]s) or 0 * sum by (%[1]s) (%[3]s))\n/\nsum by (%[1]s) (%[3]s)", by, num, den)
}

func quantile(phi, by, bucketRate string) string {
	if by == "" {
		by = "le"
	} else {
		by += ", le"
	}
	return fmt.Sprintf("histogram_quantile(%s, sum by (%s) (%s))", phi, by, bucketRate)
}

// overview is the platform at a glance: every service's RED, the checkout
// saga, and the events between the services.
func overview() *board {
	apps := `{job="apps", ` + probeRoutes + `}`
	d := newBoard("platform-overview.json", "shopmesh-overview", "ShopMesh: platform overview",
		"Every service's requests, errors and latency (probes and scrapes left out), the checkout saga from placed to settled, payments, and the events between the services: dead letters and the outboxes.",
		"overview")

	d.row("At a glance").
		single(panel{title: "Apps up", unit: "short", queries: []query{q(`sum(up{job="apps"})`, "")},
			description: "Apps Prometheus scrapes successfully (of 8)."}).
		single(panel{title: "Sidecars up", unit: "short", queries: []query{q(`sum(up{job="daprd"})`, "")},
			description: "daprd sidecars Prometheus scrapes successfully (of 8)."}).
		single(panel{title: "Orders confirmed", unit: "short",
			queries:     []query{q(`sum(increase(shopmesh_orders_total{outcome="confirmed"}[`+timeRange+`]))`, "")},
			description: "Orders confirmed in the time range shown."}).
		single(panel{title: "Checkout p99", unit: "s", warn: f(1), crit: f(5),
			queries:     []query{q(quantile("0.99", "", `rate(shopmesh_order_settle_duration_seconds_bucket{outcome="confirmed"}[`+timeRange+`])`), "")},
			description: "99th percentile of placed → confirmed over the time range shown (the CheckoutSlow alert fires above 5 s)."}).
		single(panel{title: "Dead-lettered events", unit: "short", warn: f(1), crit: f(1),
			queries:     []query{q(`sum(increase(messaging_client_consumed_messages_total{status="drop"}[`+timeRange+`])) or vector(0)`, "")},
			description: "Events a consumer gave up on in the time range shown. Each one needs a human: see the EventDeadLettered alert."}).
		single(panel{title: "Oldest outbox event", unit: "s", warn: f(10), crit: f(60),
			queries:     []query{q(`max(shopmesh_outbox_oldest_event_age_seconds)`, "")},
			description: "Age of the oldest committed event still waiting to be published, over every app's outbox (OutboxEventsWaitingTooLong fires above 60 s)."})

	d.row("Services: rate, errors, duration").
		series(panel{title: "Request rate by app", unit: "reqps",
			queries: []query{q(`sum by (app) (`+rate("http_requests_total", apps)+`)`, "{{app}}")}}).
		series(panel{title: "5xx ratio by app", unit: "percentunit",
			description: "Share of each app's requests answered with a 5xx (HighServerErrorRatio fires above 1% for 5 minutes).",
			queries: []query{q(ratio("app",
				rate("http_requests_total", `{job="apps", code=~"5..", `+probeRoutes+`}`),
				rate("http_requests_total", apps)), "{{app}}")}}).
		series(panel{title: "p99 latency by app", unit: "s",
			queries: []query{q(quantile("0.99", "app", rate("http_request_duration_seconds_bucket", apps)), "{{app}}")}})

	d.row("Checkout saga").
		series(panel{title: "Orders by outcome and reason", unit: "ops",
			description: "The saga's funnel: orders placed, then settled as confirmed or cancelled (with the reason).",
			queries:     []query{q(`sum by (outcome, reason) (`+rate("shopmesh_orders_total", "")+`)`, "{{outcome}} {{reason}}")}}).
		series(panel{title: "Placed → confirmed", unit: "s",
			description: "The saga's own duration, from the order placed to confirmed (not a client's wait).",
			queries: []query{
				q(quantile("0.5", "", rate("shopmesh_order_settle_duration_seconds_bucket", `{outcome="confirmed"}`)), "p50"),
				q(quantile("0.99", "", rate("shopmesh_order_settle_duration_seconds_bucket", `{outcome="confirmed"}`)), "p99"),
			}}).
		series(panel{title: "Payments by outcome", unit: "ops",
			queries: []query{q(`sum by (outcome, reason) (`+rate("shopmesh_payments_total", "")+`)`, "{{outcome}} {{reason}}")}})

	d.row("Events between the services").
		series(panel{title: "Dead-lettered events per topic", unit: "short",
			description: "Events the consumers answered with drop (dead-lettered), per topic; which app: the EventDeadLettered alert, or the app's dashboard.",
			queries: []query{q(`sum by (messaging_destination_name) (increase(messaging_client_consumed_messages_total{status="drop"}[`+rateInterval+`]))`,
				"{{messaging_destination_name}}")}}).
		series(panel{title: "Outbox: events waiting", unit: "short",
			description: "Committed events whose publish failed, waiting for a retry, per app.",
			queries:     []query{q(`max by (app) (shopmesh_outbox_events_waiting)`, "{{app}}")}}).
		series(panel{title: "Outbox: oldest event age", unit: "s",
			queries: []query{q(`max by (app) (shopmesh_outbox_oldest_event_age_seconds)`, "{{app}}")}})
	return d
}

// service is what a service's dashboard shows beyond what every app has.
type service struct {
	id, title string
	// consumes, sends: the app subscribes to / publishes on topics.
	consumes, sends bool
	// outbox: the app publishes through the kit's transactional outbox.
	outbox bool
	// business adds the app's own panels, under a row of that title.
	businessRow string
	business    func(d *board)
}

var services = []service{
	{id: "gateway", title: "Gateway", consumes: true,
		businessRow: "Calls to the services (service invocation through its sidecar)",
		business: func(d *board) {
			inv := `{job="daprd", app="gateway"}`
			d.series(panel{title: "Calls by target app", unit: "reqps", width: 12,
				queries: []query{q(`sum by (dst_app_id) (`+rate("dapr_runtime_service_invocation_req_sent_total", inv)+`)`, "{{dst_app_id}}")}}).
				series(panel{title: "Call p99 by target app", unit: "ms", width: 12,
					description: "Time until the target app's answer came back to the gateway's sidecar (Dapr labels the target src_app_id here: the answer's source).",
					queries:     []query{q(quantile("0.99", "src_app_id", rate("dapr_runtime_service_invocation_res_recv_latency_ms_bucket", inv)), "{{src_app_id}}")}}).
				series(panel{title: "Catalog cache hit ratio", unit: "percentunit", width: 12,
					description: "Product, listing and category reads answered from the gateway's Redis cache; error: Redis failed or was skipped, served from the catalog.",
					queries: []query{
						q(ratio("app", rate("gateway_cache_lookups_total", appSel("gateway", `result="hit"`)), rate("gateway_cache_lookups_total", appSel("gateway"))), "hit ratio"),
					}}).
				series(panel{title: "Rate-limit decisions", unit: "reqps", width: 12,
					description: "limited: answered 429 with Retry-After (general per-client limit, and the stricter one on sign-in and sign-up).",
					queries: []query{
						q(`sum by (decision) (`+rate("gateway_rate_limit_decisions_total", appSel("gateway"))+`)`, "general {{decision}}"),
						q(`sum by (decision) (`+rate("gateway_auth_rate_limit_decisions_total", appSel("gateway"))+`)`, "sign-in {{decision}}"),
					}})
		}},
	{id: "users", title: "Users", sends: true, outbox: true},
	{id: "catalog", title: "Catalog", consumes: true, sends: true, outbox: true},
	{id: "inventory", title: "Inventory", consumes: true, sends: true,
		businessRow: "Reservations",
		business: func(d *board) {
			d.series(panel{title: "Reservations by outcome and reason", unit: "ops", width: 24,
				queries: []query{q(`sum by (outcome, reason) (`+rate("shopmesh_reservations_total", appSel("inventory"))+`)`, "{{outcome}} {{reason}}")}})
		}},
	{id: "orders", title: "Orders", consumes: true, sends: true, outbox: true,
		businessRow: "Checkout saga",
		business: func(d *board) {
			d.series(panel{title: "Orders by outcome and reason", unit: "ops", width: 12,
				queries: []query{q(`sum by (outcome, reason) (`+rate("shopmesh_orders_total", appSel("orders"))+`)`, "{{outcome}} {{reason}}")}}).
				series(panel{title: "Placed → settled", unit: "s", width: 12,
					queries: []query{
						q(quantile("0.5", "outcome", rate("shopmesh_order_settle_duration_seconds_bucket", appSel("orders"))), "p50 {{outcome}}"),
						q(quantile("0.99", "outcome", rate("shopmesh_order_settle_duration_seconds_bucket", appSel("orders"))), "p99 {{outcome}}"),
					}})
		}},
	{id: "payments", title: "Payments", consumes: true, sends: true, outbox: true,
		businessRow: "Payments",
		business: func(d *board) {
			d.series(panel{title: "Payments by outcome and reason", unit: "ops", width: 24,
				queries: []query{q(`sum by (outcome, reason) (`+rate("shopmesh_payments_total", appSel("payments"))+`)`, "{{outcome}} {{reason}}")}})
		}},
	{id: "notifications", title: "Notifications", consumes: true},
	{id: "search", title: "Search", consumes: true,
		businessRow: "Index",
		business: func(d *board) {
			d.series(panel{title: "Index lag by source", unit: "s", width: 12,
				description: "Time from a change in the catalog (product) or inventory (stock) to the search index holding it.",
				queries: []query{
					q(quantile("0.5", "source", rate("shopmesh_search_index_lag_seconds_bucket", appSel("search"))), "p50 {{source}}"),
					q(quantile("0.99", "source", rate("shopmesh_search_index_lag_seconds_bucket", appSel("search"))), "p99 {{source}}"),
				}}).
				series(panel{title: "Index updates by source", unit: "ops", width: 12,
					queries: []query{q(`sum by (source) (`+rate("shopmesh_search_index_lag_seconds_count", appSel("search"))+`)`, "{{source}}")}}).
				series(panel{title: "Search query latency", unit: "s", width: 24,
					description: "Time to answer GET /search (the gateway's /api/v1/search), index query included.",
					queries: []query{
						q(quantile("0.5", "", rate("http_request_duration_seconds_bucket", appSel("search", `route="/search"`))), "p50"),
						q(quantile("0.99", "", rate("http_request_duration_seconds_bucket", appSel("search", `route="/search"`))), "p99"),
					}})
		}},
	// The web shop: its pages' RED (each page's calls to the gateway are
	// in the gateway's board and in the page's trace).
	{id: "storefront", title: "Storefront"},
}

// serviceBoard is one service: its routes' RED, its events, its own
// metrics, and the Go runtime of the app (and of its sidecar, which
// exports the same process metrics).
func serviceBoard(s service) *board {
	d := newBoard("service-"+s.id+".json", "shopmesh-"+s.id, "ShopMesh: "+s.title,
		"The "+s.id+" app: its routes' requests, errors and latency (probes and scrapes left out), the events it consumes and sends, its own metrics, and its Go runtime.",
		"service", s.id)
	routes := appSel(s.id, probeRoutes)

	d.row("HTTP routes").
		series(panel{title: "Requests by route and code", unit: "reqps",
			queries: []query{q(`sum by (method, route, code) (`+rate("http_requests_total", routes)+`)`, "{{method}} {{route}} {{code}}")}}).
		series(panel{title: "5xx ratio by route", unit: "percentunit",
			queries: []query{q(ratio("method, route",
				rate("http_requests_total", appSel(s.id, `code=~"5.."`, probeRoutes)),
				rate("http_requests_total", routes)), "{{method}} {{route}}")}}).
		series(panel{title: "p99 latency by route", unit: "s",
			queries: []query{q(quantile("0.99", "method, route", rate("http_request_duration_seconds_bucket", routes)), "{{method}} {{route}}")}})

	if s.consumes || s.sends {
		d.row("Events")
		if s.consumes {
			d.series(panel{title: "Events consumed by topic and status", unit: "ops",
				description: "Events delivered to a handler, by the status it answered: success, retry (redelivered later) or drop (dead-lettered).",
				queries: []query{q(`sum by (messaging_destination_name, status) (`+rate("messaging_client_consumed_messages_total", appSel(s.id))+`)`,
					"{{messaging_destination_name}} {{status}}")}}).
				series(panel{title: "Event handling p99 by topic", unit: "s",
					queries: []query{q(quantile("0.99", "messaging_destination_name", rate("messaging_process_duration_seconds_bucket", appSel(s.id))),
						"{{messaging_destination_name}}")}})
		}
		if s.sends {
			d.series(panel{title: "Events sent by topic", unit: "ops",
				queries: []query{q(`sum by (messaging_destination_name) (`+rate("messaging_client_sent_messages_total", appSel(s.id))+`)`,
					"{{messaging_destination_name}}")}})
		}
		if s.outbox {
			d.series(panel{title: "Outbox backlog", unit: "short",
				queries: []query{q(`max(shopmesh_outbox_events_waiting`+appSel(s.id)+`)`, "events waiting")}}).
				series(panel{title: "Outbox: oldest event age", unit: "s",
					queries: []query{q(`max(shopmesh_outbox_oldest_event_age_seconds`+appSel(s.id)+`)`, "oldest")}})
		}
	}

	if s.business != nil {
		d.row(s.businessRow)
		s.business(d)
	}

	// Both the app and its daprd carry app="<id>"; job tells them apart.
	both := `{app="` + s.id + `"}`
	d.row("Go runtime (app and sidecar)").
		series(panel{title: "Goroutines", unit: "short",
			queries: []query{q(`sum by (job) (go_goroutines`+both+`)`, "{{job}}")}}).
		series(panel{title: "Resident memory", unit: "bytes",
			queries: []query{q(`sum by (job) (process_resident_memory_bytes`+both+`)`, "{{job}}")}}).
		series(panel{title: "CPU", unit: "short",
			description: "CPU seconds per second (cores in use).",
			queries:     []query{q(`sum by (job) (`+rate("process_cpu_seconds_total", both)+`)`, "{{job}}")}})
	return d
}

// sidecars is every daprd: health, the calls it serves the app, service
// invocation, pub/sub both ways, state stores and resiliency. The names
// are daprd 1.17's as Prometheus scrapes them; its latencies are in ms.
func sidecars() *board {
	d := newBoard("dapr-sidecars.json", "shopmesh-dapr-sidecars", "ShopMesh: Dapr sidecars",
		"Every app's daprd: whether Prometheus reaches it and what it loaded, the API calls it serves its app, service invocation between the apps, pub/sub deliveries and publishes, state store operations and resiliency policies.",
		"dapr")
	daprd := `{job="daprd"}`
	// The app's sidecar API calls, without daprd's own health probes.
	api := `{job="daprd", path!~"/v1.0/healthz.*"}`

	d.row("Health").
		series(panel{title: "Sidecar up", unit: "short",
			description: "1 while Prometheus scrapes the sidecar (SidecarDown fires after a minute at 0).",
			queries:     []query{q(`max by (app) (up{job="daprd"})`, "{{app}}")}}).
		series(panel{title: "Components loaded", unit: "short",
			description: "Components each sidecar loaded (state stores, pub/sub, secret store, bindings).",
			queries:     []query{q(`max by (app) (dapr_runtime_component_loaded`+daprd+`)`, "{{app}}")}}).
		series(panel{title: "Resiliency policies loaded", unit: "short",
			queries: []query{q(`max by (app) (dapr_resiliency_loaded`+daprd+`)`, "{{app}}")}})

	d.row("API calls from the app").
		series(panel{title: "HTTP API requests by app", unit: "reqps",
			description: "Requests the app made to its sidecar's HTTP API (service invocation, mostly), health probes left out.",
			queries:     []query{q(`sum by (app) (`+rate("dapr_http_server_request_count", api)+`)`, "{{app}}")}}).
		series(panel{title: "HTTP API p99 by app", unit: "ms",
			queries: []query{q(quantile("0.99", "app", rate("dapr_http_server_latency_bucket", api)), "{{app}}")}}).
		series(panel{title: "gRPC API calls by app and status", unit: "reqps",
			description: "Calls the sidecar's gRPC server completed: the app's SDK calls (state, publish) and other sidecars' invocations.",
			queries: []query{q(`sum by (app, grpc_server_status) (`+rate("dapr_grpc_io_server_completed_rpcs", daprd)+`)`,
				"{{app}} {{grpc_server_status}}")}})

	d.row("Service invocation").
		series(panel{title: "Invocations sent", unit: "reqps", width: 12,
			queries: []query{q(`sum by (app, dst_app_id) (`+rate("dapr_runtime_service_invocation_req_sent_total", daprd)+`)`,
				"{{app}} → {{dst_app_id}}")}}).
		series(panel{title: "Invocation p99", unit: "ms", width: 12,
			description: "Until the answer came back to the caller's sidecar (Dapr labels the callee src_app_id: the answer's source).",
			queries: []query{q(quantile("0.99", "app, src_app_id", rate("dapr_runtime_service_invocation_res_recv_latency_ms_bucket", daprd)),
				"{{app}} → {{src_app_id}}")}})

	d.row("Pub/sub").
		series(panel{title: "Deliveries to the app", unit: "ops",
			description: "Events the sidecar delivered to its app, by topic and the app's answer. The apps subscribe in bulk, so these are daprd's bulk ingress metrics.",
			queries: []query{q(`sum by (app, topic, process_status) (`+rate("dapr_component_pubsub_ingress_bulk_event_count", daprd)+`)`,
				"{{app}} {{topic}} {{process_status}}")}}).
		series(panel{title: "Delivery p99", unit: "ms",
			description: "Time the app took with a bulk delivery, per topic.",
			queries: []query{q(quantile("0.99", "app, topic", rate("dapr_component_pubsub_ingress_bulk_latencies_bucket", daprd)),
				"{{app}} {{topic}}")}}).
		series(panel{title: "Publishes", unit: "ops",
			description: "Events the sidecar published for its app, by topic and success.",
			queries: []query{q(`sum by (app, topic, success) (`+rate("dapr_component_pubsub_egress_count", daprd)+`)`,
				"{{app}} {{topic}} {{success}}")}})

	d.row("State stores and resiliency").
		series(panel{title: "State operations", unit: "ops",
			queries: []query{q(`sum by (component, operation, success) (`+rate("dapr_component_state_count", daprd)+`)`,
				"{{component}} {{operation}} {{success}}")}}).
		series(panel{title: "State operation p99", unit: "ms",
			queries: []query{q(quantile("0.99", "component, operation", rate("dapr_component_state_latencies_bucket", daprd)),
				"{{component}} {{operation}}")}}).
		series(panel{title: "Resiliency policy executions", unit: "ops",
			description: "Retries, timeouts and circuit breakers applied, by policy, target and direction.",
			queries: []query{q(`sum by (app, policy, target, flow_direction) (`+rate("dapr_resiliency_count", daprd)+`)`,
				"{{app}} {{policy}} {{target}} {{flow_direction}}")}})
	return d
}

// built builds every dashboard.
func built() ([]string, []dashboard.Dashboard, error) {
	var files []string
	var out []dashboard.Dashboard
	for _, b := range boards() {
		db, err := b.build()
		if err != nil {
			return nil, nil, err
		}
		files = append(files, b.file)
		out = append(out, db)
	}
	return files, out, nil
}

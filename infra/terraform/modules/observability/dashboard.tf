# The CloudWatch dashboard "<name>-overview" (backend aws): the panels of the
# local overview, on the EMF metrics of the metrics collector (collector.tf):
# RED per service, the checkout saga (funnel, cancellations by reason,
# placed -> confirmed p50 and p99), payments and reservations by outcome, dead
# letters per topic, the outbox, apps and sidecars up, and the alarms.
#
# Percentiles: CloudWatch has no histogram_quantile, so a quantile q is
# computed as Prometheus computes it, in metric math over the bucket counters
# (the series *_bucket with an `le` dimension, see collector.tf): over 5
# minutes, r = q x count; the first bucket whose cumulative count reaches r
# holds the quantile, interpolated linearly inside it; above the highest
# bound, the highest bound. One expression per bucket (the indicator of "this
# bucket holds r" times the interpolation), summed.

locals {
  # Bucket bounds as the apps define them, as `le` label values after the
  # collector's normalisation: internal/platform/metrics (HTTP) and
  # apps/orders/outcomes (placed -> settled). tools/cmd/infracheck checks
  # that they agree.
  http_buckets   = ["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5"]
  settle_buckets = ["0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "300"]

  # Every ShopMesh metric carries the environment.
  env_dims = ["environment", var.environment]

  # Percentile lines' metric entries: for each line, its bucket counters
  # (hidden), r, one term per bucket and the sum. The ids start with the
  # line's key.
  quantile_lines = {
    for key, line in merge(
      { for i, app in var.apps : "http${i}" => { q = 0.99, label = app, metric = "http_request_duration_seconds_bucket", dims = ["app", app], buckets = local.http_buckets } },
      { settle50 = { q = 0.5, label = "p50", metric = "shopmesh_order_settle_duration_seconds_bucket", dims = ["outcome", "confirmed"], buckets = local.settle_buckets } },
      { settle99 = { q = 0.99, label = "p99", metric = "shopmesh_order_settle_duration_seconds_bucket", dims = ["outcome", "confirmed"], buckets = local.settle_buckets } },
      ) : key => concat(
      [for i, b in concat(line.buckets, ["+Inf"]) : concat(
        [local.metric_namespace, line.metric], local.env_dims, line.dims, ["le", b],
        [{ id = "${key}b${i}", stat = "Sum", period = 300, visible = false }],
      )],
      [[{ id = "${key}r", expression = "${line.q} * FILL(${key}b${length(line.buckets)}, 0)", visible = false }]],
      [for i, b in line.buckets : [{
        id      = "${key}t${i}"
        visible = false
        expression = format(
          "((%s < %sr) AND (%sr <= FILL(%sb%d, 0))) * (%s + (%s - %s) * (%sr - %s) / (FILL(%sb%d, 0) - %s + 0.000001))",
          i == 0 ? "0" : "FILL(${key}b${i - 1}, 0)", key, key, key, i,
          i == 0 ? "0" : line.buckets[i - 1], b, i == 0 ? "0" : line.buckets[i - 1],
          key, i == 0 ? "0" : "FILL(${key}b${i - 1}, 0)", key, i, i == 0 ? "0" : "FILL(${key}b${i - 1}, 0)",
        )
      }]],
      [[{ id = "${key}tinf", visible = false, expression = "(FILL(${key}b${length(line.buckets) - 1}, 0) < ${key}r) * ${line.buckets[length(line.buckets) - 1]}" }]],
      [[{
        id         = "${key}q"
        label      = line.label
        expression = "IF(FILL(${key}b${length(line.buckets)}, 0) > 0, ${join(" + ", concat([for i, _ in line.buckets : "${key}t${i}"], ["${key}tinf"]))})"
      }]],
    )
  }

  # concat(...), not flatten: flatten would also flatten each entry.
  red_requests = concat([for i, app in var.apps : [
    [local.metric_namespace, "http_requests_total", local.env_dims[0], local.env_dims[1], "app", app, { id = "q${i}", stat = "Sum", period = 60, visible = false }],
    [{ id = "rps${i}", label = app, expression = "q${i} / PERIOD(q${i})" }],
  ]]...)
  red_errors = concat([for i, app in var.apps : [
    [local.metric_namespace, "http_requests_total", local.env_dims[0], local.env_dims[1], "app", app, { id = "q${i}", stat = "Sum", period = 300, visible = false }],
    [local.metric_namespace, "http_requests_total", local.env_dims[0], local.env_dims[1], "app", app, "code_class", "5xx", { id = "e${i}", stat = "Sum", period = 300, visible = false }],
    [{ id = "ratio${i}", label = app, expression = "IF(q${i} > 0, 100 * FILL(e${i}, 0) / q${i})" }],
  ]]...)

  search = {
    cancelled_by_reason = "SEARCH('{${local.metric_namespace},environment,outcome,reason} MetricName=\"shopmesh_orders_total\" environment=\"${var.environment}\" outcome=\"cancelled\"', 'Sum', 300)"
    payments            = "SEARCH('{${local.metric_namespace},environment,outcome} MetricName=\"shopmesh_payments_total\" environment=\"${var.environment}\"', 'Sum', 300)"
    reservations        = "SEARCH('{${local.metric_namespace},environment,outcome} MetricName=\"shopmesh_reservations_total\" environment=\"${var.environment}\"', 'Sum', 300)"
    dead_letters        = "SEARCH('{${local.metric_namespace},environment,app,messaging_destination_name,status} MetricName=\"messaging_client_consumed_messages_total\" environment=\"${var.environment}\" status=\"drop\"', 'Sum', 300)"
    waiting             = "SEARCH('{${local.metric_namespace},environment,app} MetricName=\"shopmesh_outbox_events_waiting\" environment=\"${var.environment}\"', 'Maximum', 60)"
    oldest              = "SEARCH('{${local.metric_namespace},environment,app} MetricName=\"shopmesh_outbox_oldest_event_age_seconds\" environment=\"${var.environment}\"', 'Maximum', 60)"
    up                  = "SEARCH('{${local.metric_namespace},environment,container,app} MetricName=\"up\" environment=\"${var.environment}\"', 'Minimum', 60)"
  }

  # The graphs: position, title, metric entries, y-axis label and the
  # alarm thresholds drawn on them.
  dashboard_widgets = [
    { x = 0, y = 0, w = 8, title = "Requests per second, by service", metrics = local.red_requests, unit = "req/s", annotations = [] },
    { x = 8, y = 0, w = 8, title = "5xx responses (%), by service", metrics = local.red_errors, unit = "%", annotations = [{ label = "HighServerErrorRatio", value = 100 * local.prometheus_thresholds.server_error_ratio }] },
    { x = 16, y = 0, w = 8, title = "p99 response time (s), by service (without probes and scrapes)", metrics = concat([for i, _ in var.apps : local.quantile_lines["http${i}"]]...), unit = "s", annotations = [] },
    {
      x           = 0
      y           = 6
      w           = 8
      title       = "Checkout saga: orders placed, confirmed, cancelled (per 5 min)"
      metrics     = [for o in ["placed", "confirmed", "cancelled"] : concat([local.metric_namespace, "shopmesh_orders_total"], local.env_dims, ["outcome", o, { stat = "Sum", period = 300, label = o }])]
      unit        = "orders"
      annotations = []
    },
    { x = 8, y = 6, w = 8, title = "Orders cancelled, by reason (per 5 min)", metrics = [[{ id = "reasons", expression = local.search.cancelled_by_reason, label = "" }]], unit = "orders", annotations = [] },
    { x = 16, y = 6, w = 8, title = "Placed -> confirmed, p50 and p99 (s)", metrics = concat(local.quantile_lines.settle50, local.quantile_lines.settle99), unit = "s", annotations = [{ label = "CheckoutSlow", value = local.prometheus_thresholds.checkout_p99_seconds }] },
    { x = 0, y = 12, w = 8, title = "Payments, by outcome (per 5 min)", metrics = [[{ id = "payments", expression = local.search.payments, label = "" }]], unit = "payments", annotations = [] },
    { x = 8, y = 12, w = 8, title = "Reservations, by outcome (per 5 min)", metrics = [[{ id = "reservations", expression = local.search.reservations, label = "" }]], unit = "reservations", annotations = [] },
    { x = 16, y = 12, w = 8, title = "Dead-lettered events, by app and topic (per 5 min)", metrics = [[{ id = "dlq", expression = local.search.dead_letters, label = "" }]], unit = "events", annotations = [] },
    { x = 0, y = 18, w = 8, title = "Outbox: events waiting, by app", metrics = [[{ id = "waiting", expression = local.search.waiting, label = "" }]], unit = "events", annotations = [] },
    { x = 8, y = 18, w = 8, title = "Outbox: oldest event's age (s), by app", metrics = [[{ id = "oldest", expression = local.search.oldest, label = "" }]], unit = "s", annotations = [{ label = "OutboxEventsWaitingTooLong", value = local.prometheus_thresholds.outbox_oldest_age_seconds }] },
    { x = 16, y = 18, w = 8, title = "Up: apps and sidecars (1 = every pod answered)", metrics = [[{ id = "up", expression = local.search.up, label = "" }]], unit = "up", annotations = [] },
  ]
}

resource "aws_cloudwatch_dashboard" "overview" {
  count          = local.cloudwatch ? 1 : 0
  dashboard_name = "${var.name}-overview"
  dashboard_body = jsonencode({
    widgets = concat(
      [for w in local.dashboard_widgets : {
        type   = "metric"
        x      = w.x
        y      = w.y
        width  = w.w
        height = 6
        properties = {
          view        = "timeSeries"
          stacked     = false
          region      = var.region
          title       = w.title
          metrics     = w.metrics
          yAxis       = { left = { label = w.unit, showUnits = false, min = 0 } }
          annotations = { horizontal = w.annotations }
        }
      }],
      [{
        type   = "alarm"
        x      = 0
        y      = 24
        width  = 24
        height = 4
        properties = {
          title  = "Alarms (the Prometheus rules' counterparts and the infrastructure's)"
          alarms = local.dashboard_alarms
        }
      }],
    )
  })
}

# CloudWatch alarms for the conditions of the Prometheus alert rules the
# local stack runs (observability/prometheus/rules/*.rules.yml), on the EMF
# metrics of the metrics collector (collector.tf); backend aws only. Each
# notifies the alarm topic, and again when it clears.
#
# Convention: the counterpart of alert FooBar is the resource
# aws_cloudwatch_metric_alarm.foo_bar, named "<name>-foo-bar" (one per app:
# "<name>-foo-bar-<app>") and tagged PrometheusAlert = "FooBar". The Go test
# tools/cmd/infracheck fails when an alert has no such alarm, or when a
# threshold below differs from its rule's.
#
# How the rules' terms map:
# - increase(x[w]) / rate(x[w]): the Sum of the counter's deltas over a period
#   of w (EMF counters are deltas per scrape, summed over the pods).
# - for: d: consecutive periods (datapoints_to_alarm of evaluation_periods),
#   so an alarm may fire up to a period later than its rule.
# - A per-target `up == 0`: the Minimum of up over the app's pods.
# - No data: notBreaching, as a rule over no series does not fire (no
#   traffic, an app not deployed yet, a topic never used).

locals {
  # The rules' thresholds (checkout.rules.yml, events.rules.yml,
  # services.rules.yml).
  prometheus_thresholds = {
    checkout_success_ratio    = 0.99 # CheckoutSuccessRatioLow: < 0.99
    checkout_p99_seconds      = 5    # CheckoutSlow: p99 > 5 (must be a bucket bound of the settle histogram)
    outbox_oldest_age_seconds = 60   # OutboxEventsWaitingTooLong: > 60
    server_error_ratio        = 0.01 # HighServerErrorRatio: > 0.01
  }

  alarm_apps        = local.cloudwatch ? toset(var.apps) : toset([])
  alarm_outbox_apps = local.cloudwatch ? toset(var.outbox_apps) : toset([])
  alarm_topic       = [aws_sns_topic.alarms.arn]
  alarm_env         = { environment = var.environment }

  # Every alarm of the module, for the dashboard's alarm widget.
  dashboard_alarms = concat(
    aws_cloudwatch_metric_alarm.checkout_success_ratio_low[*].arn,
    aws_cloudwatch_metric_alarm.checkout_slow[*].arn,
    aws_cloudwatch_metric_alarm.event_dead_lettered[*].arn,
    [for a in aws_cloudwatch_metric_alarm.outbox_events_waiting_too_long : a.arn],
    [for a in aws_cloudwatch_metric_alarm.high_server_error_ratio : a.arn],
    [for a in aws_cloudwatch_metric_alarm.sidecar_down : a.arn],
    [for a in aws_cloudwatch_metric_alarm.app_down : a.arn],
    aws_cloudwatch_metric_alarm.api_error_rate[*].arn,
    aws_cloudwatch_metric_alarm.api_latency[*].arn,
    [for a in aws_cloudwatch_metric_alarm.consumer_lag : a.arn],
    [aws_cloudwatch_metric_alarm.rds_cpu.arn, aws_cloudwatch_metric_alarm.rds_storage.arn],
  )
}

# checkout.rules.yml: of the checkouts settled in the last 10 minutes, the
# share confirmed, counting as failures only the cancellations that are the
# platform's fault (every reason but payment_declined and
# cancelled_by_customer, including reasons added later: all cancellations
# minus those two). No failure, no alarm. The rule's `for: 5m` has no
# counterpart: the 10-minute window is one period.
resource "aws_cloudwatch_metric_alarm" "checkout_success_ratio_low" {
  count               = local.cloudwatch ? 1 : 0
  alarm_name          = "${var.name}-checkout-success-ratio-low"
  alarm_description   = "CheckoutSuccessRatioLow: fewer than ${local.prometheus_thresholds.checkout_success_ratio * 100}% of the checkouts settled in 10 minutes were confirmed (declined payments and shoppers' cancellations not counted). Reasons: the dashboard's cancellations by reason."
  comparison_operator = "LessThanThreshold"
  threshold           = local.prometheus_thresholds.checkout_success_ratio
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic
  ok_actions          = local.alarm_topic

  metric_query {
    id          = "ratio"
    expression  = "IF(failed > 0, FILL(confirmed, 0) / (FILL(confirmed, 0) + failed), 1)"
    label       = "Checkouts confirmed / settled (platform failures only)"
    return_data = true
  }

  metric_query {
    id         = "failed"
    expression = "FILL(cancelled, 0) - FILL(declined, 0) - FILL(bycustomer, 0)"
  }

  dynamic "metric_query" {
    for_each = {
      confirmed  = { outcome = "confirmed" }
      cancelled  = { outcome = "cancelled" }
      declined   = { outcome = "cancelled", reason = "payment_declined" }
      bycustomer = { outcome = "cancelled", reason = "cancelled_by_customer" }
    }
    content {
      id = metric_query.key
      metric {
        namespace   = local.metric_namespace
        metric_name = "shopmesh_orders_total"
        dimensions  = merge(local.alarm_env, metric_query.value)
        period      = 600
        stat        = "Sum"
      }
    }
  }

  tags = merge(var.tags, { PrometheusAlert = "CheckoutSuccessRatioLow" })
}

# checkout.rules.yml: placed -> confirmed p99 over 5 minutes above 5 s, for
# 5 minutes. The p99 is above a bucket bound exactly when fewer than 99% of
# the confirmed orders fall within that bucket, which needs no interpolation.
resource "aws_cloudwatch_metric_alarm" "checkout_slow" {
  count               = local.cloudwatch ? 1 : 0
  alarm_name          = "${var.name}-checkout-slow"
  alarm_description   = "CheckoutSlow: the p99 of placed -> confirmed in the orders app is above ${local.prometheus_thresholds.checkout_p99_seconds}s (fewer than 99% of the confirmed orders settled within it), two 5-minute periods running. Look for the slow step in a checkout's trace in X-Ray."
  comparison_operator = "LessThanThreshold"
  threshold           = 0.99
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic
  ok_actions          = local.alarm_topic

  metric_query {
    id          = "within"
    expression  = "IF(total > 0, FILL(fast, 0) / total)"
    label       = "Confirmed within ${local.prometheus_thresholds.checkout_p99_seconds}s / confirmed"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { fast = tostring(local.prometheus_thresholds.checkout_p99_seconds), total = "+Inf" }
    content {
      id = metric_query.key
      metric {
        namespace   = local.metric_namespace
        metric_name = "shopmesh_order_settle_duration_seconds_bucket"
        dimensions  = merge(local.alarm_env, { outcome = "confirmed", le = metric_query.value })
        period      = 300
        stat        = "Sum"
      }
    }
  }

  tags = merge(var.tags, { PrometheusAlert = "CheckoutSlow" })
}

# events.rules.yml: any consumer dead-lettered any event in the last 5
# minutes (no `for`). One alarm for every app and topic; the dashboard shows
# which.
resource "aws_cloudwatch_metric_alarm" "event_dead_lettered" {
  count               = local.cloudwatch ? 1 : 0
  alarm_name          = "${var.name}-event-dead-lettered"
  alarm_description   = "EventDeadLettered: a consumer gave up on an event and dead-lettered it in the last 5 minutes. Which app and topic: the dashboard's dead letters; the cause: the app's logs (the event's trace id); then replay or settle it by hand."
  namespace           = local.metric_namespace
  metric_name         = "messaging_client_consumed_messages_total"
  dimensions          = merge(local.alarm_env, { status = "drop" })
  statistic           = "Sum"
  period              = 60
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 5
  datapoints_to_alarm = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic
  ok_actions          = local.alarm_topic
  tags                = merge(var.tags, { PrometheusAlert = "EventDeadLettered" })
}

# events.rules.yml: an app's outbox holds an event older than 60 s, for 1
# minute.
resource "aws_cloudwatch_metric_alarm" "outbox_events_waiting_too_long" {
  for_each            = local.alarm_outbox_apps
  alarm_name          = "${var.name}-outbox-events-waiting-too-long-${each.key}"
  alarm_description   = "OutboxEventsWaitingTooLong: the oldest event in the outbox of ${each.key} has waited more than ${local.prometheus_thresholds.outbox_oldest_age_seconds}s to be published. Every saga that needs it is stalled: check the daprd of ${each.key} and the pub/sub broker."
  namespace           = local.metric_namespace
  metric_name         = "shopmesh_outbox_oldest_event_age_seconds"
  dimensions          = merge(local.alarm_env, { app = each.key })
  statistic           = "Maximum"
  period              = 60
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.prometheus_thresholds.outbox_oldest_age_seconds
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic
  ok_actions          = local.alarm_topic
  tags                = merge(var.tags, { PrometheusAlert = "OutboxEventsWaitingTooLong" })
}

# services.rules.yml: more than 1% of an app's requests over 5 minutes end
# in 5xx, for 5 minutes.
resource "aws_cloudwatch_metric_alarm" "high_server_error_ratio" {
  for_each            = local.alarm_apps
  alarm_name          = "${var.name}-high-server-error-ratio-${each.key}"
  alarm_description   = "HighServerErrorRatio: more than ${local.prometheus_thresholds.server_error_ratio * 100}% of the HTTP requests ${each.key} served ended in 5xx, two 5-minute periods running. Which routes: the EMF log group's samples of http_requests_total (Logs Insights), or the traces with errors in X-Ray."
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.prometheus_thresholds.server_error_ratio
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic
  ok_actions          = local.alarm_topic

  metric_query {
    id          = "ratio"
    expression  = "IF(requests > 0, FILL(errors, 0) / requests)"
    label       = "5xx / requests (${each.key})"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = {
      requests = { app = each.key }
      errors   = { app = each.key, code_class = "5xx" }
    }
    content {
      id = metric_query.key
      metric {
        namespace   = local.metric_namespace
        metric_name = "http_requests_total"
        dimensions  = merge(local.alarm_env, metric_query.value)
        period      = 300
        stat        = "Sum"
      }
    }
  }

  tags = merge(var.tags, { PrometheusAlert = "HighServerErrorRatio" })
}

# services.rules.yml: an app's daprd cannot be scraped, for 1 minute.
resource "aws_cloudwatch_metric_alarm" "sidecar_down" {
  for_each            = local.alarm_apps
  alarm_name          = "${var.name}-sidecar-down-${each.key}"
  alarm_description   = "SidecarDown: the metrics collector could not scrape the daprd sidecar of a pod of ${each.key}, two 1-minute periods running. Without its sidecar the app reaches no state, pub/sub, secret or other app."
  namespace           = local.metric_namespace
  metric_name         = "up"
  dimensions          = merge(local.alarm_env, { container = "daprd", app = each.key })
  statistic           = "Minimum"
  period              = 60
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic
  ok_actions          = local.alarm_topic
  tags                = merge(var.tags, { PrometheusAlert = "SidecarDown" })
}

# services.rules.yml: an app cannot be scraped, for 1 minute.
resource "aws_cloudwatch_metric_alarm" "app_down" {
  for_each            = local.alarm_apps
  alarm_name          = "${var.name}-app-down-${each.key}"
  alarm_description   = "AppDown: the metrics collector could not scrape the app container of a pod of ${each.key}, two 1-minute periods running."
  namespace           = local.metric_namespace
  metric_name         = "up"
  dimensions          = merge(local.alarm_env, { container = "app", app = each.key })
  statistic           = "Minimum"
  period              = 60
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic
  ok_actions          = local.alarm_topic
  tags                = merge(var.tags, { PrometheusAlert = "AppDown" })
}

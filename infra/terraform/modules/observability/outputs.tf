output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = aws_sns_topic.alarms.arn
}

output "app_log_group" {
  description = "Log group of the containers' logs."
  value       = aws_cloudwatch_log_group.apps.name
}

output "collector_endpoints" {
  description = "Where the apps and sidecars send spans: OTLP/gRPC (dapr/aws/config.yaml) and OTLP/HTTP (the charts' tracing.otlpEndpoint)."
  value = {
    grpc = "${local.collector.name}.${local.collector.namespace}.svc.cluster.local:${local.collector.grpc_port}"
    http = "http://${local.collector.name}.${local.collector.namespace}.svc.cluster.local:${local.collector.http_port}"
  }
}

output "metrics_namespace" {
  description = "Kubernetes namespace of the collector that scrapes the apps' and sidecars' metrics (the charts' networkPolicy.metricsNamespace)."
  value       = local.collector.namespace
}

output "dashboard_name" {
  description = "The CloudWatch dashboard (backend aws; empty with datadog)."
  value       = join("", aws_cloudwatch_dashboard.overview[*].dashboard_name)
}

output "metrics_log_group" {
  description = "Log group of the collector's EMF metrics (backend aws; empty with datadog)."
  value       = join("", aws_cloudwatch_log_group.collector_metrics[*].name)
}

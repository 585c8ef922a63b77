variable "name" {
  description = "Name prefix, e.g. shopmesh-prod."
  type        = string
}

variable "cluster_name" {
  description = "The EKS cluster (Container Insights add-on)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_issuer" {
  description = "The OIDC issuer without https://."
  type        = string
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm)."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Retention of the application log group."
  type        = number
}

variable "alb_arn_suffix" {
  description = "The gateway ALB's ARN suffix (app/<name>/<id>), known after the first helm install; empty: no ALB alarms yet."
  type        = string
}

variable "error_rate_percent" {
  description = "Alarm when more than this percentage of requests end in 5xx over 5 minutes."
  type        = number
}

variable "latency_p99_seconds" {
  description = "Alarm when the p99 target response time exceeds this many seconds over 5 minutes."
  type        = number
}

variable "msk_cluster_name" {
  description = "The MSK cluster (consumer-lag alarms); empty when the stack has none (consumer_lag must then be empty too)."
  type        = string
}

variable "consumer_lag" {
  description = "For each consumer group (app id), the topics it consumes; an alarm per pair when SumOffsetLag exceeds lag_threshold."
  type        = map(list(string))
}

variable "lag_threshold" {
  description = "Messages behind before a consumer-lag alarm."
  type        = number
}

variable "rds_instance_id" {
  description = "The PostgreSQL primary (CPU and storage alarms)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

variable "region" {
  description = "AWS region of the environment (the collectors' exporters and the dashboard)."
  type        = string
}

variable "apps" {
  description = "The Dapr app ids (one alarm per app for errors, app down and sidecar down; one line per app on the dashboard)."
  type        = list(string)
}

variable "outbox_apps" {
  description = "The apps that publish through the kit's outbox (internal/platform/outbox): one outbox-age alarm each."
  type        = list(string)
}

variable "app_namespace" {
  description = "Kubernetes namespace of the services, whose pods the metrics collector scrapes."
  type        = string
}

variable "kms_key_arn" {
  description = "The environment's KMS key (the collectors may decrypt the Datadog API key's secret with it)."
  type        = string
}

variable "backend" {
  description = "Where the collectors send traces and metrics: aws (X-Ray, CloudWatch EMF, and this module's dashboard and alarms on them) or datadog (the datadog exporter)."
  type        = string
  validation {
    condition     = contains(["aws", "datadog"], var.backend)
    error_message = "The observability backend is aws or datadog."
  }
}

variable "datadog" {
  description = "With backend datadog: the Datadog site (e.g. datadoghq.eu) and the Secrets Manager name of the API key (a plain string)."
  type = object({
    site           = string
    api_key_secret = string
  })
}

variable "collector" {
  description = "The OpenTelemetry collectors: chart and image versions, replicas of the OTLP gateway and of the tail-sampling tier, and the tail-sampling policy (every error trace, every trace slower than slow_trace_ms, keep_percent of the rest)."
  type = object({
    chart_version    = string
    adot_version     = string
    contrib_version  = string
    gateway_replicas = number
    sampler_replicas = number
    slow_trace_ms    = number
    keep_percent     = number
  })
  validation {
    condition     = var.collector.gateway_replicas >= 1 && var.collector.sampler_replicas >= 1 && var.collector.keep_percent >= 0 && var.collector.keep_percent <= 100
    error_message = "At least one replica of each tier; keep_percent between 0 and 100."
  }
}

variable "environment" {
  description = "dev, staging or prod: a dimension of every ShopMesh metric (environments may share an account and region) and the spans' deployment.environment.name."
  type        = string
}

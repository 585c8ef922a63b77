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

variable "environment" {
  description = "dev, staging or prod."
  type        = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "The environment must be dev, staging or prod."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "availability_zones" {
  description = "Three zones of the region."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) == 3
    error_message = "ShopMesh spreads over exactly three zones."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC (a /16)."
  type        = string
}

variable "domain" {
  description = "The shop's domain; a Route 53 hosted zone of the account."
  type        = string
}

variable "email_from" {
  description = "Sender of the shop's e-mails, a verified SES identity (SHOPMESH_EMAIL_FROM)."
  type        = string
}

variable "ses_identity_arns" {
  description = "SES identities the notifications app may send as."
  type        = list(string)
}

variable "kubernetes_version" {
  description = "EKS version."
  type        = string
}

variable "eks_public_access_cidrs" {
  description = "Who may reach the Kubernetes API from the internet (empty: private only)."
  type        = list(string)
}

variable "node_groups" {
  description = "Sizes of the on-demand and spot node groups (spot.max_size 0: no spot group)."
  type = object({
    on_demand = object({ instance_types = list(string), min_size = number, max_size = number, desired_size = number })
    spot      = object({ instance_types = list(string), min_size = number, max_size = number, desired_size = number })
  })
}

variable "dapr_version" {
  description = "Dapr control plane chart version (the version of the daprd the project builds and tests: 1.17.5)."
  type        = string
}

variable "chart_versions" {
  description = "Versions of the cluster add-on charts."
  type = object({
    cluster_autoscaler             = string
    aws_load_balancer_controller   = string
    secrets_store_csi_driver       = string
    secrets_store_csi_provider_aws = string
    gateway_api_controller         = string
  })
}

variable "enable_lattice" {
  description = "Install the AWS Gateway API Controller (charts' mesh.mode lattice)."
  type        = bool
}

variable "rds" {
  description = "PostgreSQL sizing and protection."
  type = object({
    engine_version        = string
    instance_class        = string
    allocated_storage     = number
    multi_az              = bool
    read_replica          = bool
    backup_retention_days = number
  })
}

variable "documentdb" {
  description = "DocumentDB sizing."
  type = object({
    instance_class = string
    instance_count = number
  })
}

variable "opensearch" {
  description = "OpenSearch sizing."
  type = object({
    engine_version = string
    instance_type  = string
    instance_count = number
    zone_count     = number
    volume_size    = number
  })
}

variable "elasticache" {
  description = "ElastiCache sizing."
  type = object({
    node_type = string
    replicas  = number
  })
}

variable "msk" {
  description = "MSK sizing."
  type = object({
    kafka_version       = string
    instance_type       = string
    brokers_per_zone    = number
    volume_size         = number
    enhanced_monitoring = string
  })
}

variable "component_alternatives" {
  description = "Files of components/aws-alternatives the charts use instead of the defaults (catalog-store.rds, notifications-store.rds, pubsub.snssqs); Terraform creates what they need."
  type        = list(string)
  validation {
    condition     = alltrue([for a in var.component_alternatives : contains(["catalog-store.rds", "notifications-store.rds", "pubsub.snssqs"], a)])
    error_message = "Alternatives are catalog-store.rds, notifications-store.rds and pubsub.snssqs."
  }
}

variable "waf" {
  description = "WAF settings: requests per IP per 5 minutes, blocked countries and IPs, IPs exempt from the rate limit."
  type = object({
    rate_limit        = number
    blocked_countries = list(string)
    blocked_ips       = list(string)
    allowed_ips       = list(string)
  })
}

variable "cloudfront_price_class" {
  description = "CloudFront price class."
  type        = string
}

variable "alb" {
  description = "The ALB of the gateway and the storefront (the charts' Ingress group) once the AWS Load Balancer Controller made it (second apply): DNS name, hosted zone id and ARN suffix; null before."
  type = object({
    dns_name   = string
    zone_id    = string
    arn_suffix = string
  })
  default = null
}

variable "alarms" {
  description = "Alarm recipients and thresholds."
  type = object({
    emails              = list(string)
    error_rate_percent  = number
    latency_p99_seconds = number
    lag_threshold       = number
  })
}

variable "protect" {
  description = "Deletion protection and longer retention for stateful resources (prod)."
  type        = bool
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups."
  type        = number
}

variable "observability_backend" {
  description = "Where the OpenTelemetry collectors send traces and metrics: aws (X-Ray; CloudWatch EMF with the ShopMesh dashboard and the alarms matching the Prometheus rules) or datadog (the datadog exporter, API key from Secrets Manager: see datadog). docs/deploy-aws.md, Observability."
  type        = string
  default     = "aws"
  validation {
    condition     = contains(["aws", "datadog"], var.observability_backend)
    error_message = "observability_backend is aws or datadog."
  }
}

variable "datadog" {
  description = "With observability_backend datadog: the Datadog site (datadoghq.com, datadoghq.eu, ...) and api_key_secret, the Secrets Manager name of the API key (a plain string you create; the collectors read it with their IRSA roles)."
  type = object({
    site           = string
    api_key_secret = string
  })
  default = {
    site           = "datadoghq.eu"
    api_key_secret = ""
  }
}

variable "collector" {
  description = "The OpenTelemetry collectors: chart_version (open-telemetry/opentelemetry-collector), adot_version (ADOT collector image tag), contrib_version (otel/opentelemetry-collector-contrib image tag), gateway_replicas (the OTLP endpoint), sampler_replicas (tail sampling), and the tail-sampling policy: every error trace, every trace slower than slow_trace_ms, keep_percent of the rest."
  type = object({
    chart_version    = string
    adot_version     = string
    contrib_version  = string
    gateway_replicas = number
    sampler_replicas = number
    slow_trace_ms    = number
    keep_percent     = number
  })
}

variable "name" {
  description = "Cluster name, e.g. shopmesh-prod."
  type        = string
}

variable "environment" {
  description = "dev, staging or prod (secret names)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "subnet_ids" {
  description = "One subnet per zone; brokers are spread over them."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the EKS nodes and pods)."
  type        = list(string)
}

variable "kafka_version" {
  description = "Kafka version (the pubsub component's version metadata)."
  type        = string
}

variable "instance_type" {
  description = "Broker instance type."
  type        = string
}

variable "brokers_per_zone" {
  description = "Brokers in each zone."
  type        = number
}

variable "volume_size" {
  description = "EBS storage per broker, GiB."
  type        = number
}

variable "enhanced_monitoring" {
  description = "CloudWatch metrics level (consumer-lag alarms need per-topic metrics in prod)."
  type        = string
}

variable "kms_key_arn" {
  description = "Key for encryption at rest and the SCRAM secrets (MSK requires a customer managed key)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the broker log group."
  type        = number
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

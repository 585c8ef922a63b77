variable "name" {
  description = "Replication group id, e.g. shopmesh-prod."
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
  description = "Database subnets of every zone."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the EKS nodes and pods)."
  type        = list(string)
}

variable "node_type" {
  description = "Cache node type."
  type        = string
}

variable "replicas" {
  description = "Replicas besides the primary (at least 1 for Multi-AZ failover)."
  type        = number
}

variable "token_readers" {
  description = "Apps given a copy of the AUTH token as shopmesh/<env>/<app>/redis-auth-token (orders: cart-store; gateway: cache and rate limits)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Key for encryption at rest and the secrets."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

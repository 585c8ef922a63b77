variable "name" {
  description = "Name prefix, e.g. shopmesh-prod."
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

variable "instance_class" {
  description = "Instance class of the cluster's instances."
  type        = string
}

variable "instance_count" {
  description = "Instances (one primary, the rest replicas in other zones)."
  type        = number
}

variable "apps" {
  description = "Apps whose user password is generated here (catalog, notifications)."
  type        = list(string)
}

variable "deletion_protection" {
  description = "Protect the cluster against deletion."
  type        = bool
}

variable "backup_retention_days" {
  description = "Automated backups kept, in days."
  type        = number
}

variable "kms_key_arn" {
  description = "Key for storage and the secrets."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

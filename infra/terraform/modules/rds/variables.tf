variable "name" {
  description = "Name prefix, e.g. shopmesh-prod."
  type        = string
}

variable "environment" {
  description = "dev, staging or prod: the $${SHOPMESH_ENV} of the secret names."
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

variable "engine_version" {
  description = "PostgreSQL major.minor version."
  type        = string
}

variable "instance_class" {
  description = "Instance class of the primary and the replica."
  type        = string
}

variable "allocated_storage" {
  description = "Initial storage in GiB (gp3, autoscaled up to 5 times)."
  type        = number
}

variable "multi_az" {
  description = "A synchronous standby in another zone."
  type        = bool
}

variable "read_replica" {
  description = "An asynchronous read replica (reporting, failover drills)."
  type        = bool
}

variable "apps" {
  description = "Apps with a database, role and secrets here (users, orders, payments; catalog and notifications with the RDS alternatives)."
  type        = list(string)
}

variable "deletion_protection" {
  description = "Protect the database (and take a final snapshot) against deletion."
  type        = bool
}

variable "backup_retention_days" {
  description = "Automated backups kept, in days."
  type        = number
}

variable "kms_key_arn" {
  description = "Key for storage, Performance Insights and the secrets."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

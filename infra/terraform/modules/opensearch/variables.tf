variable "name" {
  description = "Domain name, e.g. shopmesh-prod (at most 28 characters)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets, one per zone used."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the EKS nodes and pods)."
  type        = list(string)
}

variable "engine_version" {
  description = "OpenSearch version, e.g. OpenSearch_2.19."
  type        = string
}

variable "instance_type" {
  description = "Data node instance type."
  type        = string
}

variable "instance_count" {
  description = "Data nodes (a multiple of the zone count)."
  type        = number
}

variable "zone_count" {
  description = "Zones the data nodes spread over (1 disables zone awareness)."
  type        = number
}

variable "volume_size" {
  description = "EBS volume per data node, GiB."
  type        = number
}

variable "reader_role_arns" {
  description = "IAM roles allowed to call the domain's HTTP API (the search app)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Key for encryption at rest."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

variable "name" {
  description = "Name prefix of every resource, e.g. shopmesh-prod."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 range of the VPC; split into public, private and database subnets over the zones."
  type        = string
}

variable "availability_zones" {
  description = "The zones to spread over (three for Multi-AZ services)."
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, dev) instead of one per zone."
  type        = bool
}

variable "cluster_name" {
  description = "EKS cluster name, tagged on subnets for the AWS Load Balancer Controller and the cluster autoscaler."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

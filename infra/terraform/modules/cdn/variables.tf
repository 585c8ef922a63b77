variable "name" {
  description = "Name prefix, e.g. shopmesh-prod."
  type        = string
}

variable "domain" {
  description = "The shop's domain, e.g. shop.example (a Route 53 hosted zone of this account)."
  type        = string
}

variable "api_origin_host" {
  description = "Host name of CloudFront's ALB origin: the host of the charts' Ingress group (ingress.host: the gateway's API and the storefront's pages), e.g. origin.shop.example."
  type        = string
}

variable "alb" {
  description = "The ALB of the charts' Ingress group (gateway and storefront), created by the AWS Load Balancer Controller after the first helm install: its DNS name and hosted zone id (null before it exists)."
  type = object({
    dns_name = string
    zone_id  = string
  })
  default = null
}

variable "vpc_id" {
  description = "The VPC of the ALB."
  type        = string
}

variable "vpc_cidr" {
  description = "The VPC's range: where the ALB sends to its targets."
  type        = string
}

variable "web_acl_arn" {
  description = "WAF web ACL (scope CLOUDFRONT)."
  type        = string
}

variable "origin_shield_region" {
  description = "Region of CloudFront's Origin Shield (the ALB's region)."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

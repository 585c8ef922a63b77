variable "name" {
  description = "Web ACL name, e.g. shopmesh-prod."
  type        = string
}

variable "rate_limit" {
  description = "Requests per client IP in any 5 minutes before it is blocked."
  type        = number
}

variable "blocked_countries" {
  description = "ISO 3166 country codes blocked outright (empty: none)."
  type        = list(string)
}

variable "blocked_ips" {
  description = "IPv4 CIDRs always blocked."
  type        = list(string)
}

variable "allowed_ips" {
  description = "IPv4 CIDRs exempt from the rate limit (monitoring, partners)."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Retention of the WAF log group."
  type        = number
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

variable "name" {
  description = "IAM role name."
  type        = string
}

variable "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_issuer" {
  description = "The OIDC issuer without https:// (condition key prefix)."
  type        = string
}

variable "service_accounts" {
  description = "Service accounts allowed to assume the role, as namespace:name."
  type        = list(string)
}

variable "policy_json" {
  description = "Inline policy of the role (JSON); null for none."
  type        = string
  default     = null
}

variable "managed_policy_arns" {
  description = "Managed policies attached to the role."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

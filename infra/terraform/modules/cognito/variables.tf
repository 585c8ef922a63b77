variable "name" {
  description = "User pool name, e.g. shopmesh-prod."
  type        = string
}

variable "environment" {
  description = "dev, staging or prod (secret names)."
  type        = string
}

variable "deletion_protection" {
  description = "Protect the user pool against deletion."
  type        = bool
}

variable "kms_key_arn" {
  description = "Key of the app client's secret."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

variable "name" {
  description = "Table name: shopmesh-<env>-inventory (components/aws/inventory-store.yaml)."
  type        = string
}

variable "deletion_protection" {
  description = "Protect the table against deletion."
  type        = bool
}

variable "kms_key_arn" {
  description = "Key for encryption at rest."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

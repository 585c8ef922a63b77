variable "name" {
  description = "Name prefix, e.g. shopmesh-prod."
  type        = string
}

variable "deletion_window_days" {
  description = "Days a deleted key can still be recovered."
  type        = number
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

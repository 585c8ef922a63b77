variable "prefix" {
  description = "Repository prefix (the charts' image.repositoryPrefix)."
  type        = string
}

variable "images" {
  description = "Image names: the app ids and migrate."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Key for the images at rest."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

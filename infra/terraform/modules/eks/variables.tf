variable "name" {
  description = "Cluster name, e.g. shopmesh-prod."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version (the charts are validated against a 1.34 kube-apiserver)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Subnets of the nodes and of the control plane's network interfaces."
  type        = list(string)
}

variable "public_access_cidrs" {
  description = "Who may reach the public API endpoint (empty: private endpoint only)."
  type        = list(string)
}

variable "on_demand" {
  description = "On-demand node group: instance types and sizes. Critical services run here."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
  })
}

variable "spot" {
  description = "Spot node group (tainted shopmesh.io/spot=true:NoSchedule) for services the charts mark non-critical; max_size 0 disables it."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
  })
}

variable "kms_key_arn" {
  description = "KMS key encrypting Kubernetes Secrets."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the control plane's log group."
  type        = number
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

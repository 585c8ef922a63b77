variable "cluster_name" {
  description = "The EKS cluster."
  type        = string
}

variable "region" {
  description = "AWS region of the cluster."
  type        = string
}

variable "vpc_id" {
  description = "The cluster's VPC (AWS Load Balancer Controller)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_issuer" {
  description = "The OIDC issuer without https://."
  type        = string
}

variable "dapr_version" {
  description = "Dapr control plane Helm chart version, pinned to 1.17.5 (the daprd version the project builds from the module proxy and tests)."
  type        = string
}

variable "dapr_ha" {
  description = "Run the Dapr control plane highly available (three replicas of each service)."
  type        = bool
}

variable "chart_versions" {
  description = "Versions of the other Helm charts: cluster_autoscaler, aws_load_balancer_controller, secrets_store_csi_driver, secrets_store_csi_provider_aws, gateway_api_controller."
  type = object({
    cluster_autoscaler             = string
    aws_load_balancer_controller   = string
    secrets_store_csi_driver       = string
    secrets_store_csi_provider_aws = string
    gateway_api_controller         = string
  })
}

variable "enable_lattice" {
  description = "Install the AWS Gateway API Controller for VPC Lattice (charts' mesh.mode lattice)."
  type        = bool
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

output "dapr_version" {
  description = "The Dapr control plane (and so sidecar) version installed."
  value       = helm_release.dapr.version
}

output "storage_class" {
  description = "The default StorageClass."
  value       = kubernetes_storage_class_v1.gp3.metadata[0].name
}

output "bootstrap_brokers_scram" {
  description = "SASL/SCRAM bootstrap brokers, host:9096,… (SHOPMESH_MSK_BROKERS)."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_scram
}

output "cluster_name" {
  description = "Name of the cluster (CloudWatch dimension)."
  value       = aws_msk_cluster.this.cluster_name
}

output "endpoint" {
  description = "Address of the primary."
  value       = aws_db_instance.primary.address
}

output "replica_endpoint" {
  description = "Address of the read replica (null without one)."
  value       = var.read_replica ? aws_db_instance.replica[0].address : null
}

output "instance_id" {
  description = "Identifier of the primary (CloudWatch dimension)."
  value       = aws_db_instance.primary.identifier
}

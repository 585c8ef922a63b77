output "endpoint" {
  description = "The cluster endpoint as host:port (SHOPMESH_DOCDB_HOST)."
  value       = "${aws_docdb_cluster.this.endpoint}:${aws_docdb_cluster.this.port}"
}

output "cluster_id" {
  description = "Identifier of the cluster."
  value       = aws_docdb_cluster.this.id
}

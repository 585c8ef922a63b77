output "primary_endpoint" {
  description = "Primary endpoint as host:port (SHOPMESH_CART_REDIS_HOST, the gateway's REDIS_ADDR)."
  value       = "${aws_elasticache_replication_group.this.primary_endpoint_address}:6379"
}

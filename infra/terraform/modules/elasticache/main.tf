# ElastiCache for Redis OSS, cluster mode DISABLED (Dapr's multi-key
# transactions need one keyspace), Multi-AZ with
# automatic failover, TLS in transit, AUTH token, encrypted at rest. Carts
# (cart-store) use database 0; the gateway's cache and rate limits use 1.

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis from the cluster"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Redis from the cluster"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "random_password" "auth" {
  length  = 64
  special = false
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "ShopMesh carts, cache and rate limits"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.node_type
  num_cache_clusters         = var.replicas + 1
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.this.id]
  automatic_failover_enabled = var.replicas > 0
  multi_az_enabled           = var.replicas > 0
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  auth_token                 = random_password.auth.result
  snapshot_retention_limit   = 3
  apply_immediately          = false
  tags                       = var.tags
}

resource "aws_secretsmanager_secret" "auth" {
  for_each                = toset(var.token_readers)
  name                    = "shopmesh/${var.environment}/${each.key}/redis-auth-token"
  description             = "ElastiCache AUTH token (${each.key})"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "auth" {
  for_each      = toset(var.token_readers)
  secret_id     = aws_secretsmanager_secret.auth[each.key].id
  secret_string = random_password.auth.result
}

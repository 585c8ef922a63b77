# Amazon DocumentDB for catalog-store and notifications-store (state.mongodb):
# TLS required, replica set rs0 (transactions: the kit's outbox writes its
# record in the app's own state transaction). The apps' users (catalog,
# notifications; database of the same name, role readWrite) are created with mongosh from inside the VPC with the master
# password (docs/deploy-aws.md): Terraform cannot reach the cluster. Their
# passwords are generated here and stored as
#   shopmesh/<env>/<app>/docdb-password   (alphanumeric: no URI escaping needed)
# Caveat: contrib v1.17.3's mongodb store still saves every Set (also inside a
# transaction) as an upserting UpdateOne with an aggregation pipeline ($set of
# the value and a new ETag, then $addFields of the TTL from $$NOW; state/mongodb
# mongodb.go setInternal), which DocumentDB may reject; untested here.
# components/aws-alternatives has RDS variants.

resource "aws_docdb_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-docdb"
  description = "DocumentDB from the cluster"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "mongodb" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "DocumentDB from the cluster"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 27017
  to_port                      = 27017
}

resource "aws_docdb_cluster_parameter_group" "this" {
  name   = "${var.name}-docdb"
  family = "docdb5.0"

  parameter {
    name  = "tls"
    value = "enabled"
  }

  parameter {
    name  = "audit_logs"
    value = "enabled"
  }

  tags = var.tags
}

resource "random_password" "master" {
  length  = 32
  special = false
}

resource "aws_docdb_cluster" "this" {
  cluster_identifier              = var.name
  engine                          = "docdb"
  engine_version                  = "5.0.0"
  master_username                 = "shopmesh_admin"
  master_password                 = random_password.master.result
  db_subnet_group_name            = aws_docdb_subnet_group.this.name
  vpc_security_group_ids          = [aws_security_group.this.id]
  db_cluster_parameter_group_name = aws_docdb_cluster_parameter_group.this.name
  storage_encrypted               = true
  kms_key_id                      = var.kms_key_arn
  backup_retention_period         = var.backup_retention_days
  deletion_protection             = var.deletion_protection
  skip_final_snapshot             = !var.deletion_protection
  final_snapshot_identifier       = var.deletion_protection ? "${var.name}-docdb-final" : null
  enabled_cloudwatch_logs_exports = ["audit", "profiler"]
  tags                            = var.tags
}

resource "aws_docdb_cluster_instance" "this" {
  count              = var.instance_count
  identifier         = "${var.name}-docdb-${count.index}"
  cluster_identifier = aws_docdb_cluster.this.id
  instance_class     = var.instance_class
  tags               = var.tags
}

resource "aws_secretsmanager_secret" "master" {
  name                    = "shopmesh/${var.environment}/shared/docdb-master-password"
  description             = "DocumentDB master password (creating the apps' users only)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "master" {
  secret_id     = aws_secretsmanager_secret.master.id
  secret_string = random_password.master.result
}

resource "random_password" "app" {
  for_each = toset(var.apps)
  length   = 32
  special  = false
}

resource "aws_secretsmanager_secret" "app" {
  for_each                = toset(var.apps)
  name                    = "shopmesh/${var.environment}/${each.key}/docdb-password"
  description             = "DocumentDB password of user ${each.key} (Dapr ${each.key}-store)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  for_each      = toset(var.apps)
  secret_id     = aws_secretsmanager_secret.app[each.key].id
  secret_string = random_password.app[each.key].result
}

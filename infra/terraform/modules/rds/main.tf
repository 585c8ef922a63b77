# RDS for PostgreSQL: Multi-AZ primary, optional read replica, TLS forced.
# One database and login role per app is created by the app's migration Job
# (the migrate command with the master DSN); Terraform generates their
# passwords and writes the secrets the Dapr components and the Jobs read
# (docs/aws-components.md):
#   shopmesh/<env>/<app>/rds-dsn          the whole DSN (state.postgresql v2)
#   shopmesh/<env>/<app>/migrate-secrets  {"<app>-db-password", "<app>-store-dsn"}
#   shopmesh/<env>/shared/rds-admin-dsn   the master DSN (migration Jobs only)

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-rds"
  description = "PostgreSQL from the cluster"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL from the cluster"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_parameter_group" "this" {
  name   = "${var.name}-postgres"
  family = "postgres${split(".", var.engine_version)[0]}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }

  tags = var.tags
}

resource "random_password" "master" {
  length  = 32
  special = false
}

resource "aws_db_instance" "primary" {
  identifier                            = var.name
  engine                                = "postgres"
  engine_version                        = var.engine_version
  instance_class                        = var.instance_class
  allocated_storage                     = var.allocated_storage
  max_allocated_storage                 = var.allocated_storage * 5
  storage_type                          = "gp3"
  storage_encrypted                     = true
  kms_key_id                            = var.kms_key_arn
  username                              = "shopmesh_admin"
  password                              = random_password.master.result
  multi_az                              = var.multi_az
  db_subnet_group_name                  = aws_db_subnet_group.this.name
  vpc_security_group_ids                = [aws_security_group.this.id]
  parameter_group_name                  = aws_db_parameter_group.this.name
  backup_retention_period               = var.backup_retention_days
  deletion_protection                   = var.deletion_protection
  skip_final_snapshot                   = !var.deletion_protection
  final_snapshot_identifier             = var.deletion_protection ? "${var.name}-final" : null
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  auto_minor_version_upgrade            = true
  copy_tags_to_snapshot                 = true
  apply_immediately                     = false
  iam_database_authentication_enabled   = false
  performance_insights_retention_period = 7
  tags                                  = var.tags
}

resource "aws_db_instance" "replica" {
  count                           = var.read_replica ? 1 : 0
  identifier                      = "${var.name}-replica"
  replicate_source_db             = aws_db_instance.primary.identifier
  instance_class                  = var.instance_class
  storage_encrypted               = true
  kms_key_id                      = var.kms_key_arn
  vpc_security_group_ids          = [aws_security_group.this.id]
  parameter_group_name            = aws_db_parameter_group.this.name
  performance_insights_enabled    = true
  performance_insights_kms_key_id = var.kms_key_arn
  auto_minor_version_upgrade      = true
  skip_final_snapshot             = true
  tags                            = var.tags
}

resource "random_password" "app" {
  for_each = toset(var.apps)
  length   = 32
  special  = false
}

locals {
  # libpq keyword DSNs (what Dapr's connectionString and the migrate command
  # take); the CA bundle is mounted at /etc/rds in daprd and in the Jobs.
  tls = "sslmode=verify-full sslrootcert=/etc/rds/global-bundle.pem"
  app_dsn = {
    for app in var.apps : app => "host=${aws_db_instance.primary.address} port=${aws_db_instance.primary.port} user=${app} password=${random_password.app[app].result} dbname=${app} ${local.tls}"
  }
  admin_dsn = "host=${aws_db_instance.primary.address} port=${aws_db_instance.primary.port} user=${aws_db_instance.primary.username} password=${random_password.master.result} dbname=postgres ${local.tls}"
}

resource "aws_secretsmanager_secret" "dsn" {
  for_each                = toset(var.apps)
  name                    = "shopmesh/${var.environment}/${each.key}/rds-dsn"
  description             = "DSN of ${each.key}'s PostgreSQL database (Dapr ${each.key}-store)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "dsn" {
  for_each      = toset(var.apps)
  secret_id     = aws_secretsmanager_secret.dsn[each.key].id
  secret_string = local.app_dsn[each.key]
}

resource "aws_secretsmanager_secret" "migrate" {
  for_each                = toset(var.apps)
  name                    = "shopmesh/${var.environment}/${each.key}/migrate-secrets"
  description             = "Secrets file of ${each.key}'s migration Job"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "migrate" {
  for_each  = toset(var.apps)
  secret_id = aws_secretsmanager_secret.migrate[each.key].id
  secret_string = jsonencode({
    "${each.key}-db-password" = random_password.app[each.key].result
    "${each.key}-store-dsn"   = local.app_dsn[each.key]
  })
}

resource "aws_secretsmanager_secret" "admin" {
  name                    = "shopmesh/${var.environment}/shared/rds-admin-dsn"
  description             = "Master DSN of the PostgreSQL instance (migration Jobs only)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "admin" {
  secret_id     = aws_secretsmanager_secret.admin.id
  secret_string = local.admin_dsn
}

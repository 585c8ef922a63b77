# Amazon MSK for the pubsub component: SASL/SCRAM-SHA-512 over TLS (port 9096),
# TLS between brokers, encryption at rest with the environment's key,
# auto-creation of topics off (create the topics listed in
# docs/aws-components.md before the apps start). MSK IAM auth failed with IRSA
# in every Dapr 1.14.x; in contrib v1.17.3 the Kafka component's AWS auth
# falls back to the SDK's default credential chain (common/aws/config.go
# NewConfig), so IRSA may work, but nothing here has tried it: SCRAM stays.
#
# The SCRAM user "shopmesh" lives in the AmazonMSK_-prefixed JSON secret MSK
# reads. Contrib v1.17.3's Secrets Manager store splits a JSON secret into
# fields only with multipleKeyValuesPerSecret: "true" (default false), which
# components/aws/secretstore.yaml does not set, so the password is also stored
# alone as shopmesh/<env>/shared/msk-scram-password (the one the apps' roles
# may read; none may read the AmazonMSK_ secret).

resource "aws_security_group" "this" {
  name        = "${var.name}-msk"
  description = "Kafka SASL/SCRAM over TLS from the cluster"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "scram" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Kafka SASL/SCRAM from the cluster"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9096
  to_port                      = 9096
}

resource "aws_msk_configuration" "this" {
  name           = var.name
  kafka_versions = [var.kafka_version]
  server_properties = join("\n", [
    "auto.create.topics.enable=false",
    "default.replication.factor=3",
    "min.insync.replicas=2",
    "num.partitions=6",
    "unclean.leader.election.enable=false",
    "allow.everyone.if.no.acl.found=true",
  ])
}

resource "aws_cloudwatch_log_group" "brokers" {
  name              = "/shopmesh/${var.name}/msk"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.brokers_per_zone * length(var.subnet_ids)
  enhanced_monitoring    = var.enhanced_monitoring

  broker_node_group_info {
    instance_type   = var.instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.volume_size
      }
    }
  }

  client_authentication {
    unauthenticated = false
    sasl {
      scram = true
      iam   = false
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.brokers.name
      }
    }
  }

  tags = var.tags
}

resource "random_password" "scram" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "scram" {
  # MSK only reads secrets whose name starts with AmazonMSK_.
  name                    = "AmazonMSK_${var.name}_shopmesh"
  description             = "SCRAM credentials of the MSK user shopmesh"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "scram" {
  secret_id     = aws_secretsmanager_secret.scram.id
  secret_string = jsonencode({ username = "shopmesh", password = random_password.scram.result })
}

resource "aws_msk_scram_secret_association" "this" {
  cluster_arn     = aws_msk_cluster.this.arn
  secret_arn_list = [aws_secretsmanager_secret.scram.arn]

  depends_on = [aws_secretsmanager_secret_version.scram]
}

resource "aws_secretsmanager_secret" "password" {
  name                    = "shopmesh/${var.environment}/shared/msk-scram-password"
  description             = "SCRAM password of the MSK user shopmesh (the pubsub component)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "password" {
  secret_id     = aws_secretsmanager_secret.password.id
  secret_string = random_password.scram.result
}

# One IAM role per app for IRSA (the charts' ServiceAccount <app> and its
# migration Job's <app>-migrate), holding what the app's Dapr sidecar needs
# (docs/aws-components.md "IAM"), the secrets the Secrets Store CSI driver
# mounts with it (secretEnv, migration Job) and, for users and search, what the
# app calls itself. The charts name the role
# arn:aws:iam::<account>:role/shopmesh-<env>-<app>.

locals {
  # Secrets Manager ARNs end in "-" and 6 random characters: a name is
  # granted as "<name>-*".
  secret_arn_prefix = "arn:${local.partition}:secretsmanager:${var.region}:${local.account_id}:secret:"

  # The secrets each app's daprd reads (contrib v1.17.3's Secrets Manager
  # store makes no AWS call in Init, so nothing else is needed): the
  # secretKeyRefs of the components the sidecar loads (components/aws and the
  # chosen components/aws-alternatives; a component is loaded by the apps of
  # its scopes, or by all when it has none), plus what an app reads through
  # the Dapr secrets API. Keep in step with those files.
  dapr_secrets = {
    for app in local.apps : app => concat(
      # pubsub (MSK, scoped to every app but the storefront). The snssqs
      # alternative has no secret.
      local.kafka && app != "storefront" ? ["shopmesh/${var.environment}/shared/msk-scram-password"] : [],
      # <app>-store on RDS PostgreSQL (users, orders, payments; catalog and
      # notifications with their .rds alternative) or on DocumentDB.
      contains(local.rds_apps, app) ? ["shopmesh/${var.environment}/${app}/rds-dsn"] : [],
      contains(local.docdb_apps, app) ? ["shopmesh/${var.environment}/${app}/docdb-password"] : [],
      # cart-store (ElastiCache, scoped to orders).
      app == "orders" ? ["shopmesh/${var.environment}/orders/redis-auth-token"] : [],
      # The users app's own GetSecret calls (apps/users/secrets): the admin
      # account at every start-up. The signing keys (jwt-signing-key,
      # jwt-signing-key-id, jwt-previous-signing-key, jwt-previous-signing-key-id)
      # are read only by the built-in identity provider, which AWS does not run
      # (IDENTITY_PROVIDER=cognito in outputs.tf): add them if that changes.
      app == "users" ? ["admin-email", "admin-password"] : [],
      # The storefront's own GetSecret call (apps/storefront/secrets): the key
      # that seals its session cookies, at start-up (storefront.tf). Its sidecar
      # loads no other component than the secret store.
      app == "storefront" ? [aws_secretsmanager_secret.storefront_session_key.name] : [],
    )
  }

  # The secrets the Secrets Store CSI driver fetches with the app's role (the
  # charts' SecretProviderClasses, charts/shopmesh-lib): the app's secretEnv
  # and, for apps with a PostgreSQL store, the migration Job's secrets file and
  # the RDS master DSN (charts/shopmesh-lib/templates/_values.tpl migration).
  mounted_secrets = {
    for app in local.apps : app => concat(
      values(lookup(local.secret_env, app, {})),
      contains(local.rds_apps, app) ? [
        "shopmesh/${var.environment}/${app}/migrate-secrets",
        "shopmesh/${var.environment}/shared/rds-admin-dsn",
      ] : [],
    )
  }

  # The values of the app's secretEnv (helm_values in outputs.tf): Secrets
  # Manager names the app reads itself, as environment variables.
  secret_env = {
    gateway = { REDIS_PASSWORD = "shopmesh/${var.environment}/gateway/redis-auth-token" }
    users   = { COGNITO_CLIENT_SECRET = "shopmesh/${var.environment}/users/cognito-client-secret" }
  }

  secret_statements = {
    for app in local.apps : app => concat(
      length(local.dapr_secrets[app]) > 0 ? [{
        Sid      = "DaprSecretStore"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [for n in local.dapr_secrets[app] : "${local.secret_arn_prefix}${n}-*"]
      }] : [],
      length(local.mounted_secrets[app]) > 0 ? [{
        Sid      = "MountedSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [for n in local.mounted_secrets[app] : "${local.secret_arn_prefix}${n}-*"]
      }] : [],
      [{
        # Every secret is encrypted with the environment's key.
        Sid      = "DecryptSecrets"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = module.kms.key_arn
      }],
    )
  }

  # The queue an app reads (pubsub.snssqs, if the app consumes anything),
  # with its dead-letter queue.
  app_queues = {
    for app in local.apps : app => contains(keys(local.sqs_subscriptions), app) ? [app] : []
  }
  snssqs_statements = {
    for app in local.apps : app => length(local.sns_topics) > 0 ? concat(
      [{
        Sid      = "PublishTopics"
        Effect   = "Allow"
        Action   = ["sns:Publish", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"]
        Resource = [for t in local.sns_topics : "arn:${local.partition}:sns:${var.region}:${local.account_id}:${t}"]
      }],
      length(local.app_queues[app]) > 0 ? [{
        Sid    = "ConsumeQueue"
        Effect = "Allow"
        Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
        Resource = flatten([for q in local.app_queues[app] : [
          "arn:${local.partition}:sqs:${var.region}:${local.account_id}:${q}",
          "arn:${local.partition}:sqs:${var.region}:${local.account_id}:${q}-deadletter",
        ]])
      }] : [],
    ) : []
  }

  app_statements = {
    gateway = []
    catalog = []
    orders  = []
    # inventory-store: Init probes the table with GetItem; the app writes
    # single keys only (no state transactions, so no TransactWriteItems).
    inventory = [{
      Sid      = "InventoryTable"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      Resource = module.dynamodb.table_arn
    }]
    payments   = []
    storefront = []
    notifications = [{
      Sid      = "SendEmail"
      Effect   = "Allow"
      Action   = ["ses:SendEmail", "ses:SendRawEmail"]
      Resource = var.ses_identity_arns
    }]
    users = [{
      Sid    = "Cognito"
      Effect = "Allow"
      Action = [
        "cognito-idp:AdminAddUserToGroup",
        "cognito-idp:AdminCreateUser",
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminInitiateAuth",
        "cognito-idp:AdminListGroupsForUser",
        "cognito-idp:AdminRemoveUserFromGroup",
        "cognito-idp:AdminSetUserPassword",
        "cognito-idp:AdminUpdateUserAttributes",
        "cognito-idp:AdminUserGlobalSignOut",
        "cognito-idp:ListUsers",
      ]
      Resource = module.cognito.user_pool_arn
    }]
    search = [{
      Sid      = "OpenSearch"
      Effect   = "Allow"
      Action   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]
      Resource = "arn:${local.partition}:es:${var.region}:${local.account_id}:domain/${local.name}/*"
    }]
  }
}

module "service_roles" {
  source            = "../modules/irsa"
  for_each          = toset(local.apps)
  name              = "${local.name}-${each.key}"
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  service_accounts  = ["shopmesh:${each.key}", "shopmesh:${each.key}-migrate"]
  policy_json = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.secret_statements[each.key], local.app_statements[each.key], local.snssqs_statements[each.key])
  })
  tags = local.tags
}

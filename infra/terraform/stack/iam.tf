# One IAM role per app for IRSA (the charts' ServiceAccount <app> and its
# migration Job's <app>-migrate), holding what the app's Dapr sidecar needs
# (docs/aws-components.md "IAM") and, for users and search, what the app calls
# itself. The charts name the role arn:aws:iam::<account>:role/shopmesh-<env>-<app>.

locals {
  secrets_arn = "arn:${local.partition}:secretsmanager:${var.region}:${local.account_id}:secret:*"

  common_statements = [
    {
      # Dapr 1.14.0's Secrets Manager store probes a random secret name at
      # start-up and fails on AccessDenied, so the whole account's secrets are
      # readable (fixed in 1.14.2). The secret names keep apps apart by
      # convention; scope this down once the sidecars run 1.14.2 or later.
      Sid      = "DaprSecretStore"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = local.secrets_arn
    },
    {
      Sid      = "DecryptSecrets"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = module.kms.key_arn
    },
  ]

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
    inventory = [{
      Sid      = "InventoryTable"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:TransactWriteItems"]
      Resource = module.dynamodb.table_arn
    }]
    payments = []
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
    Statement = concat(local.common_statements, local.app_statements[each.key], local.snssqs_statements[each.key])
  })
  tags = local.tags
}

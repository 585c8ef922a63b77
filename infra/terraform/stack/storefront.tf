# The storefront's session key: 32 random bytes as 64 hex characters, the
# AES-256-GCM key that seals the shoppers' session cookies
# (apps/storefront/session). The storefront reads it through its sidecar's
# secret store once, at start-up, and stays unready until it has; its role
# alone may read it (iam.tf: dapr_secrets). Encrypted with the environment's
# KMS key; the value is in Terraform's state, like the other generated secrets.
#
# The name is the one the app asks the secret store for (contracts.
# StorefrontSessionKey) and carries no environment, unlike the others: two
# environments in one account and region cannot both create it.
#
# Rotating it signs every shopper out (their cookies no longer open):
#   tofu apply -replace=random_id.storefront_session_key
#   kubectl -n shopmesh rollout restart deployment/storefront

resource "random_id" "storefront_session_key" {
  byte_length = 32
}

resource "aws_secretsmanager_secret" "storefront_session_key" {
  name                    = "storefront-session-key"
  description             = "ShopMesh storefront: the key that seals session cookies (64 hex characters)"
  kms_key_id              = module.kms.key_arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "storefront_session_key" {
  secret_id     = aws_secretsmanager_secret.storefront_session_key.id
  secret_string = random_id.storefront_session_key.hex
}

# inventory-store (state.aws.dynamodb): partition key "key" (S), no sort key,
# TTL on "expiresAt" (the component's ttlAttributeName), on-demand capacity,
# point-in-time recovery, customer managed key.

resource "aws_dynamodb_table" "inventory" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "key"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "key"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

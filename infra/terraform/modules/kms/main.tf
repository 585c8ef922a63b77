# The environment's customer managed key: Secrets Manager secrets (MSK's SCRAM
# secret requires a customer managed key), EKS Secrets, RDS, DocumentDB,
# DynamoDB, ElastiCache, MSK, OpenSearch and ECR. The default key policy
# leaves access to IAM policies (the IRSA roles grant kms:Decrypt).

resource "aws_kms_key" "this" {
  description             = "ShopMesh ${var.name}: data at rest and secrets"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

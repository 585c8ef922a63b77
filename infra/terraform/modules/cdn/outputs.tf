output "origin_certificate_arn" {
  description = "ACM certificate of the ALB's origin host (the charts' ingress.certificateArn)."
  value       = aws_acm_certificate_validation.origin.certificate_arn
}

output "alb_security_group_id" {
  description = "Security group of the ALB of the gateway and the storefront (the charts' ingress.securityGroups)."
  value       = aws_security_group.alb.id
}

output "distribution_domain" {
  description = "CloudFront's domain name."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "assets_bucket" {
  description = "Bucket of the storefront's static assets and product images (keys static/... and images/..., the URL paths CloudFront sends here)."
  value       = aws_s3_bucket.assets.bucket
}

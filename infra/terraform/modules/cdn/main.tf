# The shop's front door: CloudFront (with WAF) in front of two origins.
#   - The ALB (through Origin Shield, uncached), which the charts' Ingress group
#     shares between the gateway (/api, /graphql, /.well-known, /openapi.json)
#     and the storefront (every other path): the default behaviour, so the
#     storefront's pages, and the API's /api/* and /graphql behaviours.
#   - A private S3 bucket (origin access control) for /static/* and /images/*:
#     the storefront's content-hashed stylesheet and script and its product
#     images, uploaded by `go tool task deploy:assets` with their own
#     Cache-Control, so the pages' asset requests never reach the cluster.
# Route 53 points the domain at CloudFront and the origin host at the ALB; ACM
# certificates for both are validated by DNS.

data "aws_route53_zone" "this" {
  name = var.domain
}

# ---- Certificates: CloudFront's must live in us-east-1; the ALB's in the region.

resource "aws_acm_certificate" "cdn" {
  provider                  = aws.us_east_1
  domain_name               = var.domain
  subject_alternative_names = ["www.${var.domain}"]
  validation_method         = "DNS"
  tags                      = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_acm_certificate" "origin" {
  domain_name       = var.api_origin_host
  validation_method = "DNS"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  validation = merge(
    { for o in aws_acm_certificate.cdn.domain_validation_options : o.domain_name => o },
    { for o in aws_acm_certificate.origin.domain_validation_options : o.domain_name => o },
  )
}

resource "aws_route53_record" "validation" {
  for_each        = local.validation
  zone_id         = data.aws_route53_zone.this.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "cdn" {
  provider                = aws.us_east_1
  certificate_arn         = aws_acm_certificate.cdn.arn
  validation_record_fqdns = [for o in aws_acm_certificate.cdn.domain_validation_options : aws_route53_record.validation[o.domain_name].fqdn]
}

resource "aws_acm_certificate_validation" "origin" {
  certificate_arn         = aws_acm_certificate.origin.arn
  validation_record_fqdns = [for o in aws_acm_certificate.origin.domain_validation_options : aws_route53_record.validation[o.domain_name].fqdn]
}

# ---- The ALB's security group: HTTPS from CloudFront only, so that nothing
# reaches the gateway or the storefront around the WAF (the charts'
# ingress.securityGroups). Its description still names the gateway alone:
# changing it would replace the group.

data "aws_ec2_managed_prefix_list" "cloudfront" {
  name = "com.amazonaws.global.cloudfront.origin-facing"
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "The gateway's ALB: HTTPS from CloudFront's origin-facing servers only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_cloudfront" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from CloudFront"
  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "alb_targets" {
  security_group_id = aws_security_group.alb.id
  description       = "To the gateway and storefront pods"
  cidr_ipv4         = var.vpc_cidr
  ip_protocol       = "-1"
}

# ---- Static assets

resource "aws_s3_bucket" "assets" {
  bucket_prefix = "${var.name}-assets-"
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "assets" {
  bucket                  = aws_s3_bucket.assets.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "assets" {
  bucket = aws_s3_bucket.assets.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "assets" {
  bucket = aws_s3_bucket.assets.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_cloudfront_origin_access_control" "assets" {
  name                              = "${var.name}-assets"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# CloudFront may read the objects and, so that a missing one is a 404 rather
# than S3's 403, list the bucket (CloudFront sends only the /static/* and
# /images/* paths here, so no request lists it).
resource "aws_s3_bucket_policy" "assets" {
  bucket = aws_s3_bucket.assets.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "s3:GetObject"
        Resource  = "${aws_s3_bucket.assets.arn}/*"
        Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.this.arn } }
      },
      {
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = "s3:ListBucket"
        Resource  = aws_s3_bucket.assets.arn
        Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.this.arn } }
      },
    ]
  })
}

# ---- The distribution

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "alb" {
  # Everything the viewer sent (cookies, query strings, headers) except Host:
  # the ALB's rules match the origin host.
  name = "Managed-AllViewerExceptHostHeader"
}

resource "aws_cloudfront_distribution" "this" {
  enabled         = true
  is_ipv6_enabled = true
  comment         = "ShopMesh ${var.name}"
  aliases         = [var.domain, "www.${var.domain}"]
  price_class     = var.price_class
  web_acl_id      = var.web_acl_arn
  http_version    = "http2and3"

  origin {
    origin_id                = "assets"
    domain_name              = aws_s3_bucket.assets.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.assets.id
  }

  origin {
    origin_id   = "alb"
    domain_name = var.api_origin_host

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
      # The longest CloudFront waits for the next bytes of a response without
      # a quota increase: an order page's live status (server-sent events)
      # may be quiet that long.
      origin_read_timeout = 60
    }

    origin_shield {
      enabled              = true
      origin_shield_region = var.origin_shield_region
    }
  }

  # The storefront's pages (and whatever else the ALB routes): never cached,
  # forms posted, the session cookies and query strings passed on.
  default_cache_behavior {
    target_origin_id         = "alb"
    viewer_protocol_policy   = "redirect-to-https"
    allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods           = ["GET", "HEAD"]
    cache_policy_id          = data.aws_cloudfront_cache_policy.disabled.id
    origin_request_policy_id = data.aws_cloudfront_origin_request_policy.alb.id
    compress                 = true
  }

  # The storefront's assets from S3, cached as their Cache-Control says
  # (static/: a year, immutable, the names carry a hash; images/: a day).
  dynamic "ordered_cache_behavior" {
    for_each = ["/static/*", "/images/*"]
    content {
      path_pattern           = ordered_cache_behavior.value
      target_origin_id       = "assets"
      viewer_protocol_policy = "redirect-to-https"
      allowed_methods        = ["GET", "HEAD", "OPTIONS"]
      cached_methods         = ["GET", "HEAD"]
      cache_policy_id        = data.aws_cloudfront_cache_policy.optimized.id
      compress               = true
    }
  }

  # The API: as the default behaviour, but plain HTTP is refused rather than
  # redirected (a client's POST would not survive the redirect).
  dynamic "ordered_cache_behavior" {
    for_each = ["/api/*", "/graphql"]
    content {
      path_pattern             = ordered_cache_behavior.value
      target_origin_id         = "alb"
      viewer_protocol_policy   = "https-only"
      allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods           = ["GET", "HEAD"]
      cache_policy_id          = data.aws_cloudfront_cache_policy.disabled.id
      origin_request_policy_id = data.aws_cloudfront_origin_request_policy.alb.id
      compress                 = true
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = aws_acm_certificate_validation.cdn.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  tags = var.tags
}

# ---- DNS

resource "aws_route53_record" "cdn" {
  for_each = toset([var.domain, "www.${var.domain}"])
  zone_id  = data.aws_route53_zone.this.zone_id
  name     = each.key
  type     = "A"

  alias {
    name                   = aws_cloudfront_distribution.this.domain_name
    zone_id                = aws_cloudfront_distribution.this.hosted_zone_id
    evaluate_target_health = false
  }
}

resource "aws_route53_record" "origin" {
  count   = var.alb == null ? 0 : 1
  zone_id = data.aws_route53_zone.this.zone_id
  name    = var.api_origin_host
  type    = "A"

  alias {
    name                   = var.alb.dns_name
    zone_id                = var.alb.zone_id
    evaluate_target_health = true
  }
}

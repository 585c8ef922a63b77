output "endpoint" {
  description = "HTTPS endpoint of the domain (the search app's configuration)."
  value       = "https://${aws_opensearch_domain.this.endpoint}"
}

output "domain_arn" {
  description = "ARN of the domain."
  value       = aws_opensearch_domain.this.arn
}

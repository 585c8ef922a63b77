output "registry" {
  description = "The registry host (the charts' image.registry)."
  value       = split("/", values(aws_ecr_repository.this)[0].repository_url)[0]
}

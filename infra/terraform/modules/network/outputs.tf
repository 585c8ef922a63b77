output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "cidr_block" {
  description = "The VPC's IPv4 range."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (ALB, NAT)."
  value       = aws_subnet.public[*].id
}

output "public_subnet_cidrs" {
  description = "Ranges of the public subnets: where the ALB's nodes send from (the gateway's NetworkPolicy)."
  value       = aws_subnet.public[*].cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets (EKS nodes and pods)."
  value       = aws_subnet.private[*].id
}

output "private_subnet_cidrs" {
  description = "Ranges of the private subnets: the nodes (kubelet probes) and the pods."
  value       = aws_subnet.private[*].cidr_block
}

output "database_subnet_ids" {
  description = "Database subnets (no internet route)."
  value       = aws_subnet.database[*].id
}

output "table_name" {
  description = "Name of the inventory table."
  value       = aws_dynamodb_table.inventory.name
}

output "table_arn" {
  description = "ARN of the inventory table (the inventory role's policy)."
  value       = aws_dynamodb_table.inventory.arn
}

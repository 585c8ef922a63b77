output "topic_arns" {
  description = "SNS topic ARNs by name."
  value       = { for k, t in aws_sns_topic.this : k => t.arn }
}

output "queue_arns" {
  description = "SQS queue ARNs by app id."
  value       = { for k, q in aws_sqs_queue.app : k => q.arn }
}

output "dead_letter_queue_names" {
  description = "Dead-letter queue names by app id (CloudWatch alarms)."
  value       = { for k, q in aws_sqs_queue.dead_letter : k => q.name }
}

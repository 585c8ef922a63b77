output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = aws_sns_topic.alarms.arn
}

output "app_log_group" {
  description = "Log group of the containers' logs."
  value       = aws_cloudwatch_log_group.apps.name
}

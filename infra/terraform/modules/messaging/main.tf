# SNS/SQS for the pub/sub alternative (components/aws-alternatives/
# pubsub.snssqs.yaml, disableEntityManagement: Dapr creates nothing): an SNS
# topic per topic name, an SQS queue per key of subscriptions (an app id,
# Dapr's consumerID), each with a dead-letter queue <queue>-deadletter after
# max_receive_count receives, and the queues subscribed to their topics. Names
# carry no environment: one AWS account (or region) per environment.

locals {
  pairs = merge([
    for app, topics in var.subscriptions : {
      for topic in topics : "${app}/${topic}" => { app = app, topic = topic }
    }
  ]...)
}

resource "aws_sns_topic" "this" {
  for_each          = toset(var.topics)
  name              = each.key
  kms_master_key_id = "alias/aws/sns"
  tags              = var.tags
}

resource "aws_sqs_queue" "dead_letter" {
  for_each                  = var.subscriptions
  name                      = "${each.key}-deadletter"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "app" {
  for_each                   = var.subscriptions
  name                       = each.key
  visibility_timeout_seconds = 30
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

resource "aws_sqs_queue_policy" "app" {
  for_each  = var.subscriptions
  queue_url = aws_sqs_queue.app[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.app[each.key].arn
      Condition = {
        ArnEquals = { "aws:SourceArn" = [for t in each.value : aws_sns_topic.this[t].arn] }
      }
    }]
  })
}

resource "aws_sns_topic_subscription" "this" {
  for_each  = local.pairs
  topic_arn = aws_sns_topic.this[each.value.topic].arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.app[each.value.app].arn
}

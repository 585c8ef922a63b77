variable "topics" {
  description = "Topic names as Dapr publishes them (business and dead-letter topics; only [A-Za-z0-9_-])."
  type        = list(string)
}

variable "subscriptions" {
  description = "For each app id (its SQS queue, Dapr's consumerID), the topics it consumes."
  type        = map(list(string))
}

variable "max_receive_count" {
  description = "Receives before SQS moves a message to the app's dead-letter queue (the component's messageReceiveLimit)."
  type        = number
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
}

{{ header }}
{% if m.messaging.is_kafka -%}
output "bootstrap_brokers" {
  description = "TLS bootstrap brokers with IAM authentication (KAFKA_BOOTSTRAP_SERVERS)."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_iam
}

output "cluster_arn" {
  description = "ARN of the MSK cluster."
  value       = aws_msk_cluster.this.arn
}

output "topics" {
  description = "Topics the services use; created on first use with the configured partition count."
  value       = var.topics
}

{%- elif m.messaging.is_rabbitmq -%}
output "amqp_endpoint" {
  description = "AMQPS endpoint of the broker."
  value       = aws_mq_broker.this.instances[0].endpoints[0]
}

output "credentials_secret_arn" {
  description = "Secrets Manager secret holding the broker credentials."
  value       = aws_secretsmanager_secret.broker.arn
}

output "topics" {
  description = "Topics (exchanges) the services declare on the broker."
  value       = var.topics
}

{%- else -%}
output "topic_arns" {
  description = "SNS topic ARN per topic."
  value       = { for t, topic in aws_sns_topic.this : t => topic.arn }
}

output "queue_urls" {
  description = "SQS queue URL per topic and consuming service (`topic/service`)."
  value       = { for k, q in aws_sqs_queue.consumer : k => q.url }
}

output "queue_arns" {
  description = "SQS queue ARN per topic and consuming service (`topic/service`)."
  value       = { for k, q in aws_sqs_queue.consumer : k => q.arn }
}

output "dead_letter_queue_arns" {
  description = "SQS dead-letter queue ARN per topic and consuming service (`topic/service`)."
  value       = { for k, q in aws_sqs_queue.dead_letter : k => q.arn }
}
{%- endif %}

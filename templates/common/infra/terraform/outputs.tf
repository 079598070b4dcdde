{{ header }}
output "vpc_id" {
  description = "ID of the VPC."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets."
  value       = module.network.private_subnet_ids
}

output "cluster_name" {
  description = "Name of the EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = module.cluster.cluster_name
}

output "cluster_endpoint" {
  description = "Private endpoint of the Kubernetes API."
  value       = module.cluster.cluster_endpoint
}

output "repository_urls" {
  description = "ECR repository URL per built image."
  value       = module.registry.repository_urls
}

output "workload_role_arns" {
  description = "IAM role per workload, for the eks.amazonaws.com/role-arn annotation of its service account."
  value       = { for k, r in aws_iam_role.workload : k => r.arn }
}
{%- if m.databases | length > 0 %}

output "databases" {
  description = "Endpoint and credentials secret per database."
  value = {
{%- for db in m.databases %}
    {{ db.name.raw | quote }} = {
      address           = module.{{ db.module }}.address
      port              = module.{{ db.module }}.port
      replica_addresses = module.{{ db.module }}.replica_addresses
      secret_arn        = module.{{ db.module }}.master_user_secret_arn
    }
{%- endfor %}
  }
}
{%- endif %}
{%- if m.caches | length > 0 %}

output "caches" {
  description = "Endpoint per cache."
  value = {
{%- for c in m.caches %}
    {{ c.name.raw | quote }} = {
      primary_endpoint = module.{{ c.module }}.primary_endpoint
      reader_endpoint  = module.{{ c.module }}.reader_endpoint
      port             = module.{{ c.module }}.port
    }
{%- endfor %}
  }
}
{%- endif %}
{%- if m.messaging %}
{%- if m.messaging.is_kafka %}

output "kafka_bootstrap_brokers" {
  description = "KAFKA_BOOTSTRAP_SERVERS for the services (TLS, IAM authentication)."
  value       = module.messaging.bootstrap_brokers
}
{%- elif m.messaging.is_rabbitmq %}

output "amqp_endpoint" {
  description = "AMQPS endpoint of the RabbitMQ broker."
  value       = module.messaging.amqp_endpoint
}

output "broker_credentials_secret_arn" {
  description = "Secrets Manager secret holding the broker credentials."
  value       = module.messaging.credentials_secret_arn
}
{%- else %}

output "topic_arns" {
  description = "SNS topic ARN per topic."
  value       = module.messaging.topic_arns
}

output "queue_urls" {
  description = "SQS queue URL per topic and consuming service."
  value       = module.messaging.queue_urls
}
{%- endif %}
{%- endif %}

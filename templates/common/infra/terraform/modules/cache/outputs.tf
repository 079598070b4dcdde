{{ header }}
output "primary_endpoint" {
  description = "Endpoint for writes (configuration endpoint in cluster mode)."
  value       = var.shards > 1 ? aws_elasticache_replication_group.this.configuration_endpoint_address : aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint" {
  description = "Endpoint for reads (empty in cluster mode)."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "port" {
  description = "Port of the cache."
  value       = aws_elasticache_replication_group.this.port
}

output "security_group_id" {
  description = "Security group of the cache."
  value       = aws_security_group.this.id
}

output "app_user_id" {
  description = "ElastiCache user the workloads sign in as (password from auth_secret_arn)."
  value       = aws_elasticache_user.app.user_id
}

output "replication_group_arn" {
  description = "ARN of the replication group."
  value       = aws_elasticache_replication_group.this.arn
}

output "auth_secret_arn" {
  description = "Secrets Manager secret holding the user name and password of the app user."
  value       = aws_secretsmanager_secret.auth.arn
}

{{ header }}
data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

output "proxy_endpoint" {
  description = "Host name functions connect to (the RDS Proxy)."
  value       = aws_db_proxy.this.endpoint
}

output "port" {
  description = "Port of the proxy."
  value       = 5432
}

output "connect_arn" {
  description = "What rds-db:connect is granted on: the master user through this proxy."
  value       = "arn:aws:rds-db:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:dbuser:${element(split(":", aws_db_proxy.this.arn), 6)}/${var.username}"
}

output "cluster_identifier" {
  description = "Identifier of the Aurora cluster (the deploy workflow migrates through it)."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the master credentials (managed and rotated by RDS)."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "proxy_security_group_id" {
  description = "Security group of the proxy."
  value       = aws_security_group.proxy.id
}

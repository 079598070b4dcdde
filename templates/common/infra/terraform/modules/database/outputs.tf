{{ header }}
output "address" {
  description = "Host name of the primary instance."
  value       = aws_db_instance.primary.address
}

output "port" {
  description = "Port of the database."
  value       = aws_db_instance.primary.port
}

output "replica_addresses" {
  description = "Host names of the read replicas."
  value       = aws_db_instance.replica[*].address
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the master credentials (managed and rotated by RDS)."
  value       = aws_db_instance.primary.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.this.id
}

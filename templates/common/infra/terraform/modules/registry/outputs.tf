{{ header }}
output "repository_urls" {
  description = "Repository URL per repository name."
  value       = { for n, r in aws_ecr_repository.this : n => r.repository_url }
}

output "repository_arns" {
  description = "Repository ARN per repository name."
  value       = { for n, r in aws_ecr_repository.this : n => r.arn }
}

{{ header }}
variable "identifier" {
  description = "Identifier of the Aurora cluster (and of its proxy)."
  type        = string
}

variable "db_name" {
  description = "Name of the database created in the cluster."
  type        = string
}

variable "username" {
  description = "Master user; its password is generated and kept in Secrets Manager by RDS. Functions connect as it through the proxy with IAM tokens."
  type        = string
}

variable "engine_version" {
  description = "Aurora PostgreSQL major version."
  type        = string
  default     = "16"
}

variable "instances" {
  description = "Serverless v2 instances: a writer and its readers (a reader is the failover target)."
  type        = number
}

variable "min_capacity" {
  description = "Smallest capacity of each instance, in Aurora capacity units."
  type        = number
}

variable "max_capacity" {
  description = "Largest capacity of each instance, in Aurora capacity units."
  type        = number
}

variable "backup_retention_days" {
  description = "Automated backup retention, in days."
  type        = number
}

variable "vpc_id" {
  description = "VPC the cluster and its proxy run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cluster and the proxy."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect to the proxy (the functions')."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the master user secret."
  type        = string
}

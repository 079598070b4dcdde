{{ header }}
variable "identifier" {
  description = "RDS identifier of the primary instance."
  type        = string
}

variable "db_name" {
  description = "Name of the database created in the instance."
  type        = string
}

variable "username" {
  description = "Master user name; its password is generated and kept in Secrets Manager by RDS."
  type        = string
}

variable "engine" {
  description = "RDS engine: postgres or mysql."
  type        = string
  default     = "postgres"

  validation {
    condition     = contains(["postgres", "mysql"], var.engine)
    error_message = "engine is postgres or mysql."
  }
}

variable "engine_version" {
  description = "Major version: PostgreSQL 16, or MySQL 8.4; the parameter group family follows it."
  type        = string
  default     = "16"
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "multi_az" {
  description = "Synchronous standby in another availability zone."
  type        = bool
}

variable "read_replicas" {
  description = "Number of read replicas."
  type        = number
  default     = 0
}

variable "allocated_storage" {
  description = "Initial storage, in GiB."
  type        = number
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling, in GiB."
  type        = number
}

variable "backup_retention_days" {
  description = "Automated backup retention, in days."
  type        = number
}

variable "vpc_id" {
  description = "VPC the database runs in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the DB subnet group."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect (the cluster's)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the master user secret."
  type        = string
}

{{ header }}
variable "name" {
  description = "Replication group ID of the cache."
  type        = string
}

variable "node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "replicas" {
  description = "Replicas per shard (0 = a single node)."
  type        = number
}

variable "shards" {
  description = "Number of shards (more than 1 turns on cluster mode)."
  type        = number
}

variable "automatic_failover" {
  description = "Promote a replica when the primary fails (needs a replica or cluster mode; also spreads nodes across AZs)."
  type        = bool
}

variable "engine_version" {
  description = "Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "vpc_id" {
  description = "VPC the cache runs in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cache subnet group."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for data at rest and the slow log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the slow log group, in days."
  type        = number
}

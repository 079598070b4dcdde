{{ header }}
variable "name" {
  description = "Name of the Lambda function."
  type        = string
}

variable "handler" {
  description = "Handler of the function (module.function)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime (python3.12, nodejs22.x: the language of the function's code)."
  type        = string
}

variable "memory_mb" {
  description = "Memory, in MB."
  type        = number
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions."
  type        = number
}

variable "timeout_s" {
  description = "Timeout, in seconds."
  type        = number
}

variable "artifact_bucket" {
  description = "S3 bucket holding the function package."
  type        = string
}

variable "artifact_key" {
  description = "S3 key of the function package."
  type        = string
}

variable "environment" {
  description = "Environment variables of the function."
  type = list(object({
    name  = string
    value = string
  }))
  default = []
}

variable "kms_key_arn" {
  description = "KMS key for environment variables, logs and the dead-letter queue."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the function runs in."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the function's network interfaces."
  type        = list(string)
}

variable "code_signing_config_arn" {
  description = "Code signing configuration that packages must satisfy."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days."
  type        = number
}

# The two flags below decide `count`s: they must be known at plan time, which an ARN or a policy
# built from resources created in the same apply is not (a first plan would stop on it).
variable "has_policy" {
  description = "Whether policy_json is given."
  type        = bool
  default     = false
}

variable "queue_triggered" {
  description = "Whether queue_arn is given (the function consumes a queue)."
  type        = bool
  default     = false
}

variable "policy_json" {
  description = "IAM policy with what this function may do beyond logging (least privilege), or null."
  type        = string
  default     = null
}

variable "queue_arn" {
  description = "SQS queue that triggers the function, or null for an HTTP function."
  type        = string
  default     = null
}

variable "batch_size" {
  description = "Messages per invocation when triggered by a queue."
  type        = number
  default     = 10
}

{{ header }}
variable "name" {
  description = "Name of the queue (its dead-letter queue gets a -dlq suffix)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the messages."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout; at least six times the consuming function's timeout."
  type        = number
}

variable "max_receive_count" {
  description = "Deliveries before a message moves to the dead-letter queue."
  type        = number
  default     = 5
}

variable "source_rule_arns" {
  description = "EventBridge rules allowed to send to the queue."
  type        = list(string)
}

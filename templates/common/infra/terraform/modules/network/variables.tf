{{ header }}
variable "name" {
  description = "Name prefix of the network resources."
  type        = string
}

variable "cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "azs" {
  description = "Availability zones the subnets span, pinned by name."
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the VPC instead of one per availability zone."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the flow log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the flow log group, in days."
  type        = number
}

{{ header }}
variable "name" {
  description = "Name prefix of the key alias."
  type        = string
}

variable "region" {
  description = "AWS region (CloudWatch Logs encrypts with the key there)."
  type        = string
}

variable "service_principals" {
  description = "Further AWS service principals allowed to use the key."
  type        = list(string)
  default     = []
}

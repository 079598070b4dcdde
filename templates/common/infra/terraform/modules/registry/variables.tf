{{ header }}
variable "repositories" {
  description = "ECR repository names, one per image the system builds."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the images."
  type        = string
}

variable "keep_images" {
  description = "Number of tagged images kept per repository."
  type        = number
  default     = 50
}

{{ header }}
variable "name" {
  description = "Name of the EKS cluster."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the control plane interfaces and the nodes."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for Kubernetes secrets, node volumes and the control plane log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the control plane log group, in days."
  type        = number
}

variable "instance_types" {
  description = "EC2 instance types of the node group."
  type        = list(string)
}

variable "min_size" {
  description = "Minimum number of nodes."
  type        = number
}

variable "desired_size" {
  description = "Desired number of nodes."
  type        = number
}

variable "max_size" {
  description = "Maximum number of nodes."
  type        = number
}

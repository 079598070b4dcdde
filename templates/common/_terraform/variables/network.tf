variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block."
  }
}

variable "availability_zones" {
  description = "Availability zones the subnets span, pinned by name (at least two)."
  type        = list(string)
  default     = [{% for z in m.terraform.availability_zones %}{% if not loop.first %}, {% endif %}{{ z | hcl }}{% endfor %}]

  validation {
    condition     = length(var.availability_zones) >= 2 && alltrue([for z in var.availability_zones : startswith(z, var.region)])
    error_message = "availability_zones must name at least two zones of the region."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the whole VPC (cheaper) instead of one per availability zone."
  type        = bool
  default     = {{ m.terraform.single_nat_gateway }}
}

variable "log_retention_days" {
  description = "Retention of CloudWatch log groups, in days."
  type        = number
  default     = {{ m.terraform.log_retention_days }}

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention of at least one year."
  }
}
{{ header }}
variable "name" {
  description = "Name of the HTTP API."
  type        = string
}

variable "routes" {
  description = "Routes of the API, each sent to one function; authorization is JWT or NONE (public)."
  type = list(object({
    route_key     = string
    authorization = string
    function_name = string
    invoke_arn    = string
  }))

  validation {
    condition     = alltrue([for r in var.routes : contains(["JWT", "NONE"], r.authorization)])
    error_message = "Each route's authorization is JWT or NONE."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the access log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the access log group, in days."
  type        = number
}

variable "throttle_rate" {
  description = "Steady-state requests per second."
  type        = number
}

variable "throttle_burst" {
  description = "Burst of requests above the steady rate."
  type        = number
  default     = null
}

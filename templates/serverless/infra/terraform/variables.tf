{{ header }}
{% include "common/_terraform/variables/base.tf" %}

{% include "common/_terraform/variables/network.tf" %}

{%- if m.serverless.tables %}

variable "table_deletion_protection" {
  description = "Whether the DynamoDB tables refuse deletion (scale {{ m.scale }})."
  type        = bool
  default     = {{ m.serverless.table_deletion_protection }}
}
{%- endif %}

{%- if m.serverless.databases %}

variable "db_instances" {
  description = "Aurora Serverless v2 instances per database: the writer and its readers (scale {{ m.scale }})."
  type        = number
  default     = {{ m.serverless.db_instances }}

  validation {
    condition     = var.db_instances >= 1
    error_message = "db_instances must be at least 1."
  }
}

variable "db_min_capacity" {
  description = "Smallest capacity of each database instance, in ACUs."
  type        = number
  default     = {{ m.serverless.db_min_capacity }}
}

variable "db_max_capacity" {
  description = "Largest capacity of each database instance, in ACUs (scale {{ m.scale }})."
  type        = number
  default     = {{ m.serverless.db_max_capacity }}

  validation {
    condition     = var.db_max_capacity >= var.db_min_capacity && var.db_max_capacity <= 256
    error_message = "db_max_capacity must be between db_min_capacity and 256."
  }
}

variable "db_backup_retention_days" {
  description = "Automated backup retention of each database, in days."
  type        = number
  default     = {{ m.preset.database.backup_days }}
}
{%- endif %}

variable "artifact_bucket" {
  description = "S3 bucket the CI pipeline uploads function packages to (<function>/<version>.zip)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket))
    error_message = "artifact_bucket must be an S3 bucket name."
  }
}

variable "function_version" {
  description = "Version of the function packages to deploy (the services' version)."
  type        = string
  default     = "{% for s in m.services %}{% if m.functions | length > 0 and s.name.raw == m.functions[0].service %}{{ s.image_tag | hcl_in }}{% endif %}{% endfor %}"
}

variable "function_memory_mb" {
  description = "Memory of each function, in MB (scale {{ m.scale }})."
  type        = number
  default     = {{ m.preset.function.memory_mb }}

  validation {
    condition     = var.function_memory_mb >= 128 && var.function_memory_mb <= 10240
    error_message = "function_memory_mb must be between 128 and 10240."
  }
}

variable "function_reserved_concurrency" {
  description = "Reserved concurrent executions of each function (scale {{ m.scale }})."
  type        = number
  default     = {{ m.preset.function.reserved_concurrency }}

  validation {
    condition     = var.function_reserved_concurrency >= 1
    error_message = "function_reserved_concurrency must be at least 1."
  }
}

variable "function_timeout_s" {
  description = "Timeout of each function, in seconds."
  type        = number
  default     = {{ m.preset.function.timeout_s }}

  validation {
    condition     = var.function_timeout_s >= 1 && var.function_timeout_s <= 900
    error_message = "function_timeout_s must be between 1 and 900."
  }
}

variable "api_throttle_rate" {
  description = "Steady-state requests per second the HTTP API accepts (the scale's target)."
  type        = number
  default     = {{ m.preset.targets.rps }}
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

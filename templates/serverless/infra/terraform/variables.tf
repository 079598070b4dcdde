{{ header }}
variable "name" {
  description = "System name, the prefix of every resource name."
  type        = string
  default     = "{{ m.name.kebab }}"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be a lowercase DNS label of 2 to 31 characters."
  }
}

variable "environment" {
  description = "Deployment environment; one tfvars file per environment lives in envs/."
  type        = string

  validation {
    condition     = contains([{% for e in m.environments %}{{ e.name | quote }}{% if not loop.last %}, {% endif %}{% endfor %}], var.environment)
    error_message = "environment must be one of the blueprint's environments: {% for e in m.environments %}{{ e.name }}{% if not loop.last %}, {% endif %}{% endfor %}."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "{{ m.cloud.region }}"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

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
  default     = [{% for z in ["a", "b", "c"] %}{% if m.scale != "small" or not loop.last %}{% if not loop.first %}, {% endif %}"{{ m.cloud.region }}{{ z }}"{% endif %}{% endfor %}]

  validation {
    condition     = length(var.availability_zones) >= 2 && alltrue([for z in var.availability_zones : startswith(z, var.region)])
    error_message = "availability_zones must name at least two zones of the region."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the whole VPC (cheaper) instead of one per availability zone."
  type        = bool
  default     = {{ m.scale == "small" }}
}

variable "log_retention_days" {
  description = "Retention of CloudWatch log groups, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention of at least one year."
  }
}

{%- if m.caches | length > 0 %}

variable "cache_node_type" {
  description = "ElastiCache node type (scale {{ m.scale }})."
  type        = string
  default     = "{{ m.preset.cache.node_type }}"

  validation {
    condition     = startswith(var.cache_node_type, "cache.")
    error_message = "cache_node_type must be an ElastiCache node type such as cache.r6g.large."
  }
}

variable "cache_replicas" {
  description = "Replicas per cache shard (0 = a single node)."
  type        = number
  default     = {{ m.preset.cache.replicas }}

  validation {
    condition     = var.cache_replicas >= 0 && var.cache_replicas <= 5
    error_message = "cache_replicas must be between 0 and 5."
  }
}

variable "cache_automatic_failover" {
  description = "Automatic failover and Multi-AZ for the caches; requires a replica or more than one shard."
  type        = bool
  default     = {{ m.preset.cache.replicas > 0 or m.preset.cache.shards > 1 }}

  validation {
    condition     = !var.cache_automatic_failover || var.cache_replicas > 0 || var.cache_shards > 1
    error_message = "cache_automatic_failover needs cache_replicas > 0 or cache_shards > 1."
  }
}

variable "cache_shards" {
  description = "Shards per cache (more than 1 turns on cluster mode)."
  type        = number
  default     = {{ m.preset.cache.shards }}

  validation {
    condition     = var.cache_shards >= 1 && var.cache_shards <= 500
    error_message = "cache_shards must be between 1 and 500."
  }
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
  default     = "{% for s in m.services %}{% if m.functions | length > 0 and s.name.raw == m.functions[0].service %}{{ s.image_tag }}{% endif %}{% endfor %}"
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

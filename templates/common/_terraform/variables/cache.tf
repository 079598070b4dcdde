variable "cache_node_type" {
  description = "ElastiCache node type (scale {{ m.scale }})."
  type        = string
  default     = {{ m.preset.cache.node_type | hcl }}

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
  default     = {{ m.terraform.expect.cache_failover }}

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
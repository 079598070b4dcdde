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

variable "kubernetes_namespace" {
  description = "Namespace the environment's workloads run in (service accounts of IRSA roles live there)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.kubernetes_namespace))
    error_message = "kubernetes_namespace must be a DNS-1123 label."
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

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.31"

  validation {
    condition     = can(regex("^1\\.[0-9]+$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.31."
  }
}

variable "node_instance_types" {
  description = "EC2 instance types of the cluster's node group (scale {{ m.scale }})."
  type        = list(string)
  default     = ["{{ m.preset.cluster.instance_type }}"]

  validation {
    condition     = length(var.node_instance_types) > 0
    error_message = "node_instance_types must name at least one instance type."
  }
}

variable "node_min_size" {
  description = "Minimum number of cluster nodes."
  type        = number
  default     = {{ m.preset.cluster.min_nodes }}

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_desired_size" {
  description = "Desired number of cluster nodes."
  type        = number
  default     = {{ m.preset.cluster.desired_nodes }}

  validation {
    condition     = var.node_desired_size >= 1
    error_message = "node_desired_size must be at least 1."
  }
}

variable "node_max_size" {
  description = "Maximum number of cluster nodes."
  type        = number
  default     = {{ m.preset.cluster.max_nodes }}

  validation {
    condition     = var.node_max_size >= 1
    error_message = "node_max_size must be at least 1."
  }
}
{%- if m.databases | length > 0 %}

variable "db_instance_class" {
  description = "RDS instance class of every database (scale {{ m.scale }})."
  type        = string
  default     = "{{ m.preset.database.instance_class }}"

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must be an RDS instance class such as db.r6g.large."
  }
}

variable "db_multi_az" {
  description = "Run each database primary with a synchronous standby in another availability zone."
  type        = bool
  default     = {{ m.preset.database.multi_az }}
}

variable "db_read_replicas" {
  description = "Read replicas per database."
  type        = number
  default     = {{ m.preset.database.read_replicas }}

  validation {
    condition     = var.db_read_replicas >= 0 && var.db_read_replicas <= 5
    error_message = "db_read_replicas must be between 0 and 5."
  }
}

variable "db_allocated_storage" {
  description = "Initial storage of each database, in GiB."
  type        = number
  default     = {{ m.preset.database.storage_gb }}

  validation {
    condition     = var.db_allocated_storage >= 20
    error_message = "db_allocated_storage must be at least 20 GiB."
  }
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling of each database, in GiB."
  type        = number
  default     = {{ m.preset.database.max_storage_gb }}

  validation {
    condition     = var.db_max_allocated_storage >= var.db_allocated_storage
    error_message = "db_max_allocated_storage must be at least db_allocated_storage."
  }
}

variable "db_backup_retention_days" {
  description = "Automated backup retention of each database, in days."
  type        = number
  default     = {{ m.preset.database.backup_days }}

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 7 and 35."
  }
}
{%- endif %}
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
{%- if m.messaging and not m.messaging.is_sqs %}

variable "broker_count" {
  description = "Message broker nodes (scale {{ m.scale }})."
  type        = number
  default     = {{ m.preset.messaging.brokers }}

  validation {
    condition     = var.broker_count >= 1
    error_message = "broker_count must be at least 1."
  }
}

variable "broker_instance_type" {
  description = "Instance type of the message brokers."
  type        = string
  default     = "{% if m.messaging.is_kafka %}{{ m.preset.messaging.instance_type }}{% elif m.scale == "small" %}mq.t3.micro{% else %}mq.m5.large{% endif %}"
}
{%- endif %}
{%- if m.messaging and m.messaging.is_kafka %}

variable "topic_partitions" {
  description = "Default partition count of the Kafka topics."
  type        = number
  default     = {{ m.preset.messaging.partitions }}

  validation {
    condition     = var.topic_partitions >= 1
    error_message = "topic_partitions must be at least 1."
  }
}
{%- endif %}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

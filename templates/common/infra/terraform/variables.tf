{{ header }}
{% include "common/_terraform/variables/base.tf" %}

variable "kubernetes_namespace" {
  description = "Namespace the environment's workloads run in (service accounts of IRSA roles live there)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.kubernetes_namespace))
    error_message = "kubernetes_namespace must be a DNS-1123 label."
  }
}

{% include "common/_terraform/variables/network.tf" %}

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
  default     = [{{ m.preset.cluster.instance_type | hcl }}]

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
  default     = {{ m.preset.database.instance_class | hcl }}

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

{% include "common/_terraform/variables/cache.tf" %}
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
  default     = {{ m.terraform.broker_instance_type | hcl }}
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

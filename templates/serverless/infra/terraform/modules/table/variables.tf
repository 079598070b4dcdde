{{ header }}
variable "name" {
  description = "Name of the DynamoDB table."
  type        = string
}

variable "hash_key" {
  description = "Partition key attribute (the entity's primary key)."
  type        = string
}

variable "attribute_types" {
  description = "DynamoDB type (S, N or B) of every attribute that may be a key."
  type        = map(string)

  validation {
    condition     = alltrue([for t in values(var.attribute_types) : contains(["S", "N", "B"], t)])
    error_message = "attribute types must be S, N or B."
  }
}

variable "unique_keys" {
  description = "Attributes looked up by value (unique fields); each gets a global secondary index."
  type        = list(string)
  default     = []
}

variable "indexes" {
  description = "Global secondary indexes, each a list of one (partition) or two (partition, sort) attributes."
  type        = list(list(string))
  default     = []

  validation {
    condition     = alltrue([for i in var.indexes : length(i) >= 1 && length(i) <= 2])
    error_message = "an index has one or two key attributes."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the table."
  type        = string
}

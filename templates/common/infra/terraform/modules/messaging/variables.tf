{{ header }}
variable "name" {
  description = "Name prefix of the messaging resources."
  type        = string
}

{%- if m.messaging.is_sqs %}
variable "topics" {
  description = "SNS FIFO topic per topic that goes through the broker: the name after the prefix."
  type        = map(string)
}

variable "queues" {
  description = "Per `topic/service`: its queue and dead-letter queue (names after the prefix), and whether the queue is subscribed to the topic."
  type = map(object({
    topic       = string
    queue       = string
    dead_letter = string
    subscribed  = bool
  }))
}

variable "max_receive_count" {
  description = "Receives of a message without a delete before it goes to the dead-letter queue."
  type        = number
}

variable "visibility_timeout_seconds" {
  description = "How long a received message stays hidden from other consumers."
  type        = number
}

variable "retention_seconds" {
  description = "How long a queued event is kept."
  type        = number
}

variable "dead_letter_retention_seconds" {
  description = "How long a dead letter is kept."
  type        = number
}
{%- else %}
variable "topics" {
  description = "Topics of the system."
  type        = list(string)
}
{%- endif %}

variable "kms_key_arn" {
  description = "KMS key for data at rest and the broker logs."
  type        = string
}
{%- if not m.messaging.is_sqs %}

variable "vpc_id" {
  description = "VPC the brokers run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the brokers."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect."
  type        = list(string)
}

variable "broker_count" {
  description = "Number of broker nodes."
  type        = number
}

variable "instance_type" {
  description = "Instance type of the brokers."
  type        = string
}
{%- endif %}
{%- if m.messaging.is_kafka %}

variable "log_retention_days" {
  description = "Retention of the broker log group, in days."
  type        = number
}

variable "kafka_version" {
  description = "Apache Kafka version of the MSK cluster."
  type        = string
  default     = "3.6.0"
}

variable "partitions" {
  description = "Default partition count of new topics."
  type        = number
}

variable "volume_size" {
  description = "EBS storage per broker, in GiB."
  type        = number
  default     = 100
}
{%- endif %}
{%- if m.messaging.is_rabbitmq %}

variable "engine_version" {
  description = "RabbitMQ engine version of the Amazon MQ broker."
  type        = string
  default     = "3.13"
}
{%- endif %}

{{ header }}
{% if m.messaging.is_kafka -%}
locals {
  # MSK places brokers evenly: the count is rounded up to a multiple of the subnets.
  broker_nodes = ceil(max(var.broker_count, length(var.subnet_ids)) / length(var.subnet_ids)) * length(var.subnet_ids)
}

resource "aws_security_group" "this" {
  name        = "${var.name}-kafka"
  description = "MSK ${var.name}: reachable from the cluster only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "kafka" {
  count                        = length(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Kafka (TLS, IAM auth) from the workloads"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
}

resource "aws_cloudwatch_log_group" "broker" {
  name              = "/${var.name}/msk"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_msk_configuration" "this" {
  name           = "${var.name}-kafka"
  kafka_versions = [var.kafka_version]

  server_properties = <<-PROPERTIES
    auto.create.topics.enable=true
    num.partitions=${var.partitions}
    default.replication.factor=${min(3, local.broker_nodes)}
    min.insync.replicas=${local.broker_nodes > 2 ? 2 : 1}
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = local.broker_nodes
  enhanced_monitoring    = "PER_BROKER"

  broker_node_group_info {
    instance_type   = var.instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.volume_size
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  client_authentication {
    unauthenticated = false

    sasl {
      iam = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn

    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.broker.name
      }
    }
  }
}
{%- elif m.messaging.is_rabbitmq -%}
resource "aws_security_group" "this" {
  name        = "${var.name}-rabbitmq"
  description = "Amazon MQ ${var.name}: reachable from the cluster only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "amqps" {
  count                        = length(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "AMQPS from the workloads"
  ip_protocol                  = "tcp"
  from_port                    = 5671
  to_port                      = 5671
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
}

# The broker needs a password at creation. Secrets Manager generates it (the AWS provider's own
# generator: no other provider to install), it is never written in the code, and the services read it
# from the secret. The generator returns a new value on every plan: the secret version keeps the first
# one (ignore_changes) and the broker's user follows the secret, so plans stay empty. To rotate:
# terraform apply -replace=module.messaging.aws_secretsmanager_secret_version.broker
data "aws_secretsmanager_random_password" "broker" {
  password_length     = 32
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "broker" {
  #checkov:skip=CKV2_AWS_57:Amazon MQ has no managed rotation; rotate by replacing aws_secretsmanager_secret_version.broker and applying
  name       = "${var.name}-rabbitmq-credentials"
  kms_key_id = var.kms_key_arn
}

resource "aws_secretsmanager_secret_version" "broker" {
  secret_id = aws_secretsmanager_secret.broker.id
  secret_string = jsonencode({
    username = "app"
    password = data.aws_secretsmanager_random_password.broker.random_password
  })

  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_mq_broker" "this" {
  #checkov:skip=CKV_AWS_48:RabbitMQ brokers support only general logs, which are on; audit logs are ActiveMQ-only
  #checkov:skip=CKV_AWS_209:Amazon MQ for RabbitMQ encrypts at rest with an AWS-owned key only; customer keys are ActiveMQ-only
  broker_name                = var.name
  engine_type                = "RabbitMQ"
  engine_version             = var.engine_version
  host_instance_type         = var.instance_type
  deployment_mode            = var.broker_count > 1 ? "CLUSTER_MULTI_AZ" : "SINGLE_INSTANCE"
  subnet_ids                 = var.broker_count > 1 ? var.subnet_ids : [var.subnet_ids[0]]
  security_groups            = [aws_security_group.this.id]
  publicly_accessible        = false
  auto_minor_version_upgrade = true
  apply_immediately          = false

  logs {
    general = true
  }

  maintenance_window_start_time {
    day_of_week = "SUNDAY"
    time_of_day = "05:00"
    time_zone   = "UTC"
  }

  user {
    username = jsondecode(aws_secretsmanager_secret_version.broker.secret_string).username
    password = jsondecode(aws_secretsmanager_secret_version.broker.secret_string).password
  }
}
{%- else -%}
# FIFO throughout (docs/adr/0004-messaging.md): the services publish with the aggregate key as the
# message group, so one aggregate's events reach every consumer in order.
resource "aws_sns_topic" "this" {
  for_each                    = var.topics
  name                        = "${var.name}-${each.value}"
  fifo_topic                  = true
  content_based_deduplication = false
  kms_master_key_id           = var.kms_key_arn
}

resource "aws_sqs_queue" "dead_letter" {
  for_each                  = var.queues
  name                      = "${var.name}-${each.value.dead_letter}"
  fifo_queue                = true
  message_retention_seconds = var.dead_letter_retention_seconds
  kms_master_key_id         = var.kms_key_arn
}

locals {
  # Queues subscribed to a topic; a topic a monolith delivers in-process has a dead-letter queue only.
  subscribed = { for k, q in var.queues : k => q if q.subscribed }
}

resource "aws_sqs_queue" "consumer" {
  for_each                   = local.subscribed
  name                       = "${var.name}-${each.value.queue}"
  fifo_queue                 = true
  message_retention_seconds  = var.retention_seconds
  visibility_timeout_seconds = var.visibility_timeout_seconds
  kms_master_key_id          = var.kms_key_arn

  # A message received this often without being deleted (its consumer crashed on it each time).
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })
}

data "aws_iam_policy_document" "queue" {
  for_each = local.subscribed

  statement {
    sid       = "FromTopic"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.consumer[each.key].arn]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.this[each.value.topic].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "consumer" {
  for_each  = local.subscribed
  queue_url = aws_sqs_queue.consumer[each.key].id
  policy    = data.aws_iam_policy_document.queue[each.key].json
}

resource "aws_sns_topic_subscription" "consumer" {
  for_each             = local.subscribed
  topic_arn            = aws_sns_topic.this[each.value.topic].arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.consumer[each.key].arn
  raw_message_delivery = true
}
{%- endif %}

{{ header }}
# Offline tests: no credentials, nothing created. The AWS provider is mocked; each run plans the
# configuration and checks what the architecture promises at scale {{ m.scale }}:
#   terraform init -backend=false && terraform validate && terraform test
# Module runs plan one module alone (the assertions then see its resources), with stand-in ids
# where the root module would pass another module's outputs.
{%- set t = m.terraform %}
{%- set f = t.fixture %}

mock_provider "aws" {
  # Mocked data sources return random strings: real shapes where the configuration reads them.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_availability_zones" {
    defaults = {
      names = [{% for z in t.availability_zones %}{% if not loop.first %}, {% endif %}{{ z | hcl }}{% endfor %}]
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = {{ f.account_id | hcl }}
    }
  }
{%- if m.messaging and m.messaging.is_rabbitmq and not m.is_serverless or m.caches | length > 0 %}

  mock_data "aws_secretsmanager_random_password" {
    defaults = {
      random_password = {{ f.password | hcl }}
    }
  }
{%- endif %}
}
{%- for env in m.environments %}

# The {{ env.name }} environment, with the values of envs/{{ env.name }}.tfvars.
run "plan_{{ env.name | snake }}" {
  command = plan

  variables {
    environment = {{ env.name | hcl }}
{% if m.is_serverless %}
    artifact_bucket = "{{ m.name.kebab }}-artifacts-{{ env.name }}"
{%- else %}
    kubernetes_namespace = {{ env.namespace | hcl }}
{%- endif %}

    tags = {
      Environment = {{ env.name | hcl }}
    }
  }

  assert {
    condition     = var.log_retention_days == {{ t.log_retention_days }}
    error_message = "Log groups must keep {{ t.log_retention_days }} days of logs."
  }
{%- if not m.is_serverless %}

  assert {
    condition     = length(aws_iam_role.workload) == {{ m.deployables | length + m.transport.credentials_readers | length }}
    error_message = "Each of the {{ m.deployables | length }} workloads{% if m.transport.credentials_readers %} and each of the {{ m.transport.credentials_readers | length }} database credentials readers{% endif %} needs its own IAM role (IRSA)."
  }
{%- endif %}
{%- if m.databases | length > 0 and not m.is_serverless %}

  assert {
    condition     = var.db_multi_az == {{ t.expect.db_multi_az }} && var.db_read_replicas == {{ t.expect.db_read_replicas }}
    error_message = "Scale {{ m.scale }} runs each database with multi_az = {{ t.expect.db_multi_az }} and {{ t.expect.db_read_replicas }} read replicas."
  }
{%- endif %}
{%- if m.caches | length > 0 %}

  assert {
    condition     = var.cache_replicas == {{ t.expect.cache_replicas }} && var.cache_shards == {{ t.expect.cache_shards }}
    error_message = "Scale {{ m.scale }} runs each cache with {{ t.expect.cache_shards }} shard(s) of {{ t.expect.cache_replicas }} replica(s)."
  }
{%- endif %}
}
{%- endfor %}

run "network" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    name               = "{{ m.name.kebab }}-test"
    cidr               = "10.20.0.0/16"
    azs                = [{% for z in t.availability_zones %}{% if not loop.first %}, {% endif %}{{ z | hcl }}{% endfor %}]
    single_nat_gateway = {{ t.single_nat_gateway }}
    kms_key_arn        = {{ f.kms_key_arn | hcl }}
    log_retention_days = {{ t.log_retention_days }}
  }

  assert {
    condition     = length(aws_subnet.private) == {{ t.availability_zones | length }} && length(aws_nat_gateway.this) == {{ t.expect.nat_gateways }}
    error_message = "The VPC spans {{ t.availability_zones | length }} zones with {{ t.expect.nat_gateways }} NAT gateway(s)."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "Public subnets must not give instances public addresses."
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.retention_in_days == {{ t.log_retention_days }} && aws_cloudwatch_log_group.flow_logs.kms_key_id == {{ f.kms_key_arn | hcl }}
    error_message = "Flow logs must be kept {{ t.log_retention_days }} days, encrypted with the KMS key."
  }
}
{%- if not m.is_serverless %}

run "cluster" {
  command = plan

  module {
    source = "./modules/cluster"
  }

  variables {
    name               = "{{ m.name.kebab }}-test"
    kubernetes_version = "1.31"
    subnet_ids         = [{% for s in f.subnet_ids %}{% if not loop.first %}, {% endif %}{{ s | hcl }}{% endfor %}]
    kms_key_arn        = {{ f.kms_key_arn | hcl }}
    log_retention_days = {{ t.log_retention_days }}
    instance_types     = [{{ m.preset.cluster.instance_type | hcl }}]
    min_size           = {{ m.preset.cluster.min_nodes }}
    desired_size       = {{ m.preset.cluster.desired_nodes }}
    max_size           = {{ m.preset.cluster.max_nodes }}
  }

  assert {
    condition     = !aws_eks_cluster.this.vpc_config[0].endpoint_public_access
    error_message = "The Kubernetes API must not be public."
  }

  assert {
    condition     = one(aws_eks_cluster.this.encryption_config[0].provider).key_arn == {{ f.kms_key_arn | hcl }}
    error_message = "Kubernetes secrets must be encrypted with the KMS key."
  }

  assert {
    condition     = aws_eks_node_group.this.scaling_config[0].min_size == {{ m.preset.cluster.min_nodes }} && aws_eks_node_group.this.scaling_config[0].max_size == {{ m.preset.cluster.max_nodes }}
    error_message = "Scale {{ m.scale }} runs {{ m.preset.cluster.min_nodes }} to {{ m.preset.cluster.max_nodes }} nodes."
  }

  assert {
    condition     = aws_cloudwatch_log_group.cluster.retention_in_days == {{ t.log_retention_days }}
    error_message = "Control plane logs must be kept {{ t.log_retention_days }} days."
  }
}
{%- endif %}
{%- if m.databases | length > 0 and not m.is_serverless %}

run "database" {
  command = plan

  module {
    source = "./modules/database"
  }

  variables {
    identifier                 = "{{ m.name.kebab }}-test-db"
    db_name                    = "test"
    username                   = "test"
    instance_class             = {{ m.preset.database.instance_class | hcl }}
    multi_az                   = {{ t.expect.db_multi_az }}
    read_replicas              = {{ t.expect.db_read_replicas }}
    allocated_storage          = {{ m.preset.database.storage_gb }}
    max_allocated_storage      = {{ m.preset.database.max_storage_gb }}
    backup_retention_days      = {{ m.preset.database.backup_days }}
    vpc_id                     = {{ f.vpc_id | hcl }}
    subnet_ids                 = [{% for s in f.subnet_ids %}{% if not loop.first %}, {% endif %}{{ s | hcl }}{% endfor %}]
    allowed_security_group_ids = [{{ f.security_group_id | hcl }}]
    kms_key_arn                = {{ f.kms_key_arn | hcl }}
  }

  assert {
    condition     = alltrue([for db in concat([aws_db_instance.primary], aws_db_instance.replica) : db.storage_encrypted && db.kms_key_id == {{ f.kms_key_arn | hcl }}])
    error_message = "Every database instance must be encrypted with the KMS key."
  }

  assert {
    condition     = alltrue([for db in concat([aws_db_instance.primary], aws_db_instance.replica) : !db.publicly_accessible])
    error_message = "No database instance may be public."
  }

  assert {
    condition     = aws_db_instance.primary.multi_az == {{ t.expect.db_multi_az }} && length(aws_db_instance.replica) == {{ t.expect.db_read_replicas }}
    error_message = "Scale {{ m.scale }}: multi_az = {{ t.expect.db_multi_az }} and {{ t.expect.db_read_replicas }} read replicas."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.postgres : r.cidr_ipv4 == null && r.cidr_ipv6 == null])
    error_message = "The database must be reachable from the cluster's security group only."
  }
}
{%- endif %}
{%- if m.caches | length > 0 %}

run "cache" {
  command = plan

  module {
    source = "./modules/cache"
  }

  variables {
    name                       = "{{ m.name.kebab }}-test-cache"
    node_type                  = {{ m.preset.cache.node_type | hcl }}
    replicas                   = {{ t.expect.cache_replicas }}
    shards                     = {{ t.expect.cache_shards }}
    automatic_failover         = {{ t.expect.cache_failover }}
    vpc_id                     = {{ f.vpc_id | hcl }}
    subnet_ids                 = [{% for s in f.subnet_ids %}{% if not loop.first %}, {% endif %}{{ s | hcl }}{% endfor %}]
    allowed_security_group_ids = [{{ f.security_group_id | hcl }}]
    kms_key_arn                = {{ f.kms_key_arn | hcl }}
    log_retention_days         = {{ t.log_retention_days }}
  }

  assert {
    condition     = tobool(aws_elasticache_replication_group.this.at_rest_encryption_enabled) && aws_elasticache_replication_group.this.kms_key_id == {{ f.kms_key_arn | hcl }} && aws_elasticache_replication_group.this.transit_encryption_enabled
    error_message = "The cache must be encrypted at rest with the KMS key and in transit."
  }

  assert {
    condition     = aws_elasticache_replication_group.this.replicas_per_node_group == {{ t.expect.cache_replicas }} && aws_elasticache_replication_group.this.num_node_groups == {{ t.expect.cache_shards }} && aws_elasticache_replication_group.this.multi_az_enabled == {{ t.expect.cache_failover }}
    error_message = "Scale {{ m.scale }}: {{ t.expect.cache_shards }} shard(s) of {{ t.expect.cache_replicas }} replica(s), Multi-AZ {{ t.expect.cache_failover }}."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.redis : r.cidr_ipv4 == null && r.cidr_ipv6 == null])
    error_message = "The cache must be reachable from the cluster's security group only."
  }

  assert {
    condition     = aws_cloudwatch_log_group.slow_log.retention_in_days == {{ t.log_retention_days }}
    error_message = "The slow log must be kept {{ t.log_retention_days }} days."
  }
}
{%- endif %}
{%- if m.messaging and not m.is_serverless %}

run "messaging" {
  command = plan

  module {
    source = "./modules/messaging"
  }

  variables {
    name        = "{{ m.name.kebab }}-test"
    kms_key_arn = {{ f.kms_key_arn | hcl }}
{% if m.messaging.is_sqs %}
{%- set l = m.messaging.sqs %}
    topics = {
{%- for tp in l.topics %}
      {{ tp.topic | hcl }}{{ tp.pad }} = {{ tp.suffix | hcl }}
{%- endfor %}
    }
    queues = {
{%- for q in l.queues %}
      {{ q.key | hcl }}{{ q.pad }} = { topic = {{ q.topic | hcl }}, queue = {{ q.suffix | hcl }}, dead_letter = {{ q.dead_letter_suffix | hcl }}, subscribed = {{ q.subscribed }} }
{%- endfor %}
    }
    max_receive_count             = {{ l.max_receive_count }}
    visibility_timeout_seconds    = {{ l.visibility_timeout_seconds }}
    retention_seconds             = {{ l.retention_seconds }}
    dead_letter_retention_seconds = {{ l.dead_letter_retention_seconds }}
{%- else %}
    topics                     = [{% for tp in m.messaging.topics %}{% if not loop.first %}, {% endif %}{{ tp.name.raw | hcl }}{% endfor %}]
    vpc_id                     = {{ f.vpc_id | hcl }}
    subnet_ids                 = [{% for s in f.subnet_ids %}{% if not loop.first %}, {% endif %}{{ s | hcl }}{% endfor %}]
    allowed_security_group_ids = [{{ f.security_group_id | hcl }}]
    broker_count               = {{ m.preset.messaging.brokers }}
    instance_type              = {{ t.broker_instance_type | hcl }}
{%- if m.messaging.is_kafka %}
    log_retention_days         = {{ t.log_retention_days }}
    partitions                 = {{ m.preset.messaging.partitions }}
{%- endif %}
{%- endif %}
  }
{%- if m.messaging.is_kafka %}

  assert {
    condition     = aws_msk_cluster.this.encryption_info[0].encryption_at_rest_kms_key_arn == {{ f.kms_key_arn | hcl }} && aws_msk_cluster.this.broker_node_group_info[0].connectivity_info[0].public_access[0].type == "DISABLED"
    error_message = "Kafka must be encrypted with the KMS key and not public."
  }

  assert {
    condition     = aws_msk_cluster.this.number_of_broker_nodes == {{ t.expect.kafka_broker_nodes }}
    error_message = "Scale {{ m.scale }} runs {{ t.expect.kafka_broker_nodes }} Kafka brokers."
  }

  assert {
    condition     = aws_cloudwatch_log_group.broker.retention_in_days == {{ t.log_retention_days }}
    error_message = "Broker logs must be kept {{ t.log_retention_days }} days."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.kafka : r.cidr_ipv4 == null && r.cidr_ipv6 == null])
    error_message = "Kafka must be reachable from the cluster's security group only."
  }
{%- elif m.messaging.is_rabbitmq %}

  assert {
    condition     = !aws_mq_broker.this.publicly_accessible && aws_mq_broker.this.deployment_mode == {{ t.expect.rabbitmq_deployment_mode | hcl }}
    error_message = "Scale {{ m.scale }}: a private {{ t.expect.rabbitmq_deployment_mode }} broker."
  }

  assert {
    condition     = aws_secretsmanager_secret.broker.kms_key_id == {{ f.kms_key_arn | hcl }}
    error_message = "The broker's credentials must be encrypted with the KMS key."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.amqps : r.cidr_ipv4 == null && r.cidr_ipv6 == null])
    error_message = "The broker must be reachable from the cluster's security group only."
  }
{%- else %}

  assert {
    condition     = length(aws_sns_topic.this) == {{ t.expect.sns_topics }} && length(aws_sqs_queue.consumer) == {{ t.expect.sqs_queues }} && length(aws_sqs_queue.dead_letter) == {{ t.expect.sqs_dead_letter_queues }} && length(aws_sns_topic_subscription.consumer) == {{ t.expect.sqs_queues }}
    error_message = "{{ t.expect.sns_topics }} SNS topics, {{ t.expect.sqs_queues }} subscribed queues (one per consuming service and topic) and {{ t.expect.sqs_dead_letter_queues }} dead-letter queues."
  }

  assert {
    condition     = alltrue(concat([for q in aws_sqs_queue.consumer : q.fifo_queue], [for tp in aws_sns_topic.this : tp.fifo_topic], [for q in aws_sqs_queue.dead_letter : q.fifo_queue], [for sub in aws_sns_topic_subscription.consumer : sub.raw_message_delivery]))
    error_message = "FIFO topics and queues (one message group per aggregate), with raw delivery."
  }
{%- for q in m.messaging.sqs.queues %}{% if loop.first %}

  assert {
    condition     = aws_sqs_queue.dead_letter[{{ q.key | hcl }}].name == "{{ m.name.kebab }}-test-{{ q.dead_letter_suffix }}"
    error_message = "Queue names are the ones the services read from their environment."
  }
{%- endif %}{% endfor %}

  assert {
    condition     = alltrue(concat([for q in aws_sqs_queue.consumer : q.kms_master_key_id == {{ f.kms_key_arn | hcl }}], [for tp in aws_sns_topic.this : tp.kms_master_key_id == {{ f.kms_key_arn | hcl }}]))
    error_message = "Topics and queues must be encrypted with the KMS key."
  }
{%- endif %}
}
{%- endif %}

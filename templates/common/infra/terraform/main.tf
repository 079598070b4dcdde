{{ header }}
locals {
  prefix = "${var.name}-${var.environment}"
  tags = merge(var.tags, {
    System      = var.name
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}

module "kms" {
  source = "./modules/kms"
  name   = local.prefix
  region = var.region
{%- if m.messaging and m.messaging.is_sqs %}
  # SNS delivers to the encrypted queues.
  service_principals = ["sns.amazonaws.com"]
{%- endif %}
}

module "network" {
  source             = "./modules/network"
  name               = local.prefix
  cidr               = var.vpc_cidr
  azs                = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
}

module "cluster" {
  source             = "./modules/cluster"
  name               = local.prefix
  kubernetes_version = var.kubernetes_version
  subnet_ids         = module.network.private_subnet_ids
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
  instance_types     = var.node_instance_types
  min_size           = var.node_min_size
  desired_size       = var.node_desired_size
  max_size           = var.node_max_size
}

# ECR is per account: with one AWS account per environment (recommended), each has its own.
# Repositories: the generated workloads' images, then one migration image per database (dbmate + its folder).
module "registry" {
  source       = "./modules/registry"
  kms_key_arn  = module.kms.key_arn
  repositories = [{% for r in m.deploy.registry_repositories %}{{ r | quote }}{% if not loop.last %}, {% endif %}{% endfor %}]
}
{%- for db in m.databases %}

module "{{ db.module }}" {
  source                     = "./modules/database"
  identifier                 = "${local.prefix}-{{ db.name.kebab }}"
  db_name                    = "{{ db.db_name }}"
  username                   = "{{ db.user }}"
{%- if db.rds_engine != "postgres" %}
  engine                     = "{{ db.rds_engine }}"
  engine_version             = "{{ db.rds_engine_version }}"
{%- endif %}
  instance_class             = var.db_instance_class
  multi_az                   = var.db_multi_az
  read_replicas              = var.db_read_replicas
  allocated_storage          = var.db_allocated_storage
  max_allocated_storage      = var.db_max_allocated_storage
  backup_retention_days      = var.db_backup_retention_days
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.cluster.cluster_security_group_id]
  kms_key_arn                = module.kms.key_arn
}
{%- endfor %}
{%- for c in m.caches %}

module "{{ c.module }}" {
  source                     = "./modules/cache"
  name                       = "${local.prefix}-{{ c.name.kebab }}"
  node_type                  = var.cache_node_type
  replicas                   = var.cache_replicas
  shards                     = var.cache_shards
  automatic_failover         = var.cache_automatic_failover
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.cluster.cluster_security_group_id]
  kms_key_arn                = module.kms.key_arn
  log_retention_days         = var.log_retention_days
}
{%- endfor %}
{%- if m.messaging %}

module "messaging" {
  source      = "./modules/messaging"
  name        = local.prefix
  kms_key_arn = module.kms.key_arn
{%- if m.messaging.is_sqs %}
{%- set l = m.messaging.sqs %}
  # Names after the prefix, as the services' environment gives them (deploy/k8s/overlays/*).
  topics = {
{%- for t in l.topics %}
    {{ t.topic | quote }}{{ t.pad }} = {{ t.suffix | quote }}
{%- endfor %}
  }
  queues = {
{%- for q in l.queues %}
    {{ q.key | quote }}{{ q.pad }} = { topic = {{ q.topic | quote }}, queue = {{ q.suffix | quote }}, dead_letter = {{ q.dead_letter_suffix | quote }}, subscribed = {{ q.subscribed }} }
{%- endfor %}
  }
  max_receive_count             = {{ l.max_receive_count }}
  visibility_timeout_seconds    = {{ l.visibility_timeout_seconds }}
  retention_seconds             = {{ l.retention_seconds }}
  dead_letter_retention_seconds = {{ l.dead_letter_retention_seconds }}
{%- else %}

  topics                     = [{% for t in m.messaging.topics %}{% if not loop.first %}, {% endif %}{{ t.name.raw | quote }}, {{ t.dead_letter | quote }}{% endfor %}]
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.cluster.cluster_security_group_id]
  broker_count               = var.broker_count
  instance_type              = var.broker_instance_type
{%- if m.messaging.is_kafka %}
  log_retention_days         = var.log_retention_days
  partitions                 = var.topic_partitions
{%- endif %}
{%- endif %}
}
{%- endif %}
{%- if m.deploy.backing | length > 0 %}

# Private zone for the backing services' names: the cluster's ExternalName Services
# (deploy/k8s/base/backing-services.yaml) point at <name>.{{ m.deploy.dns_zone }}, a CNAME of the managed endpoint.
resource "aws_route53_zone" "internal" {
  name    = "{{ m.deploy.dns_zone }}"
  comment = "Backing services of ${local.prefix}, resolvable inside its VPC only"

  vpc {
    vpc_id = module.network.vpc_id
  }
}
{%- for b in m.deploy.backing %}
{%- if b.managed_host %}

resource "aws_route53_record" "{{ b.name }}" {
  zone_id = aws_route53_zone.internal.zone_id
  name    = "{{ b.external_name }}"
  type    = "CNAME"
  ttl     = 60
  records = [{{ b.managed_host }}]
}
{%- endif %}
{%- endfor %}
{%- endif %}

{%- if m.transport.endpoints | length > 0 and not m.is_serverless %}

# The addresses cloud clients dial (TLS checks the managed endpoint's own name, not the private
# zone's CNAME), for the workloads' ExternalSecrets (deploy/k8s/overlays/<env>/transport.yaml).
# No credential is in it: passwords stay in their own secrets.
resource "aws_secretsmanager_secret" "endpoints" {
  #checkov:skip=CKV2_AWS_57:addresses, not credentials: they change with the resources, by apply
  name       = "${local.prefix}/endpoints"
  kms_key_id = module.kms.key_arn
}

resource "aws_secretsmanager_secret_version" "endpoints" {
  secret_id = aws_secretsmanager_secret.endpoints.id
  secret_string = jsonencode({
{%- for e in m.transport.endpoints %}
    {{ e.key | quote }}{{ e.pad }} = {{ e.value }}
{%- endfor %}
  })
}
{%- endif %}

# IAM roles for service accounts (IRSA): each workload's Kubernetes service account assumes its
# own role, which grants only what that workload uses.{% if m.transport.credentials_readers %} Each database's credentials have a
# reader of their own (External Secrets, deploy/k8s/migrations/overlays/<env>/credentials.yaml):
# the workloads get DATABASE_URL from its Secret and never read the master secret.{% endif %}
locals {
  workloads = [
{%- for d in m.deployables %}
    { name = {{ d.name.kebab | quote }}, service_account = {{ d.service_account | quote }} },
{%- endfor %}
{%- for r in m.transport.credentials_readers %}
    { name = {{ r.name | quote }}, service_account = {{ r.name | quote }} },
{%- endfor %}
  ]
  service_accounts = { for w in local.workloads : w.name => w.service_account }
}

data "aws_iam_policy_document" "workload_assume" {
  for_each = local.service_accounts

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [module.cluster.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${module.cluster.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.kubernetes_namespace}:${each.value}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${module.cluster.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workload" {
  for_each           = local.service_accounts
  name               = "${local.prefix}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.workload_assume[each.key].json
}
{%- for d in m.deployables %}
{%- set uses_messaging = m.messaging and (d.publishes | length > 0 or d.consumes | length > 0) %}
{%- if d.cache or uses_messaging %}

data "aws_iam_policy_document" "{{ d.name.snake }}" {
{%- set arns = m.transport.secret_arns[d.name.kebab] %}
{%- if arns | length > 0 %}
  statement {
    sid       = "ReadConnectionSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [{{ arns | join(sep=", ") }}]
  }

  statement {
    sid       = "DecryptSecrets"
    actions   = ["kms:Decrypt"]
    resources = [module.kms.key_arn]
  }
{%- endif %}
{%- if uses_messaging and m.messaging.is_kafka %}

  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [module.messaging.cluster_arn]
  }
{%- if d.publishes | length > 0 %}

  statement {
    sid     = "PublishTopics"
    actions = ["kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:WriteData"]
    resources = [
{%- for t in d.publishes %}
      "${replace(module.messaging.cluster_arn, ":cluster/", ":topic/")}/{{ t.raw }}",
{%- endfor %}
    ]
  }
{%- endif %}
{%- if d.consumes | length > 0 %}

  statement {
    sid     = "ConsumeTopics"
    actions = ["kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:ReadData"]
    resources = [
{%- for t in d.consumes %}
      "${replace(module.messaging.cluster_arn, ":cluster/", ":topic/")}/{{ t.raw }}",
{%- endfor %}
    ]
  }

  statement {
    sid     = "DeadLetterTopics"
    actions = ["kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:WriteData"]
    resources = [
{%- for t in d.events.dead_letters %}
      "${replace(module.messaging.cluster_arn, ":cluster/", ":topic/")}/{{ t }}",
{%- endfor %}
    ]
  }

  statement {
    sid       = "ConsumerGroup"
    actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
    resources = ["${replace(module.messaging.cluster_arn, ":cluster/", ":group/")}/{{ d.name.kebab }}"]
  }
{%- endif %}
{%- endif %}
{%- if uses_messaging and m.messaging.is_sqs %}
{%- if d.events.sns_topics | length > 0 %}

  statement {
    sid     = "PublishTopics"
    actions = ["sns:Publish"]
    resources = [
{%- for n in d.events.sns_topics %}
      module.messaging.topic_arns[{{ n.topic | quote }}],
{%- endfor %}
    ]
  }
{%- endif %}
{%- if d.consumes | length > 0 %}

{%- if d.events.sqs_queues | length > 0 %}

  statement {
    sid     = "ConsumeQueues"
    actions = ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [
{%- for n in d.events.sqs_queues %}
      module.messaging.queue_arns["{{ n.topic }}/{{ d.name.kebab }}"],
{%- endfor %}
    ]
  }
{%- endif %}

  statement {
    sid     = "DeadLetterQueues"
    actions = ["sqs:GetQueueUrl", "sqs:SendMessage"]
    resources = [
{%- for n in d.events.sqs_dead_letter_queues %}
      module.messaging.dead_letter_queue_arns["{{ n.topic }}/{{ d.name.kebab }}"],
{%- endfor %}
    ]
  }
{%- endif %}

  statement {
    sid       = "UseMessageKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.kms.key_arn]
  }
{%- endif %}
}

resource "aws_iam_role_policy" "{{ d.name.snake }}" {
  name   = "{{ d.name.kebab }}"
  role   = aws_iam_role.workload[{{ d.name.kebab | quote }}].id
  policy = data.aws_iam_policy_document.{{ d.name.snake }}.json
}
{%- endif %}
{%- endfor %}
{%- for r in m.transport.credentials_readers %}

# External Secrets reads {{ r.name }} as this role: the master secret RDS rotates, and the address.
data "aws_iam_policy_document" "{{ r.policy }}" {
  statement {
    sid       = "ReadDatabaseCredentials"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [module.{{ r.module }}.master_user_secret_arn, aws_secretsmanager_secret.endpoints.arn]
  }

  statement {
    sid       = "DecryptSecrets"
    actions   = ["kms:Decrypt"]
    resources = [module.kms.key_arn]
  }
}

resource "aws_iam_role_policy" "{{ r.policy }}" {
  name   = "{{ r.name }}"
  role   = aws_iam_role.workload[{{ r.name | quote }}].id
  policy = data.aws_iam_policy_document.{{ r.policy }}.json
}
{%- endfor %}

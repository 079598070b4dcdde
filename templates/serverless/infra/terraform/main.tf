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
  source             = "./modules/kms"
  name               = local.prefix
  region             = var.region
  service_principals = ["events.amazonaws.com", "sqs.amazonaws.com"]
}

# Functions run in private subnets; they reach AWS APIs through the NAT gateways.
module "network" {
  source             = "./modules/network"
  name               = local.prefix
  cidr               = var.vpc_cidr
  azs                = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
}

resource "aws_security_group" "functions" {
  name        = "${local.prefix}-functions"
  description = "Lambda functions of ${local.prefix}: outbound HTTPS{% if m.caches | length > 0 %} and Redis{% endif %} only"
  vpc_id      = module.network.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "functions_https" {
  security_group_id = aws_security_group.functions.id
  description       = "HTTPS to AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
{%- if m.caches | length > 0 %}

resource "aws_vpc_security_group_egress_rule" "functions_redis" {
  security_group_id = aws_security_group.functions.id
  description       = "Redis inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 6379
  to_port           = 6379
  cidr_ipv4         = module.network.vpc_cidr
}
{%- endif %}
{%- for c in m.caches %}

module "cache_{{ c.name.snake }}" {
  source                     = "./modules/cache"
  name                       = "${local.prefix}-{{ c.name.kebab }}"
  node_type                  = var.cache_node_type
  replicas                   = var.cache_replicas
  shards                     = var.cache_shards
  automatic_failover         = var.cache_automatic_failover
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [aws_security_group.functions.id]
  kms_key_arn                = module.kms.key_arn
  log_retention_days         = var.log_retention_days
}
{%- endfor %}

# Only packages signed by this profile can be deployed.
resource "aws_signer_signing_profile" "functions" {
  name_prefix = "${replace(var.name, "-", "_")}_${var.environment}_"
  platform_id = "AWSLambda-SHA384-ECDSA"
}

resource "aws_lambda_code_signing_config" "functions" {
  description = "Signed packages only for ${local.prefix}"

  allowed_publishers {
    signing_profile_version_arns = [aws_signer_signing_profile.functions.version_arn]
  }

  policies {
    untrusted_artifact_on_deployment = "Enforce"
  }
}
{%- for e in m.entities %}

module "table_{{ e.name.snake }}" {
  source          = "./modules/table"
  name            = "${local.prefix}-{{ e.table | kebab }}"
  hash_key        = {{ e.pk | quote }}
  attribute_types = { {% for c in e.columns %}{% if not loop.first %}, {% endif %}{{ c.name }} = {{ c.dynamo_type | quote }}{% endfor %} }
  unique_keys     = [{% for c in e.unique_columns %}{% if not loop.first %}, {% endif %}{{ c | quote }}{% endfor %}]
  indexes         = [{% for i in e.indexes %}[{% for col in i.columns %}{% if not loop.first %}, {% endif %}{{ col | quote }}{% endfor %}]{% if not loop.last %}, {% endif %}{% endfor %}]
  kms_key_arn     = module.kms.key_arn
}
{%- endfor %}
{%- if m.messaging %}

# Topics are events on one EventBridge bus; every consuming function has its own queue.
resource "aws_cloudwatch_event_bus" "events" {
  name               = local.prefix
  kms_key_identifier = module.kms.key_arn
}
{%- for t in m.messaging.topics %}

resource "aws_cloudwatch_event_rule" "{{ t.name.snake }}" {
  name           = "${local.prefix}-{{ t.name.kebab }}"
  description    = "Topic {{ t.name.raw }}"
  event_bus_name = aws_cloudwatch_event_bus.events.name
  event_pattern  = jsonencode({ "detail-type" = [{{ t.name.raw | quote }}] })
}
{%- endfor %}
{%- endif %}
{%- for f in m.functions %}
{%- if f.trigger == "queue" %}

module "queue_{{ f.name.snake }}" {
  source                     = "./modules/queue"
  name                       = "${local.prefix}-{{ f.name.kebab }}"
  kms_key_arn                = module.kms.key_arn
  visibility_timeout_seconds = var.function_timeout_s * 6
  source_rule_arns           = [aws_cloudwatch_event_rule.{{ f.topic.snake }}.arn]
}

resource "aws_cloudwatch_event_target" "{{ f.name.snake }}" {
  rule           = aws_cloudwatch_event_rule.{{ f.topic.snake }}.name
  event_bus_name = aws_cloudwatch_event_bus.events.name
  target_id      = "{{ f.name.kebab }}"
  arn            = module.queue_{{ f.name.snake }}.arn
}
{%- endif %}
{%- for s in m.services %}{% if s.name.raw == f.service %}
{%- set publishes = m.messaging and s.publishes | length > 0 %}
{%- set owns_tables = s.entities | length > 0 %}
{%- set needs_policy = owns_tables or publishes or f.trigger == "queue" or s.cache %}
{%- if needs_policy %}

data "aws_iam_policy_document" "{{ f.name.snake }}" {
{%- for en in s.entities %}
{%- if not loop.first %}
{% endif %}
  statement {
    sid     = "Table{{ en | pascal }}"
    actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"]
    resources = [
      module.table_{{ en | snake }}.arn,
      "${module.table_{{ en | snake }}.arn}/index/*",
    ]
  }
{%- endfor %}
{%- if publishes %}
{%- if owns_tables %}
{% endif %}
  statement {
    sid       = "PublishEvents"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.events.arn]
  }
{%- endif %}
{%- if f.trigger == "queue" %}
{%- if owns_tables or publishes %}
{% endif %}
  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [module.queue_{{ f.name.snake }}.arn]
  }
{%- endif %}
{%- if s.cache %}
{%- if owns_tables or publishes or f.trigger == "queue" %}
{% endif %}
  statement {
    sid       = "ConnectToCache"
    actions   = ["elasticache:Connect"]
    resources = [module.cache_{{ s.cache.name | snake }}.replication_group_arn, module.cache_{{ s.cache.name | snake }}.iam_user_arn]
  }
{%- endif %}
}
{%- endif %}

module "function_{{ f.name.snake }}" {
  source                  = "./modules/function"
  name                    = "${local.prefix}-{{ f.name.kebab }}"
  handler                 = {{ f.handler | quote }}
  memory_mb               = var.function_memory_mb
  reserved_concurrency    = var.function_reserved_concurrency
  timeout_s               = var.function_timeout_s
  artifact_bucket         = var.artifact_bucket
  artifact_key            = "{{ f.name.kebab }}/${var.function_version}.zip"
  kms_key_arn             = module.kms.key_arn
  subnet_ids              = module.network.private_subnet_ids
  security_group_ids      = [aws_security_group.functions.id]
  code_signing_config_arn = aws_lambda_code_signing_config.functions.arn
  log_retention_days      = var.log_retention_days
{%- if needs_policy %}
  policy_json             = data.aws_iam_policy_document.{{ f.name.snake }}.json
{%- endif %}
{%- if f.trigger == "queue" %}
  queue_arn               = module.queue_{{ f.name.snake }}.arn
{%- endif %}

  environment = [
{%- for v in f.env %}{% if v.name in ["SERVICE_NAME", "LOG_LEVEL", "OTEL_SERVICE_NAME"] %}
    { name = {{ v.name | quote }}, value = {{ v.value | hcl }} },
{%- endif %}{% endfor %}
{%- for i in s.entity_ids %}{% set e = m.entities[i] %}
    { name = "{{ e.table | shouty }}_TABLE", value = module.table_{{ e.name.snake }}.name },
{%- endfor %}
{%- if publishes %}
    { name = "EVENT_BUS_NAME", value = aws_cloudwatch_event_bus.events.name },
{%- endif %}
{%- if s.cache %}
    { name = "REDIS_URL", value = "rediss://${module.cache_{{ s.cache.name | snake }}.primary_endpoint}:6379/0" },
{%- endif %}
  ]
}
{%- endif %}{% endfor %}
{%- endfor %}

module "api" {
  source             = "./modules/api"
  name               = local.prefix
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
  throttle_rate      = var.api_throttle_rate

  routes = [
{%- for f in m.functions %}{% if f.trigger == "http" %}{% for r in f.routes %}
    { route_key = "ANY {{ r | hcl_in }}", function_name = module.function_{{ f.name.snake }}.function_name, invoke_arn = module.function_{{ f.name.snake }}.invoke_arn },
    { route_key = "ANY {{ r | hcl_in }}/{proxy+}", function_name = module.function_{{ f.name.snake }}.function_name, invoke_arn = module.function_{{ f.name.snake }}.invoke_arn },
{%- endfor %}{% endif %}{% endfor %}
  ]
}

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
  description = "Lambda functions of ${local.prefix}: outbound HTTPS{% if m.serverless.databases %} and PostgreSQL to the proxies{% endif %} only"
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
{%- for db in m.serverless.databases %}

module "{{ db.module }}" {
  source                     = "./modules/database"
  identifier                 = "${local.prefix}-{{ db.name.kebab }}"
  db_name                    = {{ db.db_name | hcl }}
  username                   = {{ db.user | hcl }}
  instances                  = var.db_instances
  min_capacity               = var.db_min_capacity
  max_capacity               = var.db_max_capacity
  backup_retention_days      = var.db_backup_retention_days
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [aws_security_group.functions.id]
  kms_key_arn                = module.kms.key_arn
}

resource "aws_vpc_security_group_egress_rule" "functions_{{ db.module }}" {
  security_group_id            = aws_security_group.functions.id
  description                  = "PostgreSQL to the proxy of {{ db.name.kebab }}"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = module.{{ db.module }}.proxy_security_group_id
}
{%- endfor %}
{%- for t in m.serverless.tables %}
{%- if loop.first %}

# One DynamoDB table per entity, keyed by its primary key; an index per reference the code queries by.
{%- endif %}

resource "aws_dynamodb_table" "{{ t.label }}" {
  name                        = "${local.prefix}-{{ t.name_suffix }}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = {{ t.hash_key | hcl }}
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = {{ t.hash_key | hcl }}
    type = "{{ t.hash_type }}"
  }
{%- for i in t.indexes %}

  attribute {
    name = {{ i.hash_key | hcl }}
    type = "{{ i.hash_type }}"
  }
{%- endfor %}
{%- for i in t.indexes %}

  # {% if i.owner %}A user's own rows{% else %}Rows referring to a row (a referenced row is not deleted){% endif %}.
  global_secondary_index {
    name            = "{{ i.name }}"
    hash_key        = {{ i.hash_key | hcl }}
    range_key       = {{ t.hash_key | hcl }}
    projection_type = "ALL"
  }
{%- endfor %}

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.kms.key_arn
  }
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
{%- if f.statements %}

data "aws_iam_policy_document" "{{ f.name.snake }}" {
{%- for st in f.statements %}
{%- if not loop.first %}
{% endif %}
  statement {
    sid       = {{ st.sid | hcl }}
    actions   = [{% for a in st.actions %}{{ a | hcl }}{% if not loop.last %}, {% endif %}{% endfor %}]
    resources = [{% for r in st.resources %}{{ r }}{% if not loop.last %}, {% endif %}{% endfor %}]
  }
{%- endfor %}
}
{%- endif %}

module "function_{{ f.name.snake }}" {
  source                  = "./modules/function"
  name                    = "${local.prefix}-{{ f.name.kebab }}"
  handler                 = {{ f.handler | quote }}
  runtime                 = {{ f.runtime | quote }}
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
{%- if f.statements %}
  has_policy              = true
  policy_json             = data.aws_iam_policy_document.{{ f.name.snake }}.json
{%- endif %}
{%- if f.trigger == "queue" %}
  queue_triggered         = true
  queue_arn               = module.queue_{{ f.name.snake }}.arn
{%- endif %}

  environment = [
{%- for v in f.env %}
    { name = {{ v.name | hcl }}, value = {{ v.value }} },
{%- endfor %}
  ]
}
{%- endfor %}

module "api" {
  source             = "./modules/api"
  name               = local.prefix
  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
  throttle_rate      = var.api_throttle_rate

  routes = [
{%- for f in m.functions %}{% for r in f.api_routes %}
    { route_key = "{{ r.key | hcl_in }}", authorization = "{{ r.authorization }}", function_name = module.function_{{ f.name.snake }}.function_name, invoke_arn = module.function_{{ f.name.snake }}.invoke_arn },
{%- endfor %}{% endfor %}
  ]
}

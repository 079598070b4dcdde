{{ header }}
resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-cache"
  description = "Redis ${var.name}: reachable from the cluster only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  count                        = length(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Redis from the workloads"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
}

# The mandatory `default` user is switched off; workloads sign in as `app` with a password (Redis
# AUTH over TLS) that Secrets Manager generates and keeps: the cluster's ExternalSecrets read it
# from there. The generator returns a new value on every plan: the secret version keeps
# the first one (ignore_changes) and the user follows the secret, so plans stay empty. To rotate:
# terraform apply -replace=module.cache_<name>.aws_secretsmanager_secret_version.auth
resource "aws_elasticache_user" "default" {
  user_id       = "${var.name}-default"
  user_name     = "default"
  engine        = "redis"
  access_string = "off -@all"

  authentication_mode {
    type = "no-password-required"
  }
}

data "aws_secretsmanager_random_password" "auth" {
  password_length     = 48
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "auth" {
  #checkov:skip=CKV2_AWS_57:ElastiCache user passwords have no managed rotation; rotate by replacing aws_secretsmanager_secret_version.auth and applying
  name       = "${var.name}-auth"
  kms_key_id = var.kms_key_arn
}

resource "aws_secretsmanager_secret_version" "auth" {
  secret_id = aws_secretsmanager_secret.auth.id
  secret_string = jsonencode({
    username = "${var.name}-app"
    password = data.aws_secretsmanager_random_password.auth.random_password
  })

  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_elasticache_user" "app" {
  user_id       = "${var.name}-app"
  user_name     = jsondecode(aws_secretsmanager_secret_version.auth.secret_string).username
  engine        = "redis"
  access_string = "on ~* +@all -@dangerous"

  authentication_mode {
    type      = "password"
    passwords = [jsondecode(aws_secretsmanager_secret_version.auth.secret_string).password]
  }
}

resource "aws_elasticache_user_group" "this" {
  engine        = "redis"
  user_group_id = var.name
  user_ids      = [aws_elasticache_user.default.user_id, aws_elasticache_user.app.user_id]
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/${var.name}/elasticache/slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_elasticache_replication_group" "this" {
{%- if m.preset.cache.replicas == 0 %}
  #checkov:skip=CKV2_AWS_50:scale {{ m.scale }} runs a single cache node by design; failover needs a replica (cache_replicas)
{%- endif %}
  replication_group_id = var.name
  description          = "Redis cache ${var.name}"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = var.shards > 1 ? "default.redis7.cluster.on" : "default.redis7"

  num_node_groups            = var.shards
  replicas_per_node_group    = var.replicas
  automatic_failover_enabled = var.automatic_failover
  multi_az_enabled           = var.automatic_failover

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]
  user_group_ids     = [aws_elasticache_user_group.this.user_group_id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  auto_minor_version_upgrade = true
  snapshot_retention_limit   = 7
  snapshot_window            = "01:00-02:00"
  maintenance_window         = "sun:04:30-sun:05:30"

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }
}

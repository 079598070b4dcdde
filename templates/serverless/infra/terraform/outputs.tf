{{ header }}
output "api_endpoint" {
  description = "Base URL of the HTTP API."
  value       = module.api.endpoint
}

output "user_pool_id" {
  description = "Cognito user pool that issues the API's tokens."
  value       = module.api.user_pool_id
}

output "user_pool_client_id" {
  description = "App client ID callers request tokens for."
  value       = module.api.user_pool_client_id
}

output "function_names" {
  description = "Lambda function names."
  value = [
{%- for f in m.functions %}
    module.function_{{ f.name.snake }}.function_name,
{%- endfor %}
  ]
}

{% if m.serverless.tables -%}
output "table_names" {
  description = "DynamoDB table of each entity, in the model's order ({% for t in m.serverless.tables %}{{ t.entity }}{% if not loop.last %}, {% endif %}{% endfor %})."
  value = [
{%- for t in m.serverless.tables %}
    aws_dynamodb_table.{{ t.label }}.name,
{%- endfor %}
  ]
}
{%- else -%}
output "database_proxy_endpoints" {
  description = "RDS Proxy endpoint of each database (functions connect there with IAM tokens)."
  value = [
{%- for db in m.serverless.databases %}
    module.{{ db.module }}.proxy_endpoint,
{%- endfor %}
  ]
}
{%- endif %}
{%- if m.messaging %}

output "event_bus_name" {
  description = "EventBridge bus the functions publish their events to."
  value       = aws_cloudwatch_event_bus.events.name
}
{%- endif %}

{{ header }}
output "endpoint" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "user_pool_id" {
  description = "Cognito user pool that issues the API's tokens."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_client_id" {
  description = "App client ID (the JWT audience)."
  value       = aws_cognito_user_pool_client.this.id
}

output "user_pool_id" {
  description = "User pool id (COGNITO_USER_POOL_ID)."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "User pool ARN (the users role's policy)."
  value       = aws_cognito_user_pool.this.arn
}

output "client_id" {
  description = "App client id (COGNITO_CLIENT_ID, the gateway's AUTH_AUDIENCE)."
  value       = aws_cognito_user_pool_client.app.id
}

output "issuer" {
  description = "Token issuer (the gateway's AUTH_ISSUER)."
  value       = "https://${aws_cognito_user_pool.this.endpoint}"
}

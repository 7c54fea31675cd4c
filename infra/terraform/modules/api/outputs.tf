output "api_endpoint" {
  description = "Base URL clients call."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "events_url" {
  description = "EVENTS_URL of the session hosts: the base URL they append /internal/events to."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "function_name" {
  description = "Name of the API Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the API Lambda function."
  value       = aws_lambda_function.this.arn
}

output "security_group_id" {
  description = "Security group of the function, to allow it into Redis and RDS."
  value       = aws_security_group.this.id
}

output "role_name" {
  description = "IAM role of the function, for extra policies."
  value       = aws_iam_role.this.name
}

output "api_id" {
  description = "Id of the HTTP API (the ApiId dimension of its CloudWatch metrics)."
  value       = aws_apigatewayv2_api.this.id
}

output "invoke_arn" {
  description = "What API Gateway invokes: the alias `live` with SnapStart, else the function."
  value       = local.invoke_arn
}

output "values" {
  description = "Generated secrets by environment name."
  value       = local.generated
  sensitive   = true
}

output "runtime_environment" {
  description = "Every secret environment variable of the processes (generated plus derived)."
  value       = local.runtime
  sensitive   = true
}

output "runtime_secret_arns" {
  description = "Per role, the ARN of the JSON secret its hosts load into their environment at each start."
  value       = { for role, s in aws_secretsmanager_secret.runtime : role => s.arn }
}

output "secret_arns" {
  description = "ARNs of the generated secrets by environment name."
  value       = { for n, s in aws_secretsmanager_secret.generated : n => s.arn }
}

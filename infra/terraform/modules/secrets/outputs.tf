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

output "runtime_secret_arn" {
  description = "ARN of the JSON secret hosts load into their environment at boot."
  value       = aws_secretsmanager_secret.runtime.arn
}

output "secret_arns" {
  description = "ARNs of the generated secrets by environment name."
  value       = { for n, s in aws_secretsmanager_secret.generated : n => s.arn }
}

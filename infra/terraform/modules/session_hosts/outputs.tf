output "security_group_id" {
  description = "Security group of the session hosts, to allow them into Redis."
  value       = module.host.security_group_id
}

output "autoscaling_group_name" {
  description = "Name of the session host Auto Scaling group."
  value       = module.host.autoscaling_group_name
}

output "auth_file_system_id" {
  description = "EFS file system holding WA_AUTH_DIR."
  value       = aws_efs_file_system.auth.id
}

output "role_name" {
  description = "IAM role of the session hosts."
  value       = module.host.role_name
}

output "scaling_policy_arn" {
  description = "Target-tracking policy on SessionsPerHost, or null."
  value       = module.host.scaling_policy_arn
}

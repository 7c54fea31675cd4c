output "security_group_id" {
  description = "Security group of the workers, to allow them into Redis and RDS."
  value       = module.host.security_group_id
}

output "autoscaling_group_name" {
  description = "Name of the worker Auto Scaling group."
  value       = module.host.autoscaling_group_name
}

output "role_name" {
  description = "IAM role of the workers."
  value       = module.host.role_name
}

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

output "scaling_policy_arn" {
  description = "Target-tracking policy on InboundBacklogPerWorker, or null."
  value       = module.host.scaling_policy_arn
}

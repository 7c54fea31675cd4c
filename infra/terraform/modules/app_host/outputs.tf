output "security_group_id" {
  description = "Security group of the instances, to allow them into Redis, RDS and EFS."
  value       = aws_security_group.this.id
}

output "autoscaling_group_name" {
  description = "Name of the Auto Scaling group."
  value       = aws_autoscaling_group.this.name
}

output "role_name" {
  description = "IAM role of the instances, for extra policies."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "CloudWatch log group of the service and boot logs (null when ship_logs is false)."
  value       = var.ship_logs ? aws_cloudwatch_log_group.this[0].name : null
}

output "launch_template_id" {
  description = "Launch template of the instances."
  value       = aws_launch_template.this.id
}

output "scaling_policy_arn" {
  description = "ARN of the target-tracking policy, or null for a fixed-size group."
  value       = one(aws_autoscaling_policy.target_tracking[*].arn)
}

output "api_endpoint" {
  description = "Base URL of the gateway's HTTP API."
  value       = module.api.api_endpoint
}

output "events_url" {
  description = "EVENTS_URL of the session hosts (base URL of the API)."
  value       = module.api.events_url
}

output "api_function_name" {
  description = "Lambda function serving the API (for logs and one-off invocations)."
  value       = module.api.function_name
}

output "admin_token_secret_arn" {
  description = "Secret holding ADMIN_TOKEN, the Bearer token of /sessions*."
  value       = module.secrets.secret_arns["ADMIN_TOKEN"]
}

output "media_bucket" {
  description = "MEDIA_BUCKET of the deployment."
  value       = module.media.bucket_name
}

output "session_host_asg" {
  description = "Auto Scaling group of the session hosts."
  value       = module.session_hosts.autoscaling_group_name
}

output "worker_asg" {
  description = "Auto Scaling group of the inbound workers."
  value       = module.worker.autoscaling_group_name
}

output "database_address" {
  description = "Private host name of PostgreSQL."
  value       = module.database.address
}

output "redis_address" {
  description = "Private host name of the Redis primary."
  value       = module.redis.primary_endpoint_address
}

output "nat_public_ips" {
  description = "Outbound addresses (for AI backends that allow-list callers)."
  value       = module.network.nat_public_ips
}

output "address" {
  description = "Host name of the database endpoint."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database endpoint."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the application database."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "User the application connects as."
  value       = aws_db_instance.this.username
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.this.id
}

output "instance_id" {
  description = "RDS instance identifier."
  value       = aws_db_instance.this.identifier
}

output "proxy_endpoint" {
  description = "Host name of the RDS Proxy, or null without one."
  value       = one(aws_db_proxy.this[*].endpoint)
}

output "proxy_connect_arn" {
  description = "Resource of the rds-db:connect permission a proxy client needs, or null without a proxy."
  value       = local.proxy_connect_arn
}

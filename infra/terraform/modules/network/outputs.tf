output "vpc_id" {
  description = "VPC holding every resource."
  value       = var.create_vpc ? aws_vpc.this[0].id : var.existing_vpc_id

  precondition {
    condition     = var.create_vpc || (var.existing_vpc_id != null && length(var.existing_private_subnet_ids) >= 2)
    error_message = "With create_vpc = false, set existing_vpc_id and at least two existing_private_subnet_ids in different zones."
  }
}

output "private_subnet_ids" {
  description = "Private subnets for Lambda, hosts, RDS, ElastiCache and EFS."
  value       = var.create_vpc ? aws_subnet.private[*].id : var.existing_private_subnet_ids
}

output "public_subnet_ids" {
  description = "Public subnets holding the NAT gateways (empty when reusing subnets)."
  value       = aws_subnet.public[*].id
}

output "nat_public_ips" {
  description = "Addresses outbound traffic leaves from (for AI backends that allow-list callers)."
  value       = aws_eip.nat[*].public_ip
}

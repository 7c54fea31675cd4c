variable "name" {
  type        = string
  description = "Name prefix for every network resource."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "create_vpc" {
  type        = bool
  description = "Create a VPC with public and private subnets and NAT; false reuses existing_* subnets."
  default     = true
}

variable "cidr_block" {
  type        = string
  description = "CIDR of the VPC created when create_vpc is true."
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && try(tonumber(split("/", var.cidr_block)[1]) <= 20, false)
    error_message = "cidr_block must be an IPv4 CIDR of /20 or larger, e.g. 10.40.0.0/16 (subnets are carved as /24 and /prefix+4)."
  }
}

variable "az_count" {
  type        = number
  description = "Availability zones to spread subnets over when create_vpc is true."
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4 (RDS and ElastiCache subnet groups need two zones)."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all zones (cheaper) instead of one per zone (survives a zone outage)."
  default     = true
}

variable "existing_vpc_id" {
  type        = string
  description = "VPC to use when create_vpc is false."
  default     = null
}

variable "existing_private_subnet_ids" {
  type        = list(string)
  description = "Private subnets (with a route to a NAT) to use when create_vpc is false."
  default     = []
}

variable "flow_log_retention_days" {
  type        = number
  description = "Days CloudWatch keeps VPC flow logs."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch retention value up to 365."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "name" {
  type        = string
  description = "Identifier of the RDS instance and prefix of its companions."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,50}$", var.name))
    error_message = "name must start with a letter and hold only lowercase letters, digits and hyphens."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the database security group."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (two zones or more) for the DB subnet group."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "client_security_group_ids" {
  type        = map(string)
  description = "Security groups allowed on the PostgreSQL port, keyed by a static name (api, worker) so plans work before the groups exist."
  default     = {}
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major (or major.minor) version."
  default     = "16"

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 14 or newer, e.g. 16 or 16.4."
  }
}

variable "instance_class" {
  type        = string
  description = "RDS instance class."
  default     = "db.t4g.small"

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class such as db.t4g.small."
  }
}

variable "allocated_storage_gb" {
  type        = number
  description = "Initial storage in GiB."
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  type        = number
  description = "Storage autoscaling ceiling in GiB."
  default     = 100
}

variable "database_name" {
  type        = string
  description = "Name of the application database."
  default     = "wagw"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must be a lowercase PostgreSQL identifier."
  }
}

variable "master_username" {
  type        = string
  description = "Master user the application connects as."
  default     = "wagw"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.master_username)) && var.master_username != "postgres"
    error_message = "master_username must be a lowercase identifier other than postgres."
  }
}

variable "master_password" {
  type        = string
  description = "Master password (from the secrets module; never typed in tfvars)."
  sensitive   = true

  validation {
    condition     = length(var.master_password) >= 16
    error_message = "master_password must be at least 16 characters."
  }
}

variable "multi_az" {
  type        = bool
  description = "Keep a synchronous standby in a second zone."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups (point-in-time recovery window)."
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35; backups may not be disabled."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance until this is turned off."
  default     = true
}

variable "monitoring_interval_seconds" {
  type        = number
  description = "Enhanced monitoring interval; 0 turns it off."
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval_seconds)
    error_message = "monitoring_interval_seconds must be one of 0, 1, 5, 10, 15, 30, 60."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for storage encryption; null uses the AWS managed key."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "use_rds_proxy" {
  type        = bool
  description = "Put an RDS Proxy (IAM auth required, TLS required) in front of the database."
  default     = false
}

variable "proxy_client_security_group_ids" {
  type        = map(string)
  description = "Security groups let into the proxy, by name (e.g. the API Lambda)."
  default     = {}
}

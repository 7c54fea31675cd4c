variable "name" {
  type        = string
  description = "Replication group id and prefix of its companions."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}$", var.name))
    error_message = "name must start with a letter, hold lowercase letters, digits and hyphens, and be at most 40 characters."
  }
}

variable "engine" {
  type        = string
  description = "Managed Redis behind the gateway: elasticache (Multi-AZ replication group, the only engine RQ runs on)."
  default     = "elasticache"

  validation {
    condition     = var.engine == "elasticache"
    error_message = "MemoryDB is not offered: it runs in cluster mode only, where RQ's enqueue (a MULTI/EXEC over the job, its queue and the queue set) fails with CROSSSLOT even on one shard (tests/infra/test_redis_cluster_mode.py). Use elasticache; the README says what a failover can lose."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the Redis security group."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (two zones or more) for the cache subnet group."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "ElastiCache needs subnets in at least two availability zones."
  }
}

variable "client_security_group_ids" {
  type        = map(string)
  description = "Security groups allowed on the Redis port, keyed by a static name (api, worker, session_hosts)."
  default     = {}
}

variable "engine_version" {
  type        = string
  description = "Redis engine version (cluster mode stays off: RQ and the Lua scripts use keys across slots)."
  default     = "7.1"

  validation {
    condition     = can(regex("^[67]\\.[0-9x]+$", var.engine_version))
    error_message = "engine_version must be a Redis 6.x or 7.x version, e.g. 7.1."
  }
}

variable "node_type" {
  type        = string
  description = "Cache node type."
  default     = "cache.t4g.small"

  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type must be an ElastiCache node type such as cache.t4g.small."
  }
}

variable "replicas" {
  type        = number
  description = "Read replicas next to the primary; one or more enables automatic failover across zones."
  default     = 1

  validation {
    condition     = var.replicas >= 0 && var.replicas <= 5
    error_message = "replicas must be between 0 and 5."
  }
}

variable "auth_token" {
  type        = string
  description = "AUTH token clients present (from the secrets module)."
  sensitive   = true

  validation {
    condition     = length(var.auth_token) >= 16 && length(var.auth_token) <= 128
    error_message = "auth_token must be 16 to 128 characters."
  }
}

variable "snapshot_retention_days" {
  type        = number
  description = "Days of daily snapshots (queued jobs and live state survive a bad failover)."
  default     = 3

  validation {
    condition     = var.snapshot_retention_days >= 0 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be between 0 and 35."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for encryption at rest; null uses the AWS managed key."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "region" {
  type        = string
  description = "AWS region of the deployment."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as ap-southeast-3."
  }
}

variable "environment" {
  type        = string
  description = "Deployment name; prefixes every resource (wagw-<environment>)."
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lowercase letters, digits or hyphens."
  }
}

variable "artifact_bucket_name" {
  type        = string
  description = "Globally unique name of the bucket created for release artifacts."
}

variable "media_bucket_name" {
  type        = string
  description = "Globally unique name of the bucket created for media previews (MEDIA_BUCKET)."
}

variable "lambda_zip_path" {
  type        = string
  description = "The API zip built by infra/scripts/build_artifacts.sh."
  default     = "../../../../var/dist/lambda.zip"
}

variable "app_tarball_path" {
  type        = string
  description = "The host tarball built by infra/scripts/build_artifacts.sh."
  default     = "../../../../var/dist/app.tar.gz"
}

variable "ai_backend_url" {
  type        = string
  description = "AI_BACKEND_URL: base of the default agent endpoint $${AI_BACKEND_URL}/agents/{agentId}/execute."

  validation {
    condition     = can(regex("^https?://", var.ai_backend_url))
    error_message = "ai_backend_url must be an http(s) URL."
  }
}

variable "developer_jid" {
  type        = string
  description = "DEVELOPER_JID alerted on inbound failures; empty for none."
  default     = ""
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of every process."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "create_vpc" {
  type        = bool
  description = "Create a VPC; false deploys into existing_vpc_id / existing_private_subnet_ids."
  default     = true
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR of the created VPC."
  default     = "10.40.0.0/16"
}

variable "existing_vpc_id" {
  type        = string
  description = "Existing VPC used when create_vpc is false."
  default     = null
}

variable "existing_private_subnet_ids" {
  type        = list(string)
  description = "Existing private subnets (NAT-routed, two zones or more) used when create_vpc is false."
  default     = []
}

variable "lambda_timeout_seconds" {
  type        = number
  description = "API Lambda timeout (at most 28: API Gateway stops waiting at about 29 s)."
  default     = 28
}

variable "qr_wait_seconds" {
  type        = number
  description = "QR_WAIT_SECONDS of the API (below the Lambda timeout)."
  default     = 20
}

variable "send_wait_seconds" {
  type        = number
  description = "SEND_WAIT_SECONDS of the API; slower sends answer 202 with a job id."
  default     = 15
}

variable "session_host_count" {
  type        = number
  description = "Session hosts to run."
  default     = 2
}

variable "session_host_instance_type" {
  type        = string
  description = "Instance type of the session hosts."
  default     = "t3.xlarge"
}

variable "max_sessions_per_host" {
  type        = number
  description = "MAX_SESSIONS of each session host."
  default     = 20
}

variable "worker_count" {
  type        = number
  description = "Inbound workers to run."
  default     = 2
}

variable "worker_instance_type" {
  type        = string
  description = "Instance type of the inbound workers."
  default     = "t3.small"
}

variable "db_instance_class" {
  type        = string
  description = "RDS instance class."
  default     = "db.t4g.small"
}

variable "db_multi_az" {
  type        = bool
  description = "Run the database with a standby in a second zone."
  default     = true
}

variable "db_backup_retention_days" {
  type        = number
  description = "Days of automated database backups."
  default     = 14
}

variable "db_deletion_protection" {
  type        = bool
  description = "Protect the database from deletion."
  default     = true
}

variable "redis_engine" {
  type        = string
  description = "Managed Redis behind the gateway: elasticache (Multi-AZ replication group, the only engine RQ runs on)."
  default     = "elasticache"

  validation {
    condition     = var.redis_engine == "elasticache"
    error_message = "MemoryDB is not offered: it runs in cluster mode only, where RQ's enqueue (a MULTI/EXEC over the job, its queue and the queue set) fails with CROSSSLOT even on one shard (tests/infra/test_redis_cluster_mode.py). Use elasticache; the README says what a failover can lose."
  }
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type."
  default     = "cache.t4g.small"
}

variable "redis_replicas" {
  type        = number
  description = "Redis replicas (1 or more enables automatic failover)."
  default     = 1
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on every resource."
  default     = {}
}

variable "alarm_email" {
  type        = string
  description = "Address the alarm topic emails (confirm the subscription once); empty = subscribe other tools to the topic yourself."
  default     = ""
}

variable "max_session_host_count" {
  type        = number
  description = "Most session hosts the SessionsPerHost target tracking may run (null = session_host_count + 1)."
  default     = null
}

variable "sessions_per_host_target" {
  type        = number
  description = "Average sessions per host to scale toward (null = 70% of max_sessions_per_host)."
  default     = null
}

variable "max_worker_count" {
  type        = number
  description = "Most inbound workers the backlog target tracking may run (null = worker_count + 1)."
  default     = null
}

variable "backlog_per_worker_target" {
  type        = number
  description = "Inbound jobs waiting per worker to scale toward."
  default     = 20
}

variable "db_use_rds_proxy" {
  type        = bool
  description = "Put RDS Proxy between the API Lambda and PostgreSQL (IAM auth, TLS); the workers stay direct."
  default     = true
}

variable "lambda_snap_start" {
  type        = bool
  description = "Lambda SnapStart for the API: cold starts resume an initialised snapshot instead of importing the app (a snapshot cache charge applies)."
  default     = true
}

variable "name" {
  type        = string
  description = "Name of the worker Auto Scaling group and its companions."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,50}$", var.name))
    error_message = "name must start with a letter and hold only lowercase letters, digits and hyphens."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the workers."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets with a NAT route (the AI backend is on the internet)."
}

variable "artifact_bucket" {
  type        = string
  description = "S3 bucket holding the application tarball."
}

variable "artifact_key" {
  type        = string
  description = "S3 key of the application tarball."
}

variable "runtime_secret_arn" {
  type        = string
  description = "Secrets Manager secret (JSON) with DATABASE_URL, REDIS_URL and EVENTS_SECRET."
}

variable "environment" {
  type        = map(string)
  description = "Plain environment (AI_BACKEND_URL, DEVELOPER_JID, MEDIA_BUCKET, LOG_LEVEL...)."
  default     = {}
}

variable "run_migrations" {
  type        = bool
  description = "Run `python -m functions.migrate` before each worker start (idempotent; keeps the schema current on deploy)."
  default     = true
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type (the worker mostly waits on the AI backend)."
  default     = "t3.small"
}

variable "worker_count" {
  type        = number
  description = "Worker instances; each runs one RQ worker on the inbound queue."
  default     = 2

  validation {
    condition     = var.worker_count >= 1 && var.worker_count <= 20
    error_message = "worker_count must be between 1 and 20."
  }
}

variable "drain_timeout_seconds" {
  type        = number
  description = "Time a worker gets after SIGTERM to finish its current job (AI calls take up to 60 s)."
  default     = 90

  validation {
    condition     = var.drain_timeout_seconds >= 70
    error_message = "drain_timeout_seconds must exceed the 60 s AI timeout plus a margin (at least 70)."
  }
}

variable "media_bucket_arns" {
  type        = list(string)
  description = "Media buckets the worker may use; empty for none."
  default     = []
}

variable "ami_id" {
  type        = string
  description = "AMI to boot; null picks the newest official Debian 12 AMI."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace the workers publish the deployment gauges to; empty = none and a fixed-size group."
  default     = ""
}

variable "max_worker_count" {
  type        = number
  description = "Most workers scaling may run (null = worker_count + 1, the refresh spare)."
  default     = null
}

variable "backlog_per_worker_target" {
  type        = number
  description = "Inbound jobs waiting per worker the group scales toward."
  default     = 20
}

variable "name" {
  type        = string
  description = "Name of the session host Auto Scaling group, EFS and their companions."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,50}$", var.name))
    error_message = "name must start with a letter and hold only lowercase letters, digits and hyphens."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the hosts and the EFS mount targets."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets with a NAT route (WhatsApp Web and the API are on the internet); one EFS mount target each."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give at least two private subnets so agents survive a zone outage."
  }
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
  description = "Secrets Manager secret (JSON) with REDIS_URL and EVENTS_SECRET only."
}

variable "events_url" {
  type        = string
  description = "EVENTS_URL: base URL of the API; the hosts post signed events to its /internal/events."

  validation {
    condition     = startswith(var.events_url, "https://")
    error_message = "events_url must be an https:// URL."
  }
}

variable "environment" {
  type        = map(string)
  description = "Extra plain environment (LOG_LEVEL, WA_WEB_URL, HOST_TTL_SECONDS...)."
  default     = {}
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type; each headless Chromium needs roughly 300-500 MB."
  default     = "t3.xlarge"
}

variable "host_count" {
  type        = number
  description = "Session hosts to run; agents are spread by free capacity and taken over when one dies."
  default     = 2

  validation {
    condition     = var.host_count >= 1 && var.host_count <= 50
    error_message = "host_count must be between 1 and 50."
  }
}

variable "max_sessions" {
  type        = number
  description = "MAX_SESSIONS: Chrome sessions one host accepts."
  default     = 20

  validation {
    condition     = var.max_sessions >= 1 && var.max_sessions <= 500
    error_message = "max_sessions must be between 1 and 500."
  }
}

variable "drain_timeout_seconds" {
  type        = number
  description = "Time a host gets after SIGTERM to stop its browsers and release its agents."
  default     = 180

  validation {
    condition     = var.drain_timeout_seconds >= 30 && var.drain_timeout_seconds <= 3600
    error_message = "drain_timeout_seconds must be between 30 and 3600."
  }
}

variable "media_bucket_arns" {
  type        = list(string)
  description = "Media buckets the hosts may read; empty for none."
  default     = []
}

variable "ami_id" {
  type        = string
  description = "AMI to boot; null picks the newest official Debian 12 AMI."
  default     = null
}

variable "efs_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the auth store; null uses the AWS managed key."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace for SessionsPerHost; empty = no metric and a fixed-size group."
  default     = ""
}

variable "max_host_count" {
  type        = number
  description = "Most session hosts scaling may run (null = host_count + 1, the refresh spare)."
  default     = null
}

variable "sessions_per_host_target" {
  type        = number
  description = "Average sessions per host the group scales toward (null = 70% of max_sessions)."
  default     = null
}

variable "scale_in_protection" {
  type        = bool
  description = "Hosts protect their instance from scale-in while they run sessions (with metrics_namespace)."
  default     = true
}

variable "name" {
  type        = string
  description = "Name of the Lambda function, HTTP API and their companions."

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, hyphens or underscores."
  }
}

variable "artifact_bucket" {
  type        = string
  description = "S3 bucket holding the Lambda zip."
}

variable "artifact_key" {
  type        = string
  description = "S3 key of the Lambda zip."
}

variable "source_code_hash" {
  type        = string
  description = "Base64 SHA-256 of the zip; a change publishes new code."
}

variable "handler" {
  type        = string
  description = "Lambda handler: the apig-wsgi wrapper around the Flask app."
  default     = "functions.lambda_handler.handler"
}

variable "runtime" {
  type        = string
  description = "Lambda Python runtime; match build_artifacts.sh's Python (3.12: its Amazon Linux 2023 base loads the pinned manylinux_2_28 wheels)."
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.(1[1-9])$", var.runtime))
    error_message = "runtime must be python3.11 or newer."
  }
}

variable "architecture" {
  type        = string
  description = "Lambda architecture; the zip's wheels must be built for it."
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_mb" {
  type        = number
  description = "Lambda memory (CPU scales with it)."
  default     = 1024

  validation {
    condition     = var.memory_mb >= 256 && var.memory_mb <= 10240
    error_message = "memory_mb must be between 256 and 10240."
  }
}

variable "timeout_seconds" {
  type        = number
  description = "Lambda timeout; API Gateway gives up at about 29 s, so stay below it."
  default     = 28

  validation {
    condition     = var.timeout_seconds >= 5 && var.timeout_seconds <= 28
    error_message = "timeout_seconds must be between 5 and 28 (API Gateway's integration limit is 29-30 s)."
  }
}

variable "qr_wait_seconds" {
  type        = number
  description = "QR_WAIT_SECONDS behind API Gateway (the product default of 60 s cannot fit)."
  default     = 20

  validation {
    condition     = var.qr_wait_seconds > 0 && var.qr_wait_seconds <= 25
    error_message = "qr_wait_seconds must be above 0 and at most 25."
  }
}

variable "send_wait_seconds" {
  type        = number
  description = "SEND_WAIT_SECONDS behind API Gateway: after this a send answers 202 with a job id."
  default     = 15

  validation {
    condition     = var.send_wait_seconds >= 0 && var.send_wait_seconds <= 25
    error_message = "send_wait_seconds must be between 0 and 25."
  }
}

variable "ai_timeout_seconds" {
  type        = number
  description = "AI_TIMEOUT_SECONDS for the synchronous /agents/{id}/run call behind API Gateway."
  default     = 24

  validation {
    condition     = var.ai_timeout_seconds > 0 && var.ai_timeout_seconds <= 26
    error_message = "ai_timeout_seconds must be above 0 and at most 26."
  }
}

variable "environment" {
  type        = map(string)
  description = "Plain (non-secret) environment variables, e.g. AI_BACKEND_URL, DEVELOPER_JID, MEDIA_BUCKET."
  default     = {}
}

variable "runtime_secret_arn" {
  type        = string
  description = "ARN of the JSON secret (EVENTS_SECRET, ADMIN_TOKEN, DATABASE_URL, REDIS_URL) the function reads at run time."

  validation {
    condition     = can(regex("^arn:[a-z-]+:secretsmanager:", var.runtime_secret_arn))
    error_message = "runtime_secret_arn must be a Secrets Manager ARN."
  }
}

variable "secrets_ttl_seconds" {
  type        = number
  description = "How long the function uses the secret's values before reading it again (a rotation shows within this)."
  default     = 300
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key encrypting the function's environment; null uses the AWS managed key."
  default     = null
}

variable "vpc_id" {
  type        = string
  description = "VPC the function runs in (to reach RDS and ElastiCache)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets with a NAT route (the AI backend and media URLs are on the internet)."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give at least two private subnets so the function survives a zone outage."
  }
}

variable "media_bucket_arns" {
  type        = list(string)
  description = "Media buckets the function may read and write; empty when media stays in /tmp."
  default     = []
}

variable "reserved_concurrency" {
  type        = number
  description = "Concurrent executions reserved (and capped) for the API; -1 leaves it unreserved."
  default     = -1

  validation {
    condition     = var.reserved_concurrency == -1 || var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be -1 or a positive number."
  }
}

variable "throttling_rate_limit" {
  type        = number
  description = "Steady-state requests per second API Gateway lets through."
  default     = 100

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive."
  }
}

variable "throttling_burst_limit" {
  type        = number
  description = "Burst of requests API Gateway lets through."
  default     = 200

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "throttling_burst_limit must be positive."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch keeps the function and access logs."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "database_connect_arn" {
  type        = string
  description = "rds-db:connect resource of the database user behind RDS Proxy; set, the function logs in with IAM tokens (DATABASE_IAM_AUTH). Null = password in DATABASE_URL."
  default     = null
}

variable "snap_start" {
  type        = bool
  description = "Lambda SnapStart (python3.12+): publish a version per deploy, snapshot its initialised app, invoke it through the alias `live`. Cold starts skip imports and app set-up; costs a snapshot cache charge."
  default     = false
}

variable "name" {
  type        = string
  description = "Prefix of every secret name, e.g. wagw-production."

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_+=.@-]{2,100}$", var.name))
    error_message = "name may only hold letters, digits and /_+=.@- (Secrets Manager naming)."
  }
}

variable "generated_secrets" {
  type        = set(string)
  description = "Environment names whose values are generated once (alphanumeric) and kept in Secrets Manager."
  default     = ["EVENTS_SECRET", "ADMIN_TOKEN", "DB_PASSWORD", "REDIS_AUTH_TOKEN"]

  validation {
    condition     = alltrue([for n in var.generated_secrets : can(regex("^[A-Z][A-Z0-9_]*$", n))])
    error_message = "generated_secrets must be UPPER_SNAKE_CASE environment names."
  }
}

variable "secret_length" {
  type        = number
  description = "Length of each generated secret."
  default     = 48

  validation {
    condition     = var.secret_length >= 32 && var.secret_length <= 128
    error_message = "secret_length must be between 32 and 128 (ElastiCache auth tokens allow at most 128)."
  }
}

variable "runtime_environment" {
  type        = map(string)
  description = "Derived secret settings (DATABASE_URL, REDIS_URL) offered to the runtime secrets next to the generated ones."
  default     = {}
  sensitive   = true
}

variable "runtime_roles" {
  type        = map(list(string))
  description = "Per process role, the secret environment names its runtime secret holds (least privilege), e.g. { session_host = [\"REDIS_URL\", \"EVENTS_SECRET\"] }; \"NAME=SOURCE\" stores SOURCE's value as NAME (the API's DATABASE_URL through the proxy)."
  default     = {}

  validation {
    condition     = alltrue([for role in keys(var.runtime_roles) : can(regex("^[a-z][a-z0-9_-]*$", role))])
    error_message = "runtime_roles keys must be lowercase role names."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the secrets; null uses the AWS managed key."
  default     = null
}

variable "recovery_window_in_days" {
  type        = number
  description = "Days a deleted secret can still be restored."
  default     = 7

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 (delete at once) or between 7 and 30."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

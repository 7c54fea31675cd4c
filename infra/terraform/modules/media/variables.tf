variable "bucket_name" {
  type        = string
  description = "Globally unique name of the media bucket (MEDIA_BUCKET)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "expiration_days" {
  type        = number
  description = "Days after which media previews are deleted (the product promises 24 h)."
  default     = 1

  validation {
    condition     = var.expiration_days >= 1 && var.expiration_days <= 7
    error_message = "expiration_days must be between 1 and 7; previews are temporary."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for SSE-KMS; null uses SSE-S3 (AES256)."
  default     = null
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the bucket while it still holds media."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

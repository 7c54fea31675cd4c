variable "bucket_name" {
  type        = string
  description = "Globally unique name of the private bucket holding release artifacts."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "lambda_zip_path" {
  type        = string
  description = "Local path of the API's Lambda zip built by infra/scripts/build_artifacts.sh."

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must point to a .zip file."
  }
}

variable "app_tarball_path" {
  type        = string
  description = "Local path of the application tarball (source, requirements, wa-js bundle) installed on EC2 hosts."

  validation {
    condition     = endswith(var.app_tarball_path, ".tar.gz")
    error_message = "app_tarball_path must point to a .tar.gz file."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the bucket while it still holds artifacts."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

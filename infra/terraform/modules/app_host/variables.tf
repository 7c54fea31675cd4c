variable "name" {
  type        = string
  description = "Name of the Auto Scaling group and prefix of its companions."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,50}$", var.name))
    error_message = "name must start with a letter and hold only lowercase letters, digits and hyphens (at most 51)."
  }
}

variable "service_name" {
  type        = string
  description = "systemd unit name of the process, e.g. wagw-session-host."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]+$", var.service_name))
    error_message = "service_name must be lowercase letters, digits and hyphens."
  }
}

variable "command" {
  type        = list(string)
  description = "Arguments after the venv's python, e.g. [\"-m\", \"session_host\"]."

  validation {
    condition     = length(var.command) > 0
    error_message = "command must not be empty."
  }
}

variable "pre_start_command" {
  type        = list(string)
  description = "Arguments after python run before every start (e.g. [\"-m\", \"functions.migrate\"]); empty for none."
  default     = []
}

variable "extra_packages" {
  type        = list(string)
  description = "Debian packages installed besides Python (e.g. chromium, chromium-driver)."
  default     = []

  validation {
    condition     = alltrue([for p in var.extra_packages : can(regex("^[a-z0-9][a-z0-9.+-]+$", p))])
    error_message = "extra_packages must be Debian package names."
  }
}

variable "environment" {
  type        = map(string)
  description = "Plain environment of the process; HOST_ID and AWS_REGION are added at boot."
  default     = {}
}

variable "runtime_secret_arn" {
  type        = string
  description = "Secrets Manager secret (JSON object) merged into the environment at every start, never written to disk."
}

variable "artifact_bucket" {
  type        = string
  description = "S3 bucket holding the application tarball."
}

variable "artifact_key" {
  type        = string
  description = "S3 key of the application tarball; a new key rolls the instances."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the instances' security group."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets the instances run in."

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "Give at least one subnet."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type."
  default     = "t3.medium"
}

variable "ami_id" {
  type        = string
  description = "AMI to boot; null picks the newest official Debian 12 (bookworm, Python 3.11) AMI."
  default     = null
}

variable "architecture" {
  type        = string
  description = "CPU architecture of the Debian AMI looked up when ami_id is null."
  default     = "amd64"

  validation {
    condition     = contains(["amd64", "arm64"], var.architecture)
    error_message = "architecture must be amd64 or arm64."
  }
}

variable "root_volume_gb" {
  type        = number
  description = "Size of the encrypted root volume."
  default     = 20

  validation {
    condition     = var.root_volume_gb >= 8 && var.root_volume_gb <= 1000
    error_message = "root_volume_gb must be between 8 and 1000."
  }
}

variable "min_size" {
  type        = number
  description = "Fewest instances."
  default     = 1

  validation {
    condition     = var.min_size >= 0
    error_message = "min_size must not be negative."
  }
}

variable "max_size" {
  type        = number
  description = "Most instances (an instance refresh briefly needs one spare)."
  default     = 3
}

variable "desired_capacity" {
  type        = number
  description = "Instances to run."
  default     = 1
}

variable "efs_dns_name" {
  type        = string
  description = "EFS file system DNS name mounted at efs_mount_path; null for none."
  default     = null
}

variable "efs_mount_path" {
  type        = string
  description = "Where the EFS file system is mounted."
  default     = "/mnt/wagw-shared"

  validation {
    condition     = startswith(var.efs_mount_path, "/")
    error_message = "efs_mount_path must be absolute."
  }
}

variable "drain_timeout_seconds" {
  type        = number
  description = "Time the process gets after SIGTERM (scale-in, refresh) to finish work and hand over before it is killed."
  default     = 120

  validation {
    condition     = var.drain_timeout_seconds >= 10 && var.drain_timeout_seconds <= 3600
    error_message = "drain_timeout_seconds must be between 10 and 3600."
  }
}

variable "media_bucket_arns" {
  type        = list(string)
  description = "Media buckets the process may read and write; empty for none."
  default     = []
}

variable "ship_logs" {
  type        = bool
  description = "Install the CloudWatch agent and ship the service and boot logs to a log group (they would die with the instance otherwise)."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch keeps the hosts' logs."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value up to 365."
  }
}

variable "install_ssm_agent" {
  type        = bool
  description = "Install the SSM agent (Debian AMIs lack it) so operators reach hosts with Session Manager, no SSH."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource and propagated to the instances."
  default     = {}
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace the process publishes to (CLOUDWATCH_NAMESPACE); empty = none."
  default     = ""
}

variable "scale_in_protection" {
  type        = bool
  description = "Let the process protect its own instance from scale-in while it has work (session hosts)."
  default     = false
}

variable "target_tracking" {
  type = object({
    metric_name     = string
    statistic       = string
    target_value    = number
    group_dimension = bool
  })
  description = "Target-tracking policy on a metric of metrics_namespace (group_dimension: the metric carries AutoScalingGroupName); null = fixed size."
  default     = null

  validation {
    condition     = var.target_tracking == null || try(contains(["Average", "Maximum", "Minimum", "Sum"], var.target_tracking.statistic) && var.target_tracking.target_value > 0, false)
    error_message = "target_tracking needs a statistic of Average, Maximum, Minimum or Sum and a positive target_value."
  }
}

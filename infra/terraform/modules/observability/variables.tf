variable "name" {
  type        = string
  description = "Prefix of the topic and alarm names (e.g. wagw-production)."
}

variable "alarm_email" {
  type        = string
  description = "Address subscribed to the alarm topic (it must confirm the subscription); empty = none."
  default     = ""
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace the workers and hosts publish to (CLOUDWATCH_NAMESPACE)."
}

variable "lambda_function_name" {
  type        = string
  description = "The API Lambda function."
}

variable "api_id" {
  type        = string
  description = "The HTTP API in front of the Lambda."
}

variable "session_host_group_name" {
  type        = string
  description = "Auto Scaling group of the session hosts (its GroupInServiceInstances must be enabled)."
}

variable "redis_replication_group_id" {
  type        = string
  description = "ElastiCache replication group; one memory alarm per node."
}

variable "redis_node_count" {
  type        = number
  description = "Nodes in the replication group (replicas + 1)."

  validation {
    condition     = var.redis_node_count >= 1 && var.redis_node_count <= 6
    error_message = "redis_node_count must be 1 to 6."
  }
}

variable "api_5xx_percent" {
  type        = number
  description = "Share of API requests answered 5xx, over 5 minutes, that alarms."
  default     = 5
}

variable "service_unavailable_per_5m" {
  type        = number
  description = "SERVICE_UNAVAILABLE answers in 5 minutes that alarm (Redis or hosts unreachable)."
  default     = 5
}

variable "ai_failures_per_5m" {
  type        = number
  description = "Inbound messages the AI backend failed to answer in 5 minutes that alarm."
  default     = 5
}

variable "redis_memory_percent" {
  type        = number
  description = "Redis memory use (DatabaseMemoryUsagePercentage) that alarms."
  default     = 80
}

variable "tags" {
  type        = map(string)
  description = "Tags on every resource."
  default     = {}
}

# Alarms of one deployment, all notifying one SNS topic. Every description says what to look
# at first. Gateway metrics come from the workers and hosts (CLOUDWATCH_NAMESPACE, see
# contract/cloudwatch.py); counters there are running totals, so growth alarms use DIFF.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  redis_nodes = { for i in range(var.redis_node_count) : format("%03d", i + 1) => format("%s-%03d", var.redis_replication_group_id, i + 1) }

  simple = {
    lambda_errors = {
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = { FunctionName = var.lambda_function_name }
      threshold   = 0
      description = "The API Lambda raised errors (not error answers: crashes, timeouts). Look first at its log group /aws/lambda/${var.lambda_function_name} for the traceback, then at recent deploys."
    }
    lambda_throttles = {
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      dimensions  = { FunctionName = var.lambda_function_name }
      threshold   = 0
      description = "The API Lambda was throttled: requests got 429/503 from AWS. Look first at the account's concurrent executions and the function's reserved concurrency."
    }
  }

  growth = {
    failed_jobs = {
      metric      = "FailedJobs"
      threshold   = 0
      description = "Jobs landed in RQ's failed registry (sends, drains, webhooks given up on). Look first at the RQ dashboard's failed list (or `wagw jobs <agent> --failed`): the exception says which agent and why; requeue once fixed."
    }
    service_unavailable = {
      metric      = "ServiceUnavailableErrors"
      threshold   = var.service_unavailable_per_5m
      description = "The API answered SERVICE_UNAVAILABLE: Redis or every session host was unreachable. Look first at the Redis alarm and ElastiCache events, then at the session-host alarm."
    }
    ai_failures = {
      metric      = "AiFailures"
      threshold   = var.ai_failures_per_5m
      description = "Inbound messages went unanswered because the AI backend failed or timed out (AI_DOWNSTREAM_ERROR, AI_TIMEOUT). Look first at the worker logs (\"inbound message not answered\") for the agent and its endpointUrlRun."
    }
  }
}

# CloudWatch publishes to an encrypted topic only with a customer-managed key it may use.
resource "aws_kms_key" "alarms" {
  description         = "${var.name} alarm topic"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "Account"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchAlarms"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
      },
    ]
  })
  tags = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarms"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "simple" {
  for_each = local.simple

  alarm_name          = "${var.name}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "growth" {
  for_each = local.growth

  alarm_name          = "${var.name}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags

  metric_query {
    id          = "growth"
    expression  = "DIFF(total)"
    label       = "${each.value.metric} added in 5 minutes"
    return_data = true
  }

  metric_query {
    id = "total"

    metric {
      namespace   = var.metrics_namespace
      metric_name = each.value.metric
      period      = 300
      stat        = "Maximum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.name}-api-5xx-rate"
  alarm_description   = "More than ${var.api_5xx_percent}% of API requests were answered 5xx in 5 minutes. Look first at the Lambda errors alarm and the function's logs (code INTERNAL_ERROR has the traceId), then at SERVICE_UNAVAILABLE."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5xx share (%)"
    return_data = true
  }

  metric_query {
    id = "errors"

    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      dimensions  = { ApiId = var.api_id, Stage = "$default" }
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = { ApiId = var.api_id, Stage = "$default" }
      period      = 300
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "session_host_silent" {
  alarm_name          = "${var.name}-session-host-silent"
  alarm_description   = "A session host in service has not heartbeaten into Redis for 3 minutes (or no worker publishes LiveSessionHosts): its agents are not served until another host takes them over. Look first at that instance's `journalctl -u wagw-session-host` over SSM, then at Redis reachability."
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags

  metric_query {
    id          = "silent"
    expression  = "in_service - live"
    label       = "Hosts in service without a heartbeat"
    return_data = true
  }

  metric_query {
    id = "in_service"

    metric {
      namespace   = "AWS/AutoScaling"
      metric_name = "GroupInServiceInstances"
      dimensions  = { AutoScalingGroupName = var.session_host_group_name }
      period      = 60
      stat        = "Minimum"
    }
  }

  metric_query {
    id = "live"

    metric {
      namespace   = var.metrics_namespace
      metric_name = "LiveSessionHosts"
      period      = 60
      stat        = "Maximum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "redis_memory" {
  for_each = local.redis_nodes

  alarm_name          = "${var.name}-redis-memory-${each.key}"
  alarm_description   = "Redis node ${each.value} uses more than ${var.redis_memory_percent}% of its memory; past 100% writes fail (sends answer SERVICE_UNAVAILABLE). Look first at `redis-cli --bigkeys` and the failed registry's size, then move to a larger node type."
  namespace           = "AWS/ElastiCache"
  metric_name         = "DatabaseMemoryUsagePercentage"
  dimensions          = { CacheClusterId = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.redis_memory_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# `terraform test` with a mocked AWS provider: every alarm exists, says what to look at, notifies the topic.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:ap-southeast-3:123456789012:key/mock"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:ap-southeast-3:123456789012:wagw-test-alarms"
    }
  }
}

variables {
  name                       = "wagw-test"
  metrics_namespace          = "WAGW/wagw-test"
  lambda_function_name       = "wagw-test-api"
  api_id                     = "abc123"
  session_host_group_name    = "wagw-test-session-host"
  redis_replication_group_id = "wagw-test"
  redis_node_count           = 2
}

run "every_alarm_is_described_and_notifies_the_topic" {
  command = apply

  assert {
    condition     = length(output.alarm_names) == 9
    error_message = "Expected Lambda errors and throttles, failed jobs, SERVICE_UNAVAILABLE, AI failures, API 5xx, silent host and two Redis memory alarms."
  }

  assert {
    condition = alltrue(concat(
      [for a in aws_cloudwatch_metric_alarm.simple : length(a.alarm_description) > 40 && strcontains(a.alarm_description, "Look first")],
      [for a in aws_cloudwatch_metric_alarm.growth : length(a.alarm_description) > 40 && strcontains(a.alarm_description, "Look first")],
      [for a in aws_cloudwatch_metric_alarm.redis_memory : strcontains(a.alarm_description, "Look first")],
      [strcontains(aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_description, "Look first")],
      [strcontains(aws_cloudwatch_metric_alarm.session_host_silent.alarm_description, "Look first")],
    ))
    error_message = "Every alarm says what to look at first."
  }

  assert {
    condition = alltrue(concat(
      [for a in aws_cloudwatch_metric_alarm.simple : a.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [for a in aws_cloudwatch_metric_alarm.growth : a.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [for a in aws_cloudwatch_metric_alarm.redis_memory : a.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_actions == toset([aws_sns_topic.alarms.arn])],
      [aws_cloudwatch_metric_alarm.session_host_silent.alarm_actions == toset([aws_sns_topic.alarms.arn])],
    ))
    error_message = "Every alarm notifies the one topic."
  }

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.alarms.arn && length(aws_sns_topic_subscription.email) == 0
    error_message = "The topic is encrypted with its own key; no subscription without an address."
  }
}

run "alarms_watch_the_metrics_the_gateway_publishes" {
  command = plan

  assert {
    condition = alltrue([
      for k, a in aws_cloudwatch_metric_alarm.growth :
      anytrue([for q in a.metric_query : q.expression == "DIFF(total)"]) &&
      flatten([for q in a.metric_query : [for m in q.metric : m.namespace]]) == ["WAGW/wagw-test"]
    ])
    error_message = "Growth alarms take DIFF of the running totals in the gateway namespace."
  }

  assert {
    condition = toset(flatten([
      for a in aws_cloudwatch_metric_alarm.growth : [for q in a.metric_query : [for m in q.metric : m.metric_name]]
    ])) == toset(["FailedJobs", "ServiceUnavailableErrors", "AiFailures"])
    error_message = "Growth alarms read the names contract/cloudwatch.py publishes."
  }

  assert {
    condition = toset(flatten([
      for q in aws_cloudwatch_metric_alarm.session_host_silent.metric_query : [for m in q.metric : m.metric_name]
    ])) == toset(["GroupInServiceInstances", "LiveSessionHosts"]) && aws_cloudwatch_metric_alarm.session_host_silent.treat_missing_data == "breaching"
    error_message = "A silent host is in-service instances minus live hosts; no data at all also alarms."
  }

  assert {
    condition     = toset([for a in aws_cloudwatch_metric_alarm.redis_memory : a.dimensions["CacheClusterId"]]) == toset(["wagw-test-001", "wagw-test-002"])
    error_message = "One Redis memory alarm per node of the replication group."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.simple["lambda_errors"].dimensions["FunctionName"] == "wagw-test-api" && aws_cloudwatch_metric_alarm.simple["lambda_throttles"].metric_name == "Throttles"
    error_message = "Lambda alarms watch the API function's Errors and Throttles."
  }
}

run "an_address_gets_an_email_subscription" {
  command = plan

  variables {
    alarm_email = "ops@example.com"
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 1 && aws_sns_topic_subscription.email[0].protocol == "email"
    error_message = "alarm_email subscribes by email."
  }
}

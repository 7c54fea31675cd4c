output "topic_arn" {
  description = "SNS topic every alarm notifies (subscribe chat or paging tools to it)."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the alarms, by purpose."
  value = merge(
    { for k, a in aws_cloudwatch_metric_alarm.simple : k => a.alarm_name },
    { for k, a in aws_cloudwatch_metric_alarm.growth : k => a.alarm_name },
    { for k, a in aws_cloudwatch_metric_alarm.redis_memory : "redis_memory_${k}" => a.alarm_name },
    {
      api_5xx_rate        = aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name
      session_host_silent = aws_cloudwatch_metric_alarm.session_host_silent.alarm_name
    },
  )
}

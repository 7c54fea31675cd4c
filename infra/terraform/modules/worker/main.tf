# The inbound worker (`python -m functions.worker`): an RQ worker on the inbound queue that
# calls the AI backend and enqueues replies. It shares the session hosts' EC2 pattern rather
# than ECS: one AMI, one boot script, one drain mechanism to operate; the price is boot-time
# installs (minutes) instead of pulling an image (seconds).

module "host" {
  source = "../app_host"

  name              = var.name
  service_name      = "wagw-worker"
  command           = ["-m", "functions.worker"]
  pre_start_command = var.run_migrations ? ["-m", "functions.migrate"] : []

  environment        = merge({ APP_ENV = "production", TEMP_DIR = "/opt/wagw/tmp" }, var.environment)
  runtime_secret_arn = var.runtime_secret_arn
  artifact_bucket    = var.artifact_bucket
  artifact_key       = var.artifact_key

  vpc_id           = var.vpc_id
  subnet_ids       = var.subnet_ids
  instance_type    = var.instance_type
  ami_id           = var.ami_id
  min_size         = var.worker_count
  desired_capacity = var.worker_count
  max_size         = max(coalesce(var.max_worker_count, var.worker_count + 1), var.worker_count + 1)

  # The workers publish the deployment gauges; the group follows inbound jobs waiting per worker.
  metrics_namespace = var.metrics_namespace
  target_tracking = var.metrics_namespace == "" ? null : {
    metric_name     = "InboundBacklogPerWorker"
    statistic       = "Maximum"
    target_value    = var.backlog_per_worker_target
    group_dimension = false
  }

  drain_timeout_seconds = var.drain_timeout_seconds
  media_bucket_arns     = var.media_bucket_arns
  tags                  = var.tags
}

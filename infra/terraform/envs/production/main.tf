# Production: API on Lambda behind an HTTP API, inbound workers and session hosts on EC2,
# Redis on ElastiCache, PostgreSQL on RDS, media on S3, WhatsApp auth on EFS.

locals {
  name              = "wagw-${var.environment}"
  metrics_namespace = "WAGW/${local.name}"
  tags = merge(
    { Project = "whatsapp-agent-gateway", Environment = var.environment, ManagedBy = "terraform" },
    var.tags,
  )

  # Shared by the API, the workers and the session hosts.
  common_environment = merge(
    {
      LOG_LEVEL      = var.log_level
      AI_BACKEND_URL = var.ai_backend_url
      MEDIA_BUCKET   = module.media.bucket_name
    },
    var.developer_jid == "" ? {} : { DEVELOPER_JID = var.developer_jid },
  )

  # The API goes through RDS Proxy when there is one: IAM token instead of a password.
  proxy_database_url = var.db_use_rds_proxy ? format(
    "postgresql://%s@%s:%d/%s?sslmode=require",
    module.database.username,
    module.database.proxy_endpoint,
    module.database.port,
    module.database.database_name,
  ) : null

  database_url = format(
    "postgresql://%s:%s@%s:%d/%s?sslmode=require",
    module.database.username,
    urlencode(module.secrets.values["DB_PASSWORD"]),
    module.database.address,
    module.database.port,
    module.database.database_name,
  )
  redis_url = format(
    "rediss://:%s@%s:%d/0",
    urlencode(module.secrets.values["REDIS_AUTH_TOKEN"]),
    module.redis.primary_endpoint_address,
    module.redis.port,
  )
}

module "network" {
  source = "../../modules/network"

  name                        = local.name
  create_vpc                  = var.create_vpc
  cidr_block                  = var.vpc_cidr
  existing_vpc_id             = var.existing_vpc_id
  existing_private_subnet_ids = var.existing_private_subnet_ids
}

module "secrets" {
  source = "../../modules/secrets"

  name = local.name
  runtime_environment = merge(
    {
      DATABASE_URL = local.database_url
      REDIS_URL    = local.redis_url
    },
    var.db_use_rds_proxy ? { PROXY_DATABASE_URL = local.proxy_database_url } : {},
  )
  # Production settings refuse the development EVENTS_SECRET, so every role carries it.
  runtime_roles = {
    api          = [var.db_use_rds_proxy ? "DATABASE_URL=PROXY_DATABASE_URL" : "DATABASE_URL", "REDIS_URL", "EVENTS_SECRET", "ADMIN_TOKEN"]
    worker       = ["DATABASE_URL", "REDIS_URL", "EVENTS_SECRET"]
    session_host = ["REDIS_URL", "EVENTS_SECRET"]
  }
}

module "artifacts" {
  source = "../../modules/artifacts"

  bucket_name      = var.artifact_bucket_name
  lambda_zip_path  = abspath("${path.root}/${var.lambda_zip_path}")
  app_tarball_path = abspath("${path.root}/${var.app_tarball_path}")
}

module "media" {
  source = "../../modules/media"

  bucket_name     = var.media_bucket_name
  expiration_days = 1
}

module "database" {
  source = "../../modules/database"

  name            = local.name
  vpc_id          = module.network.vpc_id
  subnet_ids      = module.network.private_subnet_ids
  master_password = module.secrets.values["DB_PASSWORD"]
  # The workers (and their migrations) connect directly; the Lambda through the proxy.
  client_security_group_ids = merge(
    { worker = module.worker.security_group_id },
    var.db_use_rds_proxy ? {} : { api = module.api.security_group_id },
  )
  use_rds_proxy                   = var.db_use_rds_proxy
  proxy_client_security_group_ids = { api = module.api.security_group_id }

  instance_class        = var.db_instance_class
  multi_az              = var.db_multi_az
  backup_retention_days = var.db_backup_retention_days
  deletion_protection   = var.db_deletion_protection
}

module "redis" {
  source = "../../modules/redis"

  name       = local.name
  vpc_id     = module.network.vpc_id
  subnet_ids = module.network.private_subnet_ids
  auth_token = module.secrets.values["REDIS_AUTH_TOKEN"]
  client_security_group_ids = {
    api           = module.api.security_group_id
    worker        = module.worker.security_group_id
    session_hosts = module.session_hosts.security_group_id
  }

  engine    = var.redis_engine
  node_type = var.redis_node_type
  replicas  = var.redis_replicas
}

module "api" {
  source = "../../modules/api"

  name                 = "${local.name}-api"
  artifact_bucket      = module.artifacts.bucket_name
  artifact_key         = module.artifacts.lambda_s3_key
  source_code_hash     = module.artifacts.lambda_source_code_hash
  environment          = local.common_environment
  runtime_secret_arn   = module.secrets.runtime_secret_arns["api"]
  database_connect_arn = module.database.proxy_connect_arn
  snap_start           = var.lambda_snap_start
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.private_subnet_ids
  media_bucket_arns    = [module.media.bucket_arn]

  timeout_seconds   = var.lambda_timeout_seconds
  qr_wait_seconds   = var.qr_wait_seconds
  send_wait_seconds = var.send_wait_seconds
}

module "worker" {
  source = "../../modules/worker"

  name               = "${local.name}-worker"
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  artifact_bucket    = module.artifacts.bucket_name
  artifact_key       = module.artifacts.app_s3_key
  runtime_secret_arn = module.secrets.runtime_secret_arns["worker"]
  environment        = local.common_environment
  media_bucket_arns  = [module.media.bucket_arn]

  worker_count              = var.worker_count
  max_worker_count          = var.max_worker_count
  backlog_per_worker_target = var.backlog_per_worker_target
  metrics_namespace         = local.metrics_namespace
  instance_type             = var.worker_instance_type
}

module "session_hosts" {
  source = "../../modules/session_hosts"

  name               = "${local.name}-session-host"
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  artifact_bucket    = module.artifacts.bucket_name
  artifact_key       = module.artifacts.app_s3_key
  runtime_secret_arn = module.secrets.runtime_secret_arns["session_host"]
  events_url         = module.api.events_url
  environment        = { LOG_LEVEL = var.log_level, MEDIA_BUCKET = module.media.bucket_name }
  media_bucket_arns  = [module.media.bucket_arn]

  host_count               = var.session_host_count
  max_host_count           = var.max_session_host_count
  sessions_per_host_target = var.sessions_per_host_target
  metrics_namespace        = local.metrics_namespace
  instance_type            = var.session_host_instance_type
  max_sessions             = var.max_sessions_per_host
}

module "observability" {
  source = "../../modules/observability"

  name                       = local.name
  alarm_email                = var.alarm_email
  metrics_namespace          = local.metrics_namespace
  lambda_function_name       = module.api.function_name
  api_id                     = module.api.api_id
  session_host_group_name    = module.session_hosts.autoscaling_group_name
  redis_replication_group_id = module.redis.replication_group_id
  redis_node_count           = var.redis_replicas + 1
}

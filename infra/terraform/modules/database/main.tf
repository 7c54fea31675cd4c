# RDS PostgreSQL for whatsapp_user (and api_keys, shared with another service): private,
# encrypted, TLS enforced, backed up, final snapshot on delete.

locals {
  port = 5432
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-db"
  description = "PostgreSQL of ${var.name}: reachable from the API and worker only."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-db" })
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = var.client_security_group_ids

  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL from ${each.key}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.name}-"
  family      = "postgres${split(".", var.engine_version)[0]}"
  description = "TLS-only PostgreSQL for ${var.name}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  lifecycle {
    create_before_destroy = true
  }

  tags = var.tags
}

data "aws_partition" "current" {}

resource "aws_iam_role" "monitoring" {
  count = var.monitoring_interval_seconds > 0 ? 1 : 0

  name = "${var.name}-rds-monitoring"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count = var.monitoring_interval_seconds > 0 ? 1 : 0

  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name  = var.database_name
  username = var.master_username
  password = var.master_password
  port     = local.port

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = false
  multi_az               = var.multi_az

  backup_retention_period   = var.backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"

  monitoring_interval                   = var.monitoring_interval_seconds
  monitoring_role_arn                   = var.monitoring_interval_seconds > 0 ? aws_iam_role.monitoring[0].arn : null
  auto_minor_version_upgrade            = true
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  iam_database_authentication_enabled   = true
  apply_immediately                     = false
  allow_major_version_upgrade           = false
  delete_automated_backups              = false
  performance_insights_retention_period = 7

  tags = var.tags
}

# RDS Proxy (use_rds_proxy): every cold Lambda would otherwise open its own connections.
# Clients log in with IAM tokens (iam_auth REQUIRED, DATABASE_IAM_AUTH=true in the app) over
# TLS only; the proxy itself logs in to the database with the credentials secret below.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_secretsmanager_secret" "proxy" {
  # checkov:skip=CKV2_AWS_57:the master password is rotated by replacing DB_PASSWORD in module secrets.
  count = var.use_rds_proxy ? 1 : 0

  name_prefix = "${var.name}-proxy-"
  description = "Credentials RDS Proxy uses to log in to ${var.name}."
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "proxy" {
  count = var.use_rds_proxy ? 1 : 0

  secret_id     = aws_secretsmanager_secret.proxy[0].id
  secret_string = jsonencode({ username = var.master_username, password = var.master_password })
}

resource "aws_iam_role" "proxy" {
  count = var.use_rds_proxy ? 1 : 0

  name = "${var.name}-rds-proxy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "proxy" {
  count = var.use_rds_proxy ? 1 : 0

  name = "read-credentials"
  role = aws_iam_role.proxy[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadCredentials"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = aws_secretsmanager_secret.proxy[0].arn
    }]
  })
}

resource "aws_security_group" "proxy" {
  count = var.use_rds_proxy ? 1 : 0

  name        = "${var.name}-db-proxy"
  description = "RDS Proxy of ${var.name}: from its clients, to the database only."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-db-proxy" })
}

resource "aws_vpc_security_group_ingress_rule" "proxy_clients" {
  for_each = var.use_rds_proxy ? var.proxy_client_security_group_ids : {}

  security_group_id            = aws_security_group.proxy[0].id
  description                  = "PostgreSQL through the proxy from ${each.key}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_vpc_security_group_egress_rule" "proxy_to_database" {
  count = var.use_rds_proxy ? 1 : 0

  security_group_id            = aws_security_group.proxy[0].id
  description                  = "The proxy to the database"
  referenced_security_group_id = aws_security_group.this.id
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_vpc_security_group_ingress_rule" "from_proxy" {
  count = var.use_rds_proxy ? 1 : 0

  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL from the RDS Proxy"
  referenced_security_group_id = aws_security_group.proxy[0].id
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

resource "aws_db_proxy" "this" {
  count = var.use_rds_proxy ? 1 : 0

  name                   = var.name
  engine_family          = "POSTGRESQL"
  require_tls            = true
  idle_client_timeout    = 1800
  role_arn               = aws_iam_role.proxy[0].arn
  vpc_subnet_ids         = var.subnet_ids
  vpc_security_group_ids = [aws_security_group.proxy[0].id]
  debug_logging          = false

  auth {
    auth_scheme = "SECRETS"
    iam_auth    = "REQUIRED"
    secret_arn  = aws_secretsmanager_secret.proxy[0].arn
    description = "Application user, IAM tokens only"
  }

  tags = var.tags
}

resource "aws_db_proxy_default_target_group" "this" {
  count = var.use_rds_proxy ? 1 : 0

  db_proxy_name = aws_db_proxy.this[0].name

  connection_pool_config {
    max_connections_percent      = 90
    max_idle_connections_percent = 50
    connection_borrow_timeout    = 10
  }
}

resource "aws_db_proxy_target" "this" {
  count = var.use_rds_proxy ? 1 : 0

  db_proxy_name          = aws_db_proxy.this[0].name
  target_group_name      = aws_db_proxy_default_target_group.this[0].name
  db_instance_identifier = aws_db_instance.this.identifier
}

locals {
  # rds-db:connect names the proxy by its resource id, the last part of its ARN (prx-…).
  proxy_connect_arn = var.use_rds_proxy ? format(
    "arn:%s:rds-db:%s:%s:dbuser:%s/%s",
    data.aws_partition.current.partition,
    data.aws_region.current.name,
    data.aws_caller_identity.current.account_id,
    element(split(":", aws_db_proxy.this[0].arn), 6),
    var.master_username,
  ) : null
}

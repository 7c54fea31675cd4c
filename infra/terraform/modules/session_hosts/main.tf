# Session hosts: one headless Debian Chromium per agent, driven by `python -m session_host`.
# WhatsApp auth profiles live on EFS (WA_AUTH_DIR) so a host that dies has its agents taken
# over by another host without a new QR scan.

locals {
  auth_mount = "/mnt/wagw-auth"
}

resource "aws_efs_file_system" "auth" {
  creation_token   = "${var.name}-auth"
  encrypted        = true
  kms_key_id       = var.efs_kms_key_arn
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"

  tags = merge(var.tags, { Name = "${var.name}-auth" })
}

resource "aws_efs_backup_policy" "auth" {
  file_system_id = aws_efs_file_system.auth.id

  backup_policy {
    status = "ENABLED"
  }
}

resource "aws_security_group" "efs" {
  name        = "${var.name}-efs"
  description = "Auth store of ${var.name}: NFS from the session hosts only."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-efs" })
}

resource "aws_vpc_security_group_ingress_rule" "nfs" {
  security_group_id            = aws_security_group.efs.id
  description                  = "NFS from the session hosts"
  referenced_security_group_id = module.host.security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
}

resource "aws_efs_mount_target" "auth" {
  count = length(var.subnet_ids)

  file_system_id  = aws_efs_file_system.auth.id
  subnet_id       = var.subnet_ids[count.index]
  security_groups = [aws_security_group.efs.id]
}

module "host" {
  source = "../app_host"

  name           = var.name
  service_name   = "wagw-session-host"
  command        = ["-m", "session_host"]
  extra_packages = ["chromium", "chromium-headless-shell", "chromium-driver", "fonts-liberation", "fonts-noto-color-emoji"]

  environment = merge(
    {
      APP_ENV      = "production"
      WA_AUTH_DIR  = local.auth_mount
      TEMP_DIR     = "/opt/wagw/tmp"
      EVENTS_URL   = var.events_url
      MAX_SESSIONS = tostring(var.max_sessions)
    },
    var.environment,
  )
  runtime_secret_arn = var.runtime_secret_arn
  artifact_bucket    = var.artifact_bucket
  artifact_key       = var.artifact_key

  vpc_id           = var.vpc_id
  subnet_ids       = var.subnet_ids
  instance_type    = var.instance_type
  ami_id           = var.ami_id
  root_volume_gb   = 30
  min_size         = var.host_count
  desired_capacity = var.host_count
  max_size         = max(coalesce(var.max_host_count, var.host_count + 1), var.host_count + 1)

  # Scale out on the average sessions per host; a host running sessions is protected from
  # scale-in (session_host/scaling.py), so scale-in removes empty hosts only.
  metrics_namespace   = var.metrics_namespace
  scale_in_protection = var.metrics_namespace != "" && var.scale_in_protection
  target_tracking = var.metrics_namespace == "" ? null : {
    metric_name     = "SessionsPerHost"
    statistic       = "Average"
    target_value    = coalesce(var.sessions_per_host_target, ceil(var.max_sessions * 0.7))
    group_dimension = true
  }

  # The mount target addresses exist only once the targets do; using them orders the boot after.
  efs_dns_name   = aws_efs_mount_target.auth[0].dns_name
  efs_mount_path = local.auth_mount

  drain_timeout_seconds = var.drain_timeout_seconds
  media_bucket_arns     = var.media_bucket_arns
  tags                  = var.tags
}

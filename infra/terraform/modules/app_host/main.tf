# One EC2 Auto Scaling group running one Python process of the gateway under systemd: the
# session hosts and the inbound worker share it. Boot installs Debian packages and the
# release tarball; secrets are fetched from Secrets Manager at each start and never written
# to disk; scale-in and refreshes wait on a lifecycle hook while the process drains.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

data "aws_ami" "debian" {
  count = var.ami_id == null ? 1 : 0

  most_recent = true
  owners      = ["136693071363"] # Debian cloud team

  filter {
    name   = "name"
    values = ["debian-12-${var.architecture}-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

locals {
  ami_id         = var.ami_id == null ? data.aws_ami.debian[0].id : var.ami_id
  lifecycle_hook = "${var.name}-drain"
  asg_arn        = "arn:${data.aws_partition.current.partition}:autoscaling:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name}"

  environment = merge(
    var.environment,
    var.metrics_namespace == "" ? {} : { CLOUDWATCH_NAMESPACE = var.metrics_namespace },
    var.scale_in_protection ? { SCALE_IN_PROTECTION = "true" } : {},
    var.metrics_namespace != "" || var.scale_in_protection ? { AUTOSCALING_GROUP_NAME = var.name } : {},
  )

  user_data = templatefile("${path.module}/templates/user_data.sh.tftpl", {
    region             = data.aws_region.current.name
    service_name       = var.service_name
    command            = join(" ", var.command)
    pre_start_command  = join(" ", var.pre_start_command)
    packages           = join(" ", concat(["python3", "python3-venv", "python3-boto3", "curl", "ca-certificates", "nfs-common"], var.extra_packages))
    environment_json   = jsonencode(local.environment)
    runtime_secret_arn = var.runtime_secret_arn
    artifact_bucket    = var.artifact_bucket
    artifact_key       = var.artifact_key
    efs_dns_name       = var.efs_dns_name == null ? "" : var.efs_dns_name
    efs_mount_path     = var.efs_mount_path
    drain_timeout      = var.drain_timeout_seconds
    asg_name           = var.name
    lifecycle_hook     = local.lifecycle_hook
    install_ssm_agent  = var.install_ssm_agent
    log_group          = var.ship_logs ? "/wagw/${var.name}" : ""
  })
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158:AWS-owned key encryption is the default; a CMK is optional hardening.
  # checkov:skip=CKV_AWS_338:retention is the log_retention_days variable (30 days by default).
  count = var.ship_logs ? 1 : 0

  name              = "/wagw/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_security_group" "this" {
  name        = var.name
  description = "${var.service_name} hosts: no inbound, outbound to Redis, the API and the internet."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.name })
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.this.id
  description       = "Redis, PostgreSQL, EFS, API Gateway, WhatsApp Web, package mirrors"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_iam_role" "this" {
  name = var.name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy" "this" {
  name = "runtime"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ReadRelease"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = "arn:${data.aws_partition.current.partition}:s3:::${var.artifact_bucket}/${var.artifact_key}"
        },
        {
          Sid      = "ReadRuntimeSecret"
          Effect   = "Allow"
          Action   = ["secretsmanager:GetSecretValue"]
          Resource = var.runtime_secret_arn
        },
        {
          Sid      = "FinishDrain"
          Effect   = "Allow"
          Action   = ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"]
          Resource = local.asg_arn
        },
      ],
      var.ship_logs ? [{
        Sid      = "ShipLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        Resource = "${aws_cloudwatch_log_group.this[0].arn}:*"
      }] : [],
      var.metrics_namespace == "" ? [] : [{
        Sid       = "PublishMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = "*" # PutMetricData has no resource type; the condition scopes it
        Condition = { StringEquals = { "cloudwatch:namespace" = var.metrics_namespace } }
      }],
      var.scale_in_protection ? [{
        Sid      = "ProtectSelf"
        Effect   = "Allow"
        Action   = ["autoscaling:SetInstanceProtection"]
        Resource = local.asg_arn
      }] : [],
      length(var.media_bucket_arns) == 0 ? [] : [{
        Sid      = "Media"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = [for arn in var.media_bucket_arns : "${arn}/*"]
      }],
    )
  })
}

resource "aws_iam_instance_profile" "this" {
  name = var.name
  role = aws_iam_role.this.name
  tags = var.tags
}

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-"
  image_id               = local.ami_id
  instance_type          = var.instance_type
  user_data              = base64gzip(local.user_data)
  vpc_security_group_ids = [aws_security_group.this.id]
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  # IMDSv2 only; one hop keeps containers (none today) away from the instance role.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = var.name })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = var.name })
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "this" {
  name                      = var.name
  vpc_zone_identifier       = var.subnet_ids
  min_size                  = var.min_size
  max_size                  = var.max_size
  desired_capacity          = var.desired_capacity
  health_check_type         = "EC2"
  health_check_grace_period = 600
  default_instance_warmup   = 300
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]
  # GroupInServiceInstances feeds the silent-host alarm; group metrics cost nothing.
  enabled_metrics = ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupTotalInstances"]

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # Hook present from the first launch: every termination waits for the drain below.
  initial_lifecycle_hook {
    name                 = local.lifecycle_hook
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    default_result       = "CONTINUE"
    heartbeat_timeout    = var.drain_timeout_seconds + 60
  }

  # New release or AMI: replace instances one by one; each drains through the hook.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 50
      instance_warmup        = 300
      # Hosts protect themselves while they run sessions; a release still replaces them (draining first).
      scale_in_protected_instances = "Refresh"
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = var.name })

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Scaling policies move the desired capacity; a plan must not put it back.
    ignore_changes = [desired_capacity]

    precondition {
      condition     = var.min_size <= var.desired_capacity && var.desired_capacity <= var.max_size
      error_message = "Need min_size <= desired_capacity <= max_size."
    }
  }
}

resource "aws_autoscaling_policy" "target_tracking" {
  count = var.target_tracking == null ? 0 : 1

  name                   = "${var.name}-${lower(var.target_tracking.metric_name)}"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.target_tracking.target_value

    customized_metric_specification {
      namespace   = var.metrics_namespace
      metric_name = var.target_tracking.metric_name
      statistic   = var.target_tracking.statistic

      dynamic "metric_dimension" {
        for_each = var.target_tracking.group_dimension ? [var.name] : []

        content {
          name  = "AutoScalingGroupName"
          value = metric_dimension.value
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.metrics_namespace != ""
      error_message = "target_tracking reads a metric the process publishes: set metrics_namespace."
    }
  }
}

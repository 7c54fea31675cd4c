# `terraform test` with a mocked AWS provider: hardened instances, least-privilege role, drain hook.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "ap-southeast-3"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_ami" {
    defaults = {
      id = "ami-0123456789abcdef0"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock"
    }
  }

  mock_resource "aws_iam_instance_profile" {
    defaults = {
      arn = "arn:aws:iam::123456789012:instance-profile/mock"
    }
  }

  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0123456789abcdef0"
      latest_version = 1
    }
  }
}

variables {
  name               = "wagw-test-session-host"
  service_name       = "wagw-session-host"
  command            = ["-m", "session_host"]
  extra_packages     = ["chromium", "chromium-driver"]
  environment        = { WA_AUTH_DIR = "/mnt/wagw-auth" }
  runtime_secret_arn = "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:wagw/session_host/environment"
  artifact_bucket    = "artifacts"
  artifact_key       = "app/app-abc.tar.gz"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  efs_dns_name       = "fs-0123.efs.ap-southeast-3.amazonaws.com"
  min_size           = 2
  desired_capacity   = 2
  max_size           = 3
}

run "hosts_are_hardened_and_drain_on_termination" {
  command = apply

  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.block_device_mappings[0].ebs[0].encrypted == "true"
    error_message = "IMDSv2 only and an encrypted root volume"
  }

  assert {
    condition     = aws_launch_template.this.image_id == "ami-0123456789abcdef0"
    error_message = "the Debian AMI lookup must be used when ami_id is null"
  }

  assert {
    condition = anytrue([
      for hook in aws_autoscaling_group.this.initial_lifecycle_hook :
      hook.lifecycle_transition == "autoscaling:EC2_INSTANCE_TERMINATING" && hook.heartbeat_timeout == 180
    ])
    error_message = "termination must wait for the drain (drain timeout + 60 s)"
  }

  assert {
    condition = (
      one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadRuntimeSecret"]) == var.runtime_secret_arn &&
      one([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadRelease"]) == "arn:aws:s3:::artifacts/app/app-abc.tar.gz"
    )
    error_message = "the role may read only its own secret and release"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].name == "/wagw/wagw-test-session-host" && contains([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid], "ShipLogs")
    error_message = "service logs must be shipped to the host group's log group"
  }

  assert {
    condition     = aws_autoscaling_group.this.desired_capacity == 2 && aws_autoscaling_group.this.launch_template[0].version == "1"
    error_message = "two hosts on the newest launch template version"
  }
}

run "inconsistent_sizes_are_refused" {
  command = plan

  variables {
    min_size         = 3
    desired_capacity = 2
    max_size         = 3
  }

  expect_failures = [aws_autoscaling_group.this]
}

run "a_fixed_group_has_no_policy_and_publishes_nothing" {
  command = plan

  assert {
    condition     = length(aws_autoscaling_policy.target_tracking) == 0 && !strcontains(jsonencode(aws_iam_role_policy.this.policy), "PutMetricData")
    error_message = "Without metrics_namespace there is neither a scaling policy nor a metrics permission."
  }

  assert {
    condition     = contains(aws_autoscaling_group.this.enabled_metrics, "GroupInServiceInstances")
    error_message = "GroupInServiceInstances is enabled for the silent-host alarm."
  }
}

run "hosts_scale_on_their_sessions_and_protect_themselves" {
  command = apply

  variables {
    metrics_namespace   = "WAGW/test"
    scale_in_protection = true
    target_tracking     = { metric_name = "SessionsPerHost", statistic = "Average", target_value = 14, group_dimension = true }
  }

  assert {
    condition = (
      aws_autoscaling_policy.target_tracking[0].policy_type == "TargetTrackingScaling" &&
      aws_autoscaling_policy.target_tracking[0].target_tracking_configuration[0].target_value == 14 &&
      aws_autoscaling_policy.target_tracking[0].target_tracking_configuration[0].customized_metric_specification[0].metric_name == "SessionsPerHost" &&
      aws_autoscaling_policy.target_tracking[0].target_tracking_configuration[0].customized_metric_specification[0].namespace == "WAGW/test" &&
      aws_autoscaling_policy.target_tracking[0].target_tracking_configuration[0].customized_metric_specification[0].statistic == "Average"
    )
    error_message = "Target tracking on the average SessionsPerHost in the gateway namespace."
  }

  assert {
    condition     = one(aws_autoscaling_policy.target_tracking[0].target_tracking_configuration[0].customized_metric_specification[0].metric_dimension).value == "wagw-test-session-host"
    error_message = "The metric is read for this group (the dimension the hosts publish)."
  }

  assert {
    condition = (
      strcontains(local.user_data, "\"SCALE_IN_PROTECTION\":\"true\"") &&
      strcontains(local.user_data, "\"AUTOSCALING_GROUP_NAME\":\"wagw-test-session-host\"") &&
      strcontains(local.user_data, "\"CLOUDWATCH_NAMESPACE\":\"WAGW/test\"")
    )
    error_message = "The process is told its namespace, group and to protect itself."
  }

  assert {
    condition = (
      strcontains(aws_iam_role_policy.this.policy, "autoscaling:SetInstanceProtection") &&
      strcontains(aws_iam_role_policy.this.policy, "cloudwatch:PutMetricData") &&
      strcontains(aws_iam_role_policy.this.policy, "\"cloudwatch:namespace\":\"WAGW/test\"")
    )
    error_message = "The role may protect its own group's instances and publish into its namespace only."
  }

  assert {
    condition     = aws_autoscaling_group.this.instance_refresh[0].preferences[0].scale_in_protected_instances == "Refresh"
    error_message = "A release still replaces protected hosts (each drains through the hook)."
  }
}

run "scaling_without_a_namespace_is_refused" {
  command = plan

  variables {
    target_tracking = { metric_name = "SessionsPerHost", statistic = "Average", target_value = 14, group_dimension = true }
  }

  expect_failures = [aws_autoscaling_policy.target_tracking]
}

# `terraform test`: the whole production env applied against a mocked AWS provider (no
# account, no network). It exercises every expression, precondition and module wiring.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["ap-southeast-3a", "ap-southeast-3b", "ap-southeast-3c"]
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

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  # The provider checks that these are ARNs and URLs, so the mock must produce real-looking ones.
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:ap-southeast-3:123456789012:log-group:mock"
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

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::mock-bucket"
    }
  }

  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:mock"
    }
  }

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      api_endpoint  = "https://mock.execute-api.ap-southeast-3.amazonaws.com"
      execution_arn = "arn:aws:execute-api:ap-southeast-3:123456789012:mock"
    }
  }

  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0123456789abcdef0"
      latest_version = 1
    }
  }

  mock_resource "aws_lambda_alias" {
    defaults = {
      arn        = "arn:aws:lambda:ap-southeast-3:123456789012:function:mock:live"
      invoke_arn = "arn:aws:apigateway:ap-southeast-3:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-southeast-3:123456789012:function:mock:live/invocations"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:ap-southeast-3:123456789012:function:mock"
      invoke_arn = "arn:aws:apigateway:ap-southeast-3:lambda:path/2015-03-31/functions/arn:aws:lambda:ap-southeast-3:123456789012:function:mock/invocations"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:ap-southeast-3:123456789012:wagw-production-alarms"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:ap-southeast-3:123456789012:key/mock"
    }
  }

  mock_resource "aws_db_proxy_default_target_group" {
    defaults = {
      name = "default" # what AWS names every proxy's default group
    }
  }

  mock_resource "aws_db_proxy" {
    defaults = {
      arn      = "arn:aws:rds:ap-southeast-3:123456789012:db-proxy:prx-0123456789abcdef0"
      endpoint = "wagw-production.proxy-abc.ap-southeast-3.rds.amazonaws.com"
    }
  }

  mock_resource "aws_autoscaling_policy" {
    defaults = {
      arn = "arn:aws:autoscaling:ap-southeast-3:123456789012:scalingPolicy:mock"
    }
  }

  mock_data "aws_secretsmanager_random_password" {
    defaults = {
      random_password = "MockedGeneratedSecretValue0123456789abcdefABCDEF"
    }
  }
}

variables {
  region               = "ap-southeast-3"
  artifact_bucket_name = "example-wagw-artifacts"
  media_bucket_name    = "example-wagw-media"
  ai_backend_url       = "https://ai.example.com"
  developer_jid        = "6281234567890@c.us"
  lambda_zip_path      = "tests/fixtures/lambda.zip"
  app_tarball_path     = "tests/fixtures/app.tar.gz"
}

run "production_applies" {
  command = apply

  assert {
    condition     = output.events_url == "https://mock.execute-api.ap-southeast-3.amazonaws.com"
    error_message = "session hosts must post events to the API's base URL"
  }

  assert {
    condition     = startswith(output.admin_token_secret_arn, "arn:aws:secretsmanager:")
    error_message = "the ADMIN_TOKEN secret must be an output"
  }

  assert {
    condition     = length(module.observability.alarm_names) == 9 && startswith(module.observability.topic_arn, "arn:")
    error_message = "Production has every alarm (two Redis nodes with the default replica) on one topic."
  }

  assert {
    condition     = module.session_hosts.scaling_policy_arn != null && module.worker.scaling_policy_arn != null
    error_message = "Production scales its session hosts and its workers."
  }

  assert {
    condition     = module.database.proxy_endpoint != null && startswith(module.database.proxy_connect_arn, "arn:aws:rds-db:ap-southeast-3:123456789012:dbuser:")
    error_message = "Production puts RDS Proxy in front of PostgreSQL and lets the API connect through it with IAM."
  }

  assert {
    condition     = endswith(module.api.invoke_arn, ":live/invocations")
    error_message = "Production runs the API with SnapStart, through the alias of its published version."
  }
}


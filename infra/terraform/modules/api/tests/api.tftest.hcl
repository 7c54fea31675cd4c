# `terraform test` with a mocked AWS provider: what the API module configures, and what it refuses.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

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

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      api_endpoint  = "https://mock.execute-api.ap-southeast-3.amazonaws.com"
      execution_arn = "arn:aws:execute-api:ap-southeast-3:123456789012:mock"
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
}

variables {
  name               = "wagw-test-api"
  artifact_bucket    = "artifacts"
  artifact_key       = "lambda/api-abc.zip"
  source_code_hash   = "abc="
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  environment        = { AI_BACKEND_URL = "https://ai.example.com" }
  runtime_secret_arn = "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:wagw/api/environment"
  media_bucket_arns  = ["arn:aws:s3:::media"]
}

run "lambda_answers_before_api_gateway_gives_up" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.timeout == 28 && aws_apigatewayv2_integration.lambda.timeout_milliseconds <= 30000
    error_message = "the function must stop before API Gateway does"
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["QR_WAIT_SECONDS"] == "20" &&
      aws_lambda_function.this.environment[0].variables["SEND_WAIT_SECONDS"] == "15" &&
      aws_lambda_function.this.environment[0].variables["AI_TIMEOUT_SECONDS"] == "24" &&
      aws_lambda_function.this.environment[0].variables["APP_ENV"] == "production"
    )
    error_message = "the waits must be shortened for API Gateway and the app must run in production mode"
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["SECRETS_ARN"] == "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:wagw/api/environment" &&
      length(setintersection(keys(aws_lambda_function.this.environment[0].variables), ["EVENTS_SECRET", "ADMIN_TOKEN", "DATABASE_URL", "REDIS_URL", "WEBHOOK_SECRET"])) == 0
    )
    error_message = "the function reads its secrets from Secrets Manager at run time; none may be in its environment"
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.runtime_secret.policy).Statement[0].Resource == "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:wagw/api/environment"
    error_message = "the function may read exactly its runtime secret"
  }

  assert {
    condition     = aws_lambda_function.this.handler == "functions.lambda_handler.handler" && aws_apigatewayv2_integration.lambda.payload_format_version == "2.0"
    error_message = "the apig-wsgi handler must receive HTTP API v2 events"
  }

  assert {
    condition     = length(aws_iam_role_policy.media) == 1 && output.events_url == "https://mock.execute-api.ap-southeast-3.amazonaws.com"
    error_message = "media access and the events base URL must be wired"
  }
}

run "waits_too_close_to_the_timeout_are_refused" {
  command = plan

  variables {
    timeout_seconds = 20
    qr_wait_seconds = 19
  }

  expect_failures = [aws_lambda_function.this]
}

run "timeouts_beyond_api_gateway_are_refused" {
  command = plan

  variables {
    timeout_seconds = 60
  }

  expect_failures = [var.timeout_seconds]
}

run "through_rds_proxy_the_function_logs_in_with_iam_tokens" {
  command = apply

  variables {
    database_connect_arn = "arn:aws:rds-db:ap-southeast-3:123456789012:dbuser:prx-0123456789abcdef0/wagw"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["DATABASE_IAM_AUTH"] == "true"
    error_message = "the function signs its database logins"
  }

  assert {
    condition = (
      jsondecode(aws_iam_role_policy.database_connect[0].policy).Statement[0].Action == ["rds-db:connect"] &&
      jsondecode(aws_iam_role_policy.database_connect[0].policy).Statement[0].Resource == "arn:aws:rds-db:ap-southeast-3:123456789012:dbuser:prx-0123456789abcdef0/wagw"
    )
    error_message = "the function may connect as the application user through this proxy only"
  }
}

run "without_a_proxy_there_is_no_iam_login" {
  command = plan

  assert {
    condition     = length(aws_iam_role_policy.database_connect) == 0 && !contains(keys(aws_lambda_function.this.environment[0].variables), "DATABASE_IAM_AUTH")
    error_message = "no proxy, no IAM database login"
  }
}

run "snap_start_publishes_versions_and_the_api_invokes_the_alias" {
  command = apply

  variables {
    snap_start = true
  }

  assert {
    condition     = aws_lambda_function.this.publish && one(aws_lambda_function.this.snap_start).apply_on == "PublishedVersions"
    error_message = "SnapStart needs published versions"
  }

  assert {
    condition     = aws_lambda_alias.live[0].function_version == aws_lambda_function.this.version && aws_apigatewayv2_integration.lambda.integration_uri == aws_lambda_alias.live[0].invoke_arn
    error_message = "the API invokes the alias of the newest version (SnapStart does not apply to $LATEST)"
  }

  assert {
    condition     = aws_lambda_permission.api_gateway.qualifier == "live"
    error_message = "API Gateway may invoke the alias"
  }
}

run "without_snap_start_the_api_invokes_the_function" {
  command = plan

  assert {
    condition     = length(aws_lambda_alias.live) == 0 && !aws_lambda_function.this.publish
    error_message = "no SnapStart, no versions or alias"
  }
}

# The stateless half: the Flask app on Lambda (apig-wsgi) behind an HTTP API (payload v2),
# inside the VPC to reach RDS and ElastiCache, out through the NAT for the AI backend.

data "aws_partition" "current" {}

locals {
  # Lambda cold starts write nowhere but /tmp.
  environment = merge(
    {
      APP_ENV           = "production"
      TEMP_DIR          = "/tmp/wagw"
      DB_POOL_SIZE      = "2"
      QR_WAIT_SECONDS   = tostring(var.qr_wait_seconds)
      SEND_WAIT_SECONDS = tostring(var.send_wait_seconds)
      # Stopping a session has the same budget as a send: both must answer before the timeout.
      STOP_WAIT_SECONDS  = tostring(var.send_wait_seconds)
      AI_TIMEOUT_SECONDS = tostring(var.ai_timeout_seconds)
      # Secrets are read from here at cold start (and again after SECRETS_TTL_SECONDS), never
      # put in the environment: a rotation needs no redeploy.
      SECRETS_ARN         = var.runtime_secret_arn
      SECRETS_TTL_SECONDS = tostring(var.secrets_ttl_seconds)
    },
    # Through RDS Proxy: each new connection logs in with an IAM token, no password anywhere.
    var.database_connect_arn == null ? {} : { DATABASE_IAM_AUTH = "true" },
    var.environment,
  )
}

resource "aws_iam_role_policy" "runtime_secret" {
  name = "runtime-secret"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadRuntimeSecret"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = var.runtime_secret_arn
    }]
  })
}

resource "aws_cloudwatch_log_group" "function" {
  # checkov:skip=CKV_AWS_158:AWS-owned key encryption is the default; a CMK is optional hardening.
  # checkov:skip=CKV_AWS_338:retention is the log_retention_days variable (30 days by default).
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_iam_role" "this" {
  name = "${var.name}-lambda"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

# ENI management in the VPC plus writing its own logs.
resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy" "database_connect" {
  count = var.database_connect_arn == null ? 0 : 1

  name = "database-iam-auth"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ConnectThroughProxy"
      Effect   = "Allow"
      Action   = ["rds-db:connect"]
      Resource = var.database_connect_arn
    }]
  })
}

resource "aws_iam_role_policy" "media" {
  count = length(var.media_bucket_arns) > 0 ? 1 : 0

  name = "media-bucket"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      Resource = [for arn in var.media_bucket_arns : "${arn}/*"]
    }]
  })
}

resource "aws_security_group" "this" {
  name        = "${var.name}-lambda"
  description = "API Lambda of ${var.name}: no inbound, outbound to Redis, RDS and the internet."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-lambda" })
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.this.id
  description       = "Redis, PostgreSQL, AI backend and media URLs"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116:invoked synchronously by API Gateway; a dead-letter queue only serves async invokes.
  # checkov:skip=CKV_AWS_272:code signing needs an AWS Signer profile in the release pipeline; not set up yet.
  function_name    = var.name
  description      = "WhatsApp Agent Gateway HTTP API"
  role             = aws_iam_role.this.arn
  runtime          = var.runtime
  architectures    = [var.architecture]
  handler          = var.handler
  s3_bucket        = var.artifact_bucket
  s3_key           = var.artifact_key
  source_code_hash = var.source_code_hash
  memory_size      = var.memory_mb
  timeout          = var.timeout_seconds
  kms_key_arn      = var.kms_key_arn

  reserved_concurrent_executions = var.reserved_concurrency

  # SnapStart runs the cold start (imports, app) once per published version and resumes new
  # containers from its snapshot (functions/snapstart.py re-reads secrets, reopens connections).
  publish = var.snap_start

  dynamic "snap_start" {
    for_each = var.snap_start ? [1] : []

    content {
      apply_on = "PublishedVersions"
    }
  }

  environment {
    variables = local.environment
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  tracing_config {
    mode = "Active"
  }

  lifecycle {
    precondition {
      condition     = var.qr_wait_seconds + 3 <= var.timeout_seconds && var.send_wait_seconds + 3 <= var.timeout_seconds && var.ai_timeout_seconds + 2 <= var.timeout_seconds
      error_message = "qr_wait_seconds and send_wait_seconds must be at least 3 s, and ai_timeout_seconds 2 s, below timeout_seconds, so the function answers before it is killed."
    }
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy_attachment.vpc_access]
}

resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_cloudwatch_log_group" "access" {
  # checkov:skip=CKV_AWS_158:AWS-owned key encryption is the default; a CMK is optional hardening.
  # checkov:skip=CKV_AWS_338:retention is the log_retention_days variable (30 days by default).
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "WhatsApp Agent Gateway"
  tags          = var.tags
}

# SnapStart applies to published versions only: the API calls the alias of the latest one.
resource "aws_lambda_alias" "live" {
  count = var.snap_start ? 1 : 0

  name             = "live"
  description      = "The published version API Gateway invokes (SnapStart)."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

locals {
  invoke_arn = var.snap_start ? aws_lambda_alias.live[0].invoke_arn : aws_lambda_function.this.invoke_arn
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = local.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 29000
}

# Flask does the routing (and answers 404/405 in the standard error envelope).
resource "aws_apigatewayv2_route" "default" {
  # checkov:skip=CKV_AWS_309:the app authenticates (ADMIN_TOKEN on /sessions, agent Bearer keys, HMAC on /internal/events); /health must stay open.
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      method         = "$context.httpMethod"
      path           = "$context.path"
      status         = "$context.status"
      latencyMs      = "$context.responseLatency"
      integrationErr = "$context.integrationErrorMessage"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  qualifier     = var.snap_start ? aws_lambda_alias.live[0].name : null
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

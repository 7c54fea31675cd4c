# Release artifacts: the Lambda zip (often above the 50 MB direct-upload limit, so it goes
# through S3) and the tarball EC2 hosts install at boot. Keys carry the content hash, so a new
# build is a new key and hosts roll only when the code changed.

locals {
  lambda_hash = filesha256(var.lambda_zip_path)
  app_hash    = filesha256(var.app_tarball_path)
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18:server access logs would outlive the objects; CloudTrail data events are the audit option.
  # checkov:skip=CKV2_AWS_62:nothing consumes bucket events.
  # checkov:skip=CKV_AWS_145:SSE-S3 suffices for build artifacts that hold no secrets.
  # checkov:skip=CKV_AWS_144:cross-region replication is not needed for rebuildable or 1-day objects.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

# Old builds are only needed for a rollback; keep them a month.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-old-builds"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_object" "lambda" {
  bucket      = aws_s3_bucket.this.id
  key         = "lambda/api-${local.lambda_hash}.zip"
  source      = var.lambda_zip_path
  source_hash = local.lambda_hash
}

resource "aws_s3_object" "app" {
  bucket      = aws_s3_bucket.this.id
  key         = "app/app-${local.app_hash}.tar.gz"
  source      = var.app_tarball_path
  source_hash = local.app_hash
}

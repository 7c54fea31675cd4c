# `terraform test` with a mocked AWS provider: previews are private, encrypted and gone after a day.

mock_provider "aws" {
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::mock-media"
    }
  }
}

variables {
  bucket_name = "example-wagw-media"
}

run "previews_expire_after_one_day" {
  command = apply

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[0].expiration[0].days == 1 && aws_s3_bucket_lifecycle_configuration.this.rule[0].status == "Enabled"
    error_message = "every object must expire after one day"
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "public access must be blocked"
  }

  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : one(r.apply_server_side_encryption_by_default).sse_algorithm]) == "AES256"
    error_message = "objects must be encrypted"
  }
}

run "previews_cannot_be_kept_for_weeks" {
  command = plan

  variables {
    expiration_days = 30
  }

  expect_failures = [var.expiration_days]
}

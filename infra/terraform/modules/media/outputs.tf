output "bucket_name" {
  description = "Name of the media bucket, for MEDIA_BUCKET."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the media bucket, for IAM policies."
  value       = aws_s3_bucket.this.arn
}

output "bucket_name" {
  description = "Name of the artifact bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the artifact bucket."
  value       = aws_s3_bucket.this.arn
}

output "lambda_s3_key" {
  description = "Key of the uploaded Lambda zip."
  value       = aws_s3_object.lambda.key
}

output "lambda_source_code_hash" {
  description = "Base64 SHA-256 of the Lambda zip, as Lambda's source_code_hash expects."
  value       = filebase64sha256(var.lambda_zip_path)
}

output "app_s3_key" {
  description = "Key of the uploaded application tarball."
  value       = aws_s3_object.app.key
}

# `terraform test` with a mocked AWS provider: Redis is encrypted, authenticated and fails over.

mock_provider "aws" {}

variables {
  name       = "wagw-test"
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  auth_token = "MockedGeneratedSecretValue0123"
  client_security_group_ids = {
    api           = "sg-0123456789abcdef0"
    session_hosts = "sg-0123456789abcdef1"
  }
}

run "redis_is_encrypted_and_authenticated" {
  command = apply

  assert {
    condition     = aws_elasticache_replication_group.this.transit_encryption_enabled && aws_elasticache_replication_group.this.at_rest_encryption_enabled
    error_message = "Redis must be encrypted in transit and at rest"
  }

  assert {
    condition     = aws_elasticache_replication_group.this.automatic_failover_enabled && aws_elasticache_replication_group.this.num_cache_clusters == 2
    error_message = "one replica by default, with automatic failover"
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.clients) == 2
    error_message = "each client security group gets one rule"
  }
}

run "short_auth_tokens_are_refused" {
  command = plan

  variables {
    auth_token = "short"
  }

  expect_failures = [var.auth_token]
}

run "memorydb_is_refused_with_the_reason" {
  command = plan

  variables {
    engine = "memorydb"
  }

  expect_failures = [var.engine]
}

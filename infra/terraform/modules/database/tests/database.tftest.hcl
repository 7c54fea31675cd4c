# `terraform test` with a mocked AWS provider: PostgreSQL is private, encrypted, TLS-only, backed up.

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

  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:wagw-test-proxy-abc"
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
      endpoint = "wagw-test.proxy-abc.ap-southeast-3.rds.amazonaws.com"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mock"
    }
  }
}

variables {
  name                      = "wagw-test"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  master_password           = "MockedGeneratedSecretValue0123"
  client_security_group_ids = { api = "sg-0123456789abcdef0" }
}

run "database_is_private_encrypted_and_backed_up" {
  command = apply

  assert {
    condition     = !aws_db_instance.this.publicly_accessible && aws_db_instance.this.storage_encrypted
    error_message = "the database must be private and encrypted"
  }

  assert {
    condition     = aws_db_instance.this.backup_retention_period == 14 && !aws_db_instance.this.skip_final_snapshot && aws_db_instance.this.deletion_protection
    error_message = "the database must be backed up and protected from deletion"
  }

  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"]) == "1" && aws_db_parameter_group.this.family == "postgres16"
    error_message = "connections must use TLS"
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.clients["api"].referenced_security_group_id == "sg-0123456789abcdef0" && aws_vpc_security_group_ingress_rule.clients["api"].from_port == 5432
    error_message = "only the client security groups may connect"
  }
}

run "backups_cannot_be_disabled" {
  command = plan

  variables {
    backup_retention_days = 0
  }

  expect_failures = [var.backup_retention_days]
}

run "no_proxy_unless_asked" {
  command = plan

  assert {
    condition     = length(aws_db_proxy.this) == 0 && length(aws_secretsmanager_secret.proxy) == 0
    error_message = "use_rds_proxy defaults to off in the module"
  }
}

run "the_proxy_requires_iam_auth_and_tls_and_reaches_only_the_database" {
  command = apply

  variables {
    use_rds_proxy                   = true
    client_security_group_ids       = { worker = "sg-0123456789abcdef1" }
    proxy_client_security_group_ids = { api = "sg-0123456789abcdef0" }
  }

  assert {
    condition     = aws_db_proxy.this[0].require_tls && aws_db_proxy.this[0].engine_family == "POSTGRESQL"
    error_message = "the proxy speaks PostgreSQL over TLS only"
  }

  assert {
    condition     = one(aws_db_proxy.this[0].auth).iam_auth == "REQUIRED" && one(aws_db_proxy.this[0].auth).secret_arn == aws_secretsmanager_secret.proxy[0].arn
    error_message = "clients must log in with IAM tokens; the proxy logs in with its credentials secret"
  }

  assert {
    condition     = aws_db_proxy_target.this[0].db_instance_identifier == aws_db_instance.this.identifier
    error_message = "the proxy targets this database"
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.proxy_clients["api"].referenced_security_group_id == "sg-0123456789abcdef0" && aws_vpc_security_group_ingress_rule.from_proxy[0].referenced_security_group_id == aws_security_group.proxy[0].id
    error_message = "the API reaches the proxy, the proxy reaches the database"
  }

  assert {
    condition     = output.proxy_connect_arn == "arn:aws:rds-db:ap-southeast-3:123456789012:dbuser:prx-0123456789abcdef0/wagw" && output.proxy_endpoint == "wagw-test.proxy-abc.ap-southeast-3.rds.amazonaws.com"
    error_message = "clients get the proxy endpoint and the rds-db:connect resource of the application user"
  }

  assert {
    condition     = strcontains(aws_iam_role_policy.proxy[0].policy, aws_secretsmanager_secret.proxy[0].arn) && !strcontains(aws_iam_role_policy.proxy[0].policy, "\"*\"")
    error_message = "the proxy role reads its own secret only"
  }
}

# `terraform test` with a mocked AWS provider: PostgreSQL is private, encrypted, TLS-only, backed up.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
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

# `terraform test` with a mocked AWS provider: each role's runtime secret holds only its names.

mock_provider "aws" {
  mock_data "aws_secretsmanager_random_password" {
    defaults = {
      random_password = "MockedGeneratedSecretValue0123456789abcdefABCDEF"
    }
  }
}

variables {
  name                = "wagw-test"
  runtime_environment = { DATABASE_URL = "postgresql://u:p@db:5432/wagw?sslmode=require", REDIS_URL = "rediss://:t@redis:6379/0" }
  runtime_roles = {
    worker       = ["DATABASE_URL", "REDIS_URL", "EVENTS_SECRET"]
    session_host = ["REDIS_URL", "EVENTS_SECRET"]
  }
}

run "roles_get_only_their_secrets" {
  command = apply

  assert {
    condition     = jsondecode(aws_secretsmanager_secret_version.runtime["session_host"].secret_string) == { EVENTS_SECRET = "MockedGeneratedSecretValue0123456789abcdefABCDEF", REDIS_URL = "rediss://:t@redis:6379/0" }
    error_message = "the session host secret must hold exactly EVENTS_SECRET and REDIS_URL"
  }

  assert {
    condition     = keys(jsondecode(aws_secretsmanager_secret_version.runtime["worker"].secret_string)) == ["DATABASE_URL", "EVENTS_SECRET", "REDIS_URL"]
    error_message = "the worker secret must hold exactly its three names"
  }

  assert {
    condition     = !contains(keys(nonsensitive(output.runtime_environment)), "DB_PASSWORD") && contains(keys(nonsensitive(output.runtime_environment)), "ADMIN_TOKEN")
    error_message = "raw credentials stay out of the runtime environment; ADMIN_TOKEN belongs in it"
  }

  assert {
    condition     = aws_secretsmanager_secret.runtime["session_host"].name == "wagw-test/session_host/environment"
    error_message = "runtime secrets are named per role"
  }
}

run "unknown_names_are_refused" {
  command = plan

  variables {
    runtime_roles = { worker = ["NOT_A_SECRET"] }
  }

  expect_failures = [aws_secretsmanager_secret_version.runtime]
}

run "a_role_may_take_a_value_under_another_name" {
  command = apply

  variables {
    runtime_environment = { DATABASE_URL = "postgresql://u:p@db:5432/wagw", PROXY_DATABASE_URL = "postgresql://u@proxy:5432/wagw" }
    runtime_roles       = { api = ["DATABASE_URL=PROXY_DATABASE_URL"], worker = ["DATABASE_URL"] }
  }

  assert {
    condition     = jsondecode(aws_secretsmanager_secret_version.runtime["api"].secret_string) == { DATABASE_URL = "postgresql://u@proxy:5432/wagw" }
    error_message = "NAME=SOURCE stores SOURCE's value as NAME"
  }

  assert {
    condition     = jsondecode(aws_secretsmanager_secret_version.runtime["worker"].secret_string) == { DATABASE_URL = "postgresql://u:p@db:5432/wagw" }
    error_message = "a plain NAME keeps its own value"
  }
}

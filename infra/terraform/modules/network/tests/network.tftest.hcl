# `terraform test` with a mocked AWS provider: a two-zone VPC, or existing subnets passed through.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["ap-southeast-3a", "ap-southeast-3b", "ap-southeast-3c"]
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "ap-southeast-3"
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
}

variables {
  name = "wagw-test"
}

run "creates_private_subnets_in_two_zones_behind_one_nat" {
  command = apply

  assert {
    condition     = length(output.private_subnet_ids) == 2 && length(aws_nat_gateway.this) == 1
    error_message = "two private subnets and a single NAT by default"
  }

  assert {
    condition     = toset([for s in aws_subnet.private : s.availability_zone]) == toset(["ap-southeast-3a", "ap-southeast-3b"])
    error_message = "private subnets must be spread over two zones"
  }
}

run "reuses_existing_subnets" {
  command = apply

  variables {
    create_vpc                  = false
    existing_vpc_id             = "vpc-0123456789abcdef0"
    existing_private_subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  }

  assert {
    condition     = output.vpc_id == "vpc-0123456789abcdef0" && length(aws_vpc.this) == 0 && length(aws_nat_gateway.this) == 0
    error_message = "nothing is created when reusing a VPC"
  }
}

run "reusing_needs_two_subnets" {
  command = plan

  variables {
    create_vpc                  = false
    existing_vpc_id             = "vpc-0123456789abcdef0"
    existing_private_subnet_ids = ["subnet-0123456789abcdef0"]
  }

  expect_failures = [output.vpc_id]
}

run "tiny_vpcs_are_refused" {
  command = plan

  variables {
    cidr_block = "10.40.0.0/24"
  }

  expect_failures = [var.cidr_block]
}

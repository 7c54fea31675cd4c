"""Static checks of infra/terraform: module conventions, wiring, and the security promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.hcl import (
    ENVS,
    MODULES,
    STANDARD_FILES,
    TERRAFORM,
    blocks,
    env_dirs,
    module_calls,
    module_dirs,
    resolve_number,
    resources,
    unquote,
    variables,
)

ALL_DIRS = module_dirs() + env_dirs()
SECRET_NAME = re.compile(r"(secret|password|token|passwd|api_?key|private_key)", re.IGNORECASE)


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(TERRAFORM)) for p in paths]


def test_tree_has_modules_and_a_production_env():
    assert {p.name for p in module_dirs()} >= {
        "network",
        "api",
        "worker",
        "session_hosts",
        "redis",
        "database",
        "media",
        "secrets",
    }
    assert (ENVS / "production").is_dir()


@pytest.mark.parametrize("module", module_dirs(), ids=ids(module_dirs()))
def test_every_module_has_the_standard_file_set(module: Path):
    assert sorted(p.name for p in module.glob("*.tf")) == sorted(STANDARD_FILES)


@pytest.mark.parametrize("env", env_dirs(), ids=ids(env_dirs()))
def test_every_env_has_its_files_and_an_example_tfvars(env: Path):
    for name in (*STANDARD_FILES, "terraform.tfvars.example"):
        assert (env / name).is_file(), name


@pytest.mark.parametrize("directory", ALL_DIRS, ids=ids(ALL_DIRS))
def test_every_variable_is_typed_and_described(directory: Path):
    declared = list(blocks(directory, "variable"))
    assert declared, "no variables"
    for name, body, path in declared:
        assert "type" in body, f"{path.name}: variable {name} has no type"
        assert unquote(body.get("description", "")).strip(), (
            f"{path.name}: variable {name} has no description"
        )


@pytest.mark.parametrize("directory", ALL_DIRS, ids=ids(ALL_DIRS))
def test_every_output_is_described(directory: Path):
    declared = list(blocks(directory, "output"))
    assert declared, "no outputs"
    for name, body, path in declared:
        assert unquote(body.get("description", "")).strip(), f"{path.name}: output {name} has no description"


@pytest.mark.parametrize("directory", ALL_DIRS, ids=ids(ALL_DIRS))
def test_module_calls_resolve_and_pass_every_required_variable(directory: Path):
    for call, source, arguments in module_calls(directory):
        assert source.is_relative_to(MODULES) and source.is_dir(), f"module {call}: {source} does not exist"
        declared = variables(source)
        missing = {n for n, v in declared.items() if v.required} - arguments.keys()
        unknown = arguments.keys() - declared.keys()
        assert not missing, f"module {call} does not pass required {sorted(missing)}"
        assert not unknown, f"module {call} passes undeclared {sorted(unknown)}"


def test_every_module_is_used_by_an_env_or_another_module():
    used = {source for d in ALL_DIRS for _, source, _ in module_calls(d)}
    assert {p.resolve() for p in module_dirs()} == used


@pytest.mark.parametrize("directory", ALL_DIRS, ids=ids(ALL_DIRS))
def test_secret_like_variables_have_no_default_value(directory: Path):
    for name, variable in variables(directory).items():
        if SECRET_NAME.search(name):
            default = variable.default
            assert not (isinstance(default, str) and default), f"variable {name} has a default value"


def test_no_hard_coded_secrets_anywhere_in_the_tree():
    # `terraform test` files feed mock values to mocked providers; everything else is deployed.
    text_files = [
        p for p in TERRAFORM.rglob("*") if p.is_file() and not {".terraform", "tests"} & set(p.parts)
    ]
    assignment = re.compile(
        r"^\s*([A-Za-z_]*(?:password|secret|token|api_?key))\s*=\s*\"([^\"$]+)\"", re.IGNORECASE | re.M
    )
    for path in text_files:
        text = path.read_text()
        assert not re.search(r"AKIA[0-9A-Z]{16}", text), f"{path}: AWS access key id"
        assert "-----BEGIN" not in text, f"{path}: private key"
        literal = [m.group(1) for m in assignment.finditer(text)]
        assert not literal, f"{path}: secret-looking attribute set to a literal: {literal}"


def test_secret_attributes_are_expressions_never_literals():
    for directory in ALL_DIRS:
        for resource_type, attribute in [
            ("aws_db_instance", "password"),
            ("aws_elasticache_replication_group", "auth_token"),
            ("aws_secretsmanager_secret_version", "secret_string"),
        ]:
            for body in resources(directory, resource_type):
                assert str(body[attribute]).startswith("${"), f"{resource_type}.{attribute} is a literal"


def test_media_bucket_expires_every_object_after_one_day():
    media = MODULES / "media"
    (lifecycle,) = resources(media, "aws_s3_bucket_lifecycle_configuration")
    enabled = [rule for rule in lifecycle["rule"] if unquote(rule["status"]) == "Enabled"]
    expiring = [rule for rule in enabled if "expiration" in rule]
    assert expiring, "no enabled expiration rule"
    (rule,) = expiring
    assert rule["filter"] == [{"__is_block__": True}] or rule["filter"] == [{}], (
        "rule must cover the whole bucket"
    )
    days = resolve_number(rule["expiration"][0]["days"], media)
    assert days == 1
    for env in env_dirs():
        for _, source, arguments in module_calls(env):
            if source.name == "media":
                assert resolve_number(arguments.get("expiration_days", days), env) == 1


def test_media_bucket_is_private_and_encrypted():
    media = MODULES / "media"
    (block,) = resources(media, "aws_s3_bucket_public_access_block")
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert block[flag] is True, flag
    assert resources(media, "aws_s3_bucket_server_side_encryption_configuration")
    (policy,) = resources(media, "aws_s3_bucket_policy")
    assert "aws:SecureTransport" in policy["policy"]


def test_rds_is_private_encrypted_and_backed_up():
    database = MODULES / "database"
    (db,) = resources(database, "aws_db_instance")
    assert db["publicly_accessible"] is False
    assert db["storage_encrypted"] is True
    assert db["skip_final_snapshot"] is False
    assert resolve_number(db["backup_retention_period"], database) >= 7
    assert unquote(db["engine"]) == "postgres"
    (params,) = resources(database, "aws_db_parameter_group")
    force_ssl = [p for p in params["parameter"] if unquote(p["name"]) == "rds.force_ssl"]
    assert force_ssl and unquote(force_ssl[0]["value"]) == "1"


def test_redis_is_encrypted_in_transit_and_at_rest_with_auth():
    (group,) = resources(MODULES / "redis", "aws_elasticache_replication_group")
    assert group["transit_encryption_enabled"] is True
    assert group["at_rest_encryption_enabled"] is True
    assert group["auth_token"] == "${var.auth_token}"


@pytest.mark.parametrize("module", ["database", "redis", "session_hosts"])
def test_data_stores_admit_only_security_groups_never_cidrs(module: Path):
    rules = resources(MODULES / module, "aws_vpc_security_group_ingress_rule")
    assert rules
    for rule in rules:
        assert "referenced_security_group_id" in rule
        assert not {"cidr_ipv4", "cidr_ipv6"} & rule.keys()


def test_env_connects_to_redis_over_tls_and_postgres_with_ssl():
    main = (ENVS / "production" / "main.tf").read_text()
    assert '"rediss://' in main
    assert "sslmode=require" in main


def test_api_waits_fit_under_the_api_gateway_limit():
    api = variables(MODULES / "api")
    timeout = api["timeout_seconds"].default
    assert timeout <= 28
    for name in ("qr_wait_seconds", "send_wait_seconds", "ai_timeout_seconds"):
        assert api[name].default + 2 <= timeout, name
    env = variables(ENVS / "production")
    assert env["qr_wait_seconds"].default + 3 <= env["lambda_timeout_seconds"].default <= 28


def test_api_handler_is_the_lambda_entry_of_the_functions_package():
    handler = variables(MODULES / "api")["handler"].default
    module_path, _, attribute = handler.rpartition(".")
    source = TERRAFORM.parents[1] / (module_path.replace(".", "/") + ".py")
    assert source.is_file()
    assert re.search(rf"^{attribute} = ", source.read_text(), re.M)


def test_session_hosts_run_the_daemon_with_shared_auth_and_a_drain_hook():
    main = (MODULES / "session_hosts" / "main.tf").read_text()
    assert '["-m", "session_host"]' in main
    assert "WA_AUTH_DIR" in main and "aws_efs_file_system" in main
    (efs,) = resources(MODULES / "session_hosts", "aws_efs_file_system")
    assert efs["encrypted"] is True
    (asg,) = resources(MODULES / "app_host", "aws_autoscaling_group")
    (hook,) = asg["initial_lifecycle_hook"]
    assert unquote(hook["lifecycle_transition"]) == "autoscaling:EC2_INSTANCE_TERMINATING"
    user_data = (MODULES / "app_host" / "templates" / "user_data.sh.tftpl").read_text()
    for needle in (
        "KillSignal=SIGTERM",
        "TimeoutStopSec=${drain_timeout}",
        '"HOST_ID": sys.argv[1]',
        "chown",
    ):
        assert needle in user_data, needle


def test_environment_names_set_by_terraform_are_real_settings():
    functions_config = pytest.importorskip("functions.config")
    host_config = pytest.importorskip("session_host.config")
    known = {name.upper() for name in functions_config.Settings.model_fields}
    known |= {name.upper() for name in host_config.HostSettings.model_fields}
    known |= {"AWS_REGION", "AWS_DEFAULT_REGION"}  # read by boto3
    assignment = re.compile(r"^\s*([A-Z][A-Z0-9_]+)\s*=", re.M)
    names = {m for p in TERRAFORM.rglob("*.tf") for m in assignment.findall(p.read_text())}
    assert {"DATABASE_URL", "REDIS_URL", "QR_WAIT_SECONDS", "WA_AUTH_DIR", "EVENTS_URL"} <= names
    assert names <= known, f"unknown settings: {sorted(names - known)}"


def test_example_tfvars_set_only_declared_variables():
    for env in env_dirs():
        declared = variables(env).keys()
        example = (env / "terraform.tfvars.example").read_text()
        # Commented-out alternatives count too: they must work once uncommented.
        assigned = set(re.findall(r"^#?\s*([a-z_]+)\s*=", example, re.M))
        assert assigned, env
        assert assigned <= declared, sorted(assigned - declared)
        missing = {n for n, v in variables(env).items() if v.required} - assigned
        assert not missing, f"{env.name}: example omits required {sorted(missing)}"


def test_session_hosts_get_only_the_secrets_they_need():
    for env in env_dirs():
        calls = {name: (source, arguments) for name, source, arguments in module_calls(env)}
        roles = {
            role: {unquote(n) for n in names} for role, names in calls["secrets"][1]["runtime_roles"].items()
        }
        assert roles["session_host"] == {"REDIS_URL", "EVENTS_SECRET"}
        assert "DATABASE_URL" in roles["worker"]
        assert "ADMIN_TOKEN" not in roles["worker"] | roles["session_host"]
        assert calls["session_hosts"][1]["runtime_secret_arn"].endswith('["session_host"]}')
        assert calls["worker"][1]["runtime_secret_arn"].endswith('["worker"]}')

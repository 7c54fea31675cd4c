"""Checks that need the terraform binary: fmt, validate, and rendering the hosts' boot script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.hcl import MODULES, TERRAFORM, env_dirs

TERRAFORM_BIN = shutil.which("terraform")
# A filesystem provider mirror lets `init` work without registry.terraform.io.
PLUGIN_DIR = os.environ.get("TF_PLUGIN_DIR") or (
    "/opt/tf-plugins" if Path("/opt/tf-plugins").is_dir() else ""
)
USER_DATA = MODULES / "app_host" / "templates" / "user_data.sh.tftpl"

pytestmark = pytest.mark.skipif(TERRAFORM_BIN is None, reason="terraform binary not installed")


def terraform(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run terraform without colours or prompts and capture its output."""
    return subprocess.run(
        [TERRAFORM_BIN, *args], cwd=cwd, capture_output=True, text=True, timeout=240, check=False
    )


def test_terraform_fmt_is_clean():
    result = terraform("fmt", "-check", "-recursive", "-diff", "-no-color", cwd=TERRAFORM)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("env", env_dirs(), ids=[p.name for p in env_dirs()])
def test_terraform_validate(env: Path, tmp_path: Path):
    # Validate a copy: init writes .terraform/ and a lock file into the working directory.
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform*"))
    workdir = copy / env.relative_to(TERRAFORM)
    init_args = ["init", "-backend=false", "-input=false", "-no-color"]
    if PLUGIN_DIR:
        init_args.append(f"-plugin-dir={PLUGIN_DIR}")
    init = terraform(*init_args, cwd=workdir)
    if init.returncode != 0 and not PLUGIN_DIR:
        pytest.skip("AWS provider not downloadable here and no TF_PLUGIN_DIR mirror")
    assert init.returncode == 0, init.stdout + init.stderr
    result = terraform("validate", "-json", "-no-color", cwd=workdir)
    report = json.loads(result.stdout)
    assert report["valid"], json.dumps(report["diagnostics"], indent=1)
    assert report["warning_count"] == 0, json.dumps(report["diagnostics"], indent=1)


TEST_DIRS = sorted(p.parent for p in TERRAFORM.glob("**/tests/*.tftest.hcl"))


@pytest.mark.skipif(not PLUGIN_DIR, reason="terraform test needs the AWS provider schema: set TF_PLUGIN_DIR")
@pytest.mark.parametrize(
    "directory", TEST_DIRS, ids=[str(p.parent.relative_to(TERRAFORM)) for p in TEST_DIRS]
)
def test_terraform_test_against_a_mocked_provider(directory: Path, tmp_path: Path):
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform*"))
    workdir = copy / directory.parent.relative_to(TERRAFORM)
    init = terraform(
        "init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={PLUGIN_DIR}", cwd=workdir
    )
    assert init.returncode == 0, init.stdout + init.stderr
    result = terraform("test", "-no-color", cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Success! [1-9][0-9]* passed, 0 failed", result.stdout), result.stdout


def render_user_data(tmp_path: Path, **overrides: object) -> str:
    """Render the hosts' boot script with Terraform itself (no provider needed for an output)."""
    values: dict[str, object] = {
        "region": "ap-southeast-3",
        "service_name": "wagw-session-host",
        "command": "-m session_host",
        "pre_start_command": "",
        "packages": "python3 python3-venv chromium chromium-driver",
        "environment_json": json.dumps(
            {"WA_AUTH_DIR": "/mnt/wagw-auth", "AI_BACKEND_URL": "https://a/?x=1&y=2"}
        ),
        "runtime_secret_arn": "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:wagw/runtime",
        "artifact_bucket": "artifacts",
        "artifact_key": "app/app-abc.tar.gz",
        "efs_dns_name": "fs-123.efs.ap-southeast-3.amazonaws.com",
        "efs_mount_path": "/mnt/wagw-auth",
        "drain_timeout": 180,
        "asg_name": "wagw-production-session-host",
        "lifecycle_hook": "wagw-production-session-host-drain",
        "install_ssm_agent": True,
        "log_group": "/wagw/wagw-production-session-host",
    }
    values.update(overrides)
    (tmp_path / "main.tf.json").write_text(
        json.dumps(
            {
                "variable": {"v": {"type": "any"}},
                "output": {"user_data": {"value": f"${{templatefile({json.dumps(str(USER_DATA))}, var.v)}}"}},
            }
        )
    )
    (tmp_path / "terraform.tfvars.json").write_text(json.dumps({"v": values}))
    applied = terraform("apply", "-auto-approve", "-input=false", "-no-color", cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    return terraform("output", "-raw", "user_data", cwd=tmp_path).stdout


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "service_name": "wagw-worker",
            "command": "-m functions.worker",
            "pre_start_command": "-m functions.migrate",
            "efs_dns_name": "",
            "install_ssm_agent": False,
            "log_group": "",
        },
    ],
    ids=["session-host", "worker"],
)
def test_boot_script_renders_to_valid_bash_and_python(tmp_path: Path, overrides: dict[str, object]):
    script = render_user_data(tmp_path, **overrides)

    syntax = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    embedded = re.findall(r"<<'PY'\n(.*?)\nPY\n", script, re.S)
    assert len(embedded) == 4
    for number, source in enumerate(embedded):
        compile(source, f"user_data-python-{number}", "exec")
    service = overrides.get("service_name", "wagw-session-host")
    command = overrides.get("command", "-m session_host")
    assert f"ExecStart=$APP_DIR/venv/bin/python $APP_DIR/bin/launch.py {command}\n" in script
    assert f'systemctl enable --now "{service}.service" wagw-drain.service' in script
    assert ("ExecStartPre=" in script) == bool(overrides.get("pre_start_command"))
    assert ("RequiresMountsFor=/mnt/wagw-auth" in script) == ("efs_dns_name" not in overrides)
    assert "TimeoutStopSec=180" in script
    assert f"StandardOutput=append:/var/log/wagw/{service}.log" in script
    agent_config = re.findall(r"amazon-cloudwatch-agent.json <<'JSON'\n(.*?)\nJSON\n", script, re.S)
    if overrides.get("log_group", "x"):
        (config,) = agent_config
        files = json.loads(config)["logs"]["logs_collected"]["files"]["collect_list"]
        assert {f["log_group_name"] for f in files} == {"/wagw/wagw-production-session-host"}
    else:
        assert not agent_config

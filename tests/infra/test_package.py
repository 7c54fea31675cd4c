"""`make package`'s Lambda zip: lean, reproducible, and serving API Gateway events on its own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "infra" / "scripts" / "build_lambda_zip.sh"
EVENTS = ROOT / "tests" / "events"
MAX_ZIP_BYTES = 15 * 1000 * 1000
# The python3.12 runtime bundles an SDK that lags PyPI (the exact version depends on region and
# date); an older boto3 than requirements.txt pins shows the zip does not need a newer one.
RUNTIME_BOTO3 = "boto3==1.40.4"
# What only the session host needs, or what the runtime already has, never enters the zip.
FORBIDDEN_TOP_LEVEL = {
    "selenium",
    "undetected_chromedriver",
    "psutil",
    "boto3",
    "botocore",
    "s3transfer",
    "setuptools",
    "pip",
    "gunicorn",
    "alembic",
    "pytest",
    "moto",
    "session_host",
    "simulator",
    "tests",
}

pytestmark = pytest.mark.timeout(600)


def _build(arch: str, out: Path) -> Path:
    # pip's own wheel cache (~/.cache/pip) makes every build after the first one offline-fast.
    subprocess.run([str(BUILD), arch, "3.12", str(out)], cwd=ROOT, check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory) -> Path:
    """The zip exactly as deployed: manylinux x86_64 wheels for the python3.12 runtime."""
    return _build("x86_64", tmp_path_factory.mktemp("zip") / "lambda.zip")


def test_zip_is_lean_and_carries_no_browser(lambda_zip: Path):
    assert lambda_zip.stat().st_size <= MAX_ZIP_BYTES, f"{lambda_zip.stat().st_size / 1e6:.1f} MB"
    names = zipfile.ZipFile(lambda_zip).namelist()
    top = {name.split("/")[0] for name in names}
    assert not top & FORBIDDEN_TOP_LEVEL, sorted(top & FORBIDDEN_TOP_LEVEL)
    assert not [n for n in names if "chrom" in n.lower() or n.endswith((".pyc", ".map"))]
    assert "functions/lambda_handler.py" in names and "contract/settings.py" in names
    # Compiled wheels are the Lambda's (cp312, Linux x86_64), not this machine's interpreter.
    assert any(n.startswith("pydantic_core/") and "cpython-312-x86_64-linux-gnu" in n for n in names)


def test_two_builds_are_byte_identical(lambda_zip: Path, tmp_path: Path):
    again = _build("x86_64", tmp_path / "again.zip")
    assert again.read_bytes() == lambda_zip.read_bytes()


SERVE = textwrap.dedent(
    """
    import json, sys
    from types import SimpleNamespace
    import functions.lambda_handler as entry
    import functions.qr
    context = SimpleNamespace(function_name="wagw-api", aws_request_id="req-1",
                              get_remaining_time_in_millis=lambda: 30000)
    response = entry.handler(json.load(open(sys.argv[1])), context)
    png = functions.qr.qr_png("2@package-test")
    print(json.dumps({"response": response, "png": png[:8].hex(), "path": entry.__file__,
                      "modules": sorted(m.split(".")[0] for m in sys.modules)}))
    """
)


def test_zip_serves_an_api_gateway_event_in_a_clean_venv(tmp_path: Path, redis_url: str, sqlite_url: str):
    # The deployed zip holds cp312 wheels, which this machine's python3.11 cannot load, so the
    # same build script resolves the same pins for the local interpreter ("local"); everything
    # else (what is left out, what is pruned) is the same code path as the deployed zip.
    local_zip = _build("local", tmp_path / "local.zip")
    task = tmp_path / "task"  # Lambda unpacks the zip to /var/task, first on sys.path
    zipfile.ZipFile(local_zip).extractall(task)
    venv = tmp_path / "runtime"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", RUNTIME_BOTO3], check=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(task),
        "PYTHONNOUSERSITE": "1",
        "APP_ENV": "test",
        "DATABASE_URL": sqlite_url,
        "REDIS_URL": redis_url,
        "TEMP_DIR": str(tmp_path / "lambda-tmp"),
        "EVENTS_SECRET": "package-test-secret",
        "LOG_LEVEL": "WARNING",
    }
    script = tmp_path / "serve.py"
    script.write_text(SERVE)
    done = subprocess.run(
        [str(python), str(script), str(EVENTS / "apigw_v2_get_health.json")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["path"].startswith(str(task)), result["path"]
    response = result["response"]
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["status"] == "ok" and body["traceId"] == "trace-lambda-v2-health"
    assert result["png"] == "89504e470d0a1a0a"  # PNG signature: the pruned Pillow still writes PNG
    assert not {"selenium", "undetected_chromedriver", "psutil"} & set(result["modules"])

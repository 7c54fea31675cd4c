"""Settings: precedence, and a bad variable stopping start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess

import pytest

from functions.config import Settings
from tests.support.processes import PYTHON, ROOT, free_port

GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")


def clean_env(run_dir, **values: str) -> dict[str, str]:
    """Return an environment without the gateway's variables, plus `values`."""
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env["DATABASE_URL"] = f"sqlite:///{run_dir / 'config-test.db'}"
    env.update(values)
    return env


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DATABASE_URL", "mysql://db/x", "must start with"),
        ("REDIS_URL", "http://127.0.0.1:6379", "must start with"),
        ("PORT", "eighty", "valid integer"),
        ("PORT", "70000", "less than or equal to 65535"),
        ("QR_WAIT_SECONDS", "-1", "greater than 0"),
        ("LOG_LEVEL", "LOUD", "'DEBUG'"),
        ("APP_ENV", "staging", "'production'"),
        ("DB_POOL_SIZE", "0", "greater than or equal to 1"),
    ],
)
def test_a_malformed_variable_stops_start_up_with_one_line(run_dir, variable, value, says):
    env = clean_env(run_dir, **{variable: value})

    done = subprocess.run(
        [PYTHON, "-m", "functions.migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"configuration error: {variable}: ")
    assert says in lines[0]
    assert "Traceback" not in done.stderr


def test_production_without_an_events_secret_refuses_to_start(run_dir):
    env = clean_env(run_dir, APP_ENV="production")

    done = subprocess.run(
        [PYTHON, "-m", "functions.migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1
    assert done.stderr.strip() == "configuration error: EVENTS_SECRET must be set in production"


def test_an_unreachable_database_is_one_line_too(run_dir):
    env = clean_env(run_dir, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/none")

    done = subprocess.run(
        [PYTHON, "-m", "functions.migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1
    assert done.stderr.strip().startswith("database error: DATABASE_URL: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_migrate_creates_the_sqlite_directory_and_is_idempotent(run_dir):
    env = clean_env(run_dir, DATABASE_URL=f"sqlite:///{run_dir / 'fresh' / 'nested' / 'gw.db'}")

    for _ in range(2):
        done = subprocess.run(
            [PYTHON, "-m", "functions.migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "database is up to date"
    assert (run_dir / "fresh" / "nested" / "gw.db").exists()


def test_gunicorn_with_a_bad_variable_exits_instead_of_respawning_workers(run_dir):
    env = clean_env(run_dir, LOG_LEVEL="LOUD", PORT=str(free_port()))

    done = subprocess.run(
        [GUNICORN, "-c", "functions/gunicorn_conf.py", "functions.app:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("configuration error")]
    assert errors == ["configuration error: LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"]
    assert "Booting worker" not in done.stderr


def test_explicit_argument_beats_environment_beats_default(monkeypatch):
    monkeypatch.setenv("QR_WAIT_SECONDS", "42")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.delenv("PORT", raising=False)

    from_env = Settings()
    explicit = Settings(qr_wait_seconds=7)

    assert from_env.qr_wait_seconds == 42 and from_env.log_level == "DEBUG"
    assert from_env.port == 8080
    assert explicit.qr_wait_seconds == 7


def test_every_setting_is_described():
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]

    assert undocumented == []

"""SnapStart hooks: a resumed snapshot re-reads its secret and reopens its connections.

Real Redis and SQLite, Secrets Manager played by moto; the hooks are the ones
`functions.lambda_handler` registers with the Lambda runtime.
"""

from __future__ import annotations

import json
import subprocess

import sqlalchemy as sa

from devstack.process import PYTHON
from functions import snapstart
from functions.app import create_app
from functions.config import Settings
from tests.support.apps import close_app


def requeue(client, token: str) -> int:
    """An admin call on Redis: 401 with a wrong token, 404 (no such job) with the right one."""
    return client.post("/jobs/nope/requeue", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_restored_snapshot_rereads_its_secret_and_reopens_its_connections(aws, redis_url, sqlite_url):
    secret = {"ADMIN_TOKEN": "admin-1", "EVENTS_SECRET": "events-1", "DATABASE_URL": sqlite_url}
    arn = aws.create_secret(Name="wagw/api", SecretString=json.dumps(secret))["ARN"]
    settings = Settings(app_env="test", redis_url=redis_url, secrets_arn=arn, secrets_ttl_seconds=3600)
    app = create_app(settings)
    try:
        client = app.test_client()
        assert requeue(client, "admin-1") == 404
        with app.extensions["db_engine"].connect() as conn:
            conn.execute(sa.text("select 1"))
        aws.put_secret_value(SecretId=arn, SecretString=json.dumps({**secret, "ADMIN_TOKEN": "admin-2"}))
        assert requeue(client, "admin-2") == 401  # the snapshot's copy, well inside its TTL

        snapstart.after_restore(app)

        assert requeue(client, "admin-2") == 404
        assert requeue(client, "admin-1") == 401
        assert app.extensions["db_engine"].pool.checkedin() == 0  # nothing reused from the snapshot
        with app.extensions["db_engine"].connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
    finally:
        close_app(app)


def test_before_the_snapshot_the_lazily_imported_modules_are_loaded():
    script = (
        "import sys; from functions import snapstart; "
        "assert not set(snapstart.WARM_MODULES) & set(sys.modules), 'imported too early'; "
        "snapstart.before_snapshot(); "
        "assert set(snapstart.WARM_MODULES) <= set(sys.modules); "
        "print(snapstart.register(None))"
    )
    result = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    # No Lambda runtime here: nothing registered, nothing raised.
    assert result.stdout.strip() == "False"

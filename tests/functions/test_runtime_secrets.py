"""SECRETS_ARN: secrets read from Secrets Manager (moto) at start, and again after their TTL."""

from __future__ import annotations

import json

import pytest

from functions.app import create_app
from functions.config import Settings
from tests.support.apps import close_app
from tests.support.waiting import wait_until

NAME = "wagw/runtime"


def settings(redis_url: str, arn: str, ttl: float) -> Settings:
    # Deliberately wrong values: the secret's must win.
    return Settings(
        app_env="test",
        redis_url=redis_url,
        database_url="sqlite:////nonexistent/not-this.db",
        admin_token="from-the-environment",
        secrets_arn=arn,
        secrets_ttl_seconds=ttl,
    )


def requeue(client, token: str) -> int:
    """An admin call that needs no database: 401 with a wrong token, 404 with the right one."""
    return client.post("/jobs/nope/requeue", headers={"Authorization": f"Bearer {token}"}).status_code


def test_the_secret_replaces_the_environment_at_start(aws, redis_url, sqlite_url):
    secret = {"ADMIN_TOKEN": "admin-1", "EVENTS_SECRET": "events-1", "DATABASE_URL": sqlite_url}
    arn = aws.create_secret(Name=NAME, SecretString=json.dumps(secret))["ARN"]

    app = create_app(settings(redis_url, arn, ttl=300))
    try:
        assert app.config["SETTINGS"].database_url == sqlite_url
        assert app.config["SETTINGS"].events_secret == "events-1"
        client = app.test_client()
        assert requeue(client, "admin-1") == 404
        assert requeue(client, "from-the-environment") == 401
        assert client.get("/sessions", headers={"Authorization": "Bearer admin-1"}).status_code == 200
    finally:
        close_app(app)


def test_a_rotation_takes_effect_after_the_ttl_without_a_restart(aws, redis_url, sqlite_url):
    secret = {"ADMIN_TOKEN": "admin-1", "DATABASE_URL": sqlite_url}
    arn = aws.create_secret(Name=NAME, SecretString=json.dumps(secret))["ARN"]
    app = create_app(settings(redis_url, arn, ttl=1.0))
    try:
        client = app.test_client()
        assert requeue(client, "admin-1") == 404

        aws.put_secret_value(SecretId=arn, SecretString=json.dumps({**secret, "ADMIN_TOKEN": "admin-2"}))

        wait_until(lambda: requeue(client, "admin-2") == 404, 10, message="the rotated token")
        assert requeue(client, "admin-1") == 401
    finally:
        close_app(app)


def test_an_unreadable_secret_at_start_stops_the_app(aws, redis_url):
    with pytest.raises(Exception, match=r"ResourceNotFound|can.t find"):
        create_app(
            settings(redis_url, "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:missing", 300)
        )

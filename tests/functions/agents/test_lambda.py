"""The Lambda entry replays stored API Gateway events (REST v1 and HTTP API v2) through apig-wsgi."""

from __future__ import annotations

import base64
import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from contract import jobs
from functions.config import get_settings
from tests.functions.agents.conftest import Agent, QueueHost

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONTEXT = SimpleNamespace(
    function_name="wagw-api", aws_request_id="req-1", get_remaining_time_in_millis=lambda: 30000
)


def _event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def _body(response: dict) -> str:
    body = response["body"]
    return base64.b64decode(body).decode() if response.get("isBase64Encoded") else body


@pytest.fixture
def handler(monkeypatch, clean_pg_url, redis_url, run_dir):
    """Import the Lambda module with the environment a deployed function would have."""
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": clean_pg_url,
        "REDIS_URL": redis_url,
        "TEMP_DIR": str(run_dir / "lambda-tmp"),
        "EVENTS_SECRET": "lambda-test-secret",
        "SEND_WAIT_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    sys.modules.pop("functions.lambda_handler", None)
    module = importlib.import_module("functions.lambda_handler")
    yield module.handler
    module.app.extensions["db_engine"].dispose()
    sys.modules.pop("functions.lambda_handler", None)
    get_settings.cache_clear()


def test_v2_health(handler):
    response = handler(_event("apigw_v2_get_health.json"), CONTEXT)
    assert response["statusCode"] == 200
    body = json.loads(_body(response))
    assert body["status"] == "ok"
    assert body["traceId"] == "trace-lambda-v2-health"
    assert response["headers"]["x-trace-id"] == "trace-lambda-v2-health"


def test_v2_send_is_delivered(handler, ready_agent: Agent, queue_host: QueueHost):
    delivered: list = []
    queue_host.serve(ready_agent.agent_id, delivered)
    response = handler(_event("apigw_v2_post_messages.json"), CONTEXT)
    assert response["statusCode"] == 200, _body(response)
    body = json.loads(_body(response))
    assert body["delivered"] is True
    assert body["traceId"] == "trace-lambda-v2-messages"
    assert jobs.SendText.from_wire(delivered[0].args[0]).text == "Halo dari Lambda (v2)"


def test_v1_unauthorized_gets_the_error_envelope(handler, agent: Agent):
    response = handler(_event("apigw_v1_post_messages_unauthorized.json"), CONTEXT)
    assert response["statusCode"] == 401
    error = json.loads(_body(response))["error"]
    assert error == {
        "code": "UNAUTHORIZED",
        "message": "an `Authorization: Bearer <api key>` header is required",
        "traceId": "trace-lambda-v1-unauth",
    }
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]


def test_v1_metrics(handler):
    response = handler(_event("apigw_v1_get_metrics.json"), CONTEXT)
    assert response["statusCode"] == 200
    assert "sessions_active 0" in _body(response)

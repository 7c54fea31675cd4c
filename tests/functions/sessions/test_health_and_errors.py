"""GET /health, traceIds on every answer, and the one error envelope for every failure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest


def test_health_reports_status_uptime_timestamp_and_trace(client):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["status", "uptime", "timestamp", "traceId"]
    assert body["status"] == "ok"
    assert isinstance(body["uptime"], int | float) and body["uptime"] >= 0
    stamp = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - stamp) < timedelta(seconds=30)
    assert re.fullmatch(r"[0-9a-f]{32}", body["traceId"])
    assert response.headers["X-Trace-Id"] == response.headers["X-Request-Id"] == body["traceId"]


@pytest.mark.parametrize("header", ["X-Request-Id", "X-Trace-Id"])
def test_an_incoming_request_id_becomes_the_trace_id(client, header):
    response = client.get("/health", headers={header: "abc-123.DEF:9"})

    assert response.get_json()["traceId"] == "abc-123.DEF:9"
    assert response.headers["X-Request-Id"] == "abc-123.DEF:9"


def test_x_request_id_wins_over_x_trace_id(client):
    response = client.get("/health", headers={"X-Request-Id": "req-1", "X-Trace-Id": "trace-1"})

    assert response.get_json()["traceId"] == "req-1"


@pytest.mark.parametrize("value", ["has space", "x" * 129, "semi;colon", "<script>", "line\tbreak"])
def test_unsafe_request_ids_are_replaced(client, value):
    trace = client.get("/health", headers={"X-Request-Id": value}).get_json()["traceId"]

    assert trace != value and re.fullmatch(r"[0-9a-f]{32}", trace)


def test_each_request_gets_its_own_trace(client):
    traces = {client.get("/health").get_json()["traceId"] for _ in range(5)}

    assert len(traces) == 5


def test_errors_carry_the_request_trace(client):
    response = client.get("/sessions/nobody", headers={"X-Request-Id": "req-404"})

    assert response.status_code == 404
    assert response.get_json() == {
        "error": {
            "code": "SESSION_NOT_FOUND",
            "message": "no session for agent 'nobody'",
            "traceId": "req-404",
        }
    }
    assert response.headers["X-Request-Id"] == "req-404"


def test_an_unexpected_error_is_a_500_envelope_without_internals(app):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom-for-test", headers={"X-Request-Id": "req-500"})

    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"code": "INTERNAL_ERROR", "message": "internal error", "traceId": "req-500"}
    }
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)

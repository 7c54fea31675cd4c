"""POST /internal/events: HMAC check, freshness, de-duplication and status transitions."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from contract import events as wire
from functions import repository
from tests.support.processes import free_port

SECRET = "test-events-secret"  # the settings fixture's EVENTS_SECRET


def post(client, event: wire.SessionEvent | dict | bytes, *, secret: str = SECRET, now: float | None = None):
    if isinstance(event, wire.SessionEvent):
        body = json.dumps(event.to_wire()).encode()
    elif isinstance(event, dict):
        body = json.dumps(event).encode()
    else:
        body = event
    headers = wire.sign(body, secret, time.time() if now is None else now)
    return client.post(wire.EVENTS_PATH, data=body, headers=headers, content_type="application/json")


def event(type_: str, at: datetime | None = None, **fields) -> wire.SessionEvent:
    return wire.SessionEvent(
        type=wire.EventType(type_), agent_id="agent-1", host_id="h1", at=at or datetime.now(UTC), **fields
    )


@pytest.fixture
def engine(app):
    engine = app.extensions["db_engine"]
    repository.upsert_agent(
        engine, user_id="u", agent_id="agent-1", agent_name="n", api_key=None, endpoint_url_run="x"
    )
    return engine


def test_ready_marks_the_record_connected(client, engine):
    at = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)

    response = post(client, event("ready", at=at, trace_id="t-ready"))

    assert response.status_code == 202
    assert response.get_json()["accepted"] is True and response.get_json()["duplicate"] is False
    row = repository.get_agent(engine, "agent-1")
    assert row["status"] == "connected"
    assert row["last_connected_at"] == at
    assert row["last_disconnected_at"] is None


@pytest.mark.parametrize(
    ("type_", "status", "disconnected"),
    [
        ("disconnected", "disconnected", True),
        ("auth_failure", "auth_failed", True),
        ("qr", "awaiting_qr", False),
    ],
)
def test_status_transitions(client, engine, type_, status, disconnected):
    connected_at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    later_at = connected_at + timedelta(hours=2)
    post(client, event("ready", at=connected_at))

    assert post(client, event(type_, at=later_at, reason="phone offline")).status_code == 202

    row = repository.get_agent(engine, "agent-1")
    assert row["status"] == status
    assert row["last_connected_at"] == connected_at
    assert row["last_disconnected_at"] == (later_at if disconnected else None)
    assert row["updated_at"] == later_at


def test_events_without_a_status_leave_the_record_alone(client, engine):
    before = repository.get_agent(engine, "agent-1")

    assert post(client, event("stopped")).status_code == 202

    assert repository.get_agent(engine, "agent-1") == before


def test_a_duplicate_event_is_applied_once(client, engine):
    ready = event("ready")
    assert post(client, ready).get_json()["duplicate"] is False
    # something else changes the record in between
    repository.set_status(engine, "agent-1", "disconnected")

    again = post(client, ready)

    assert again.status_code == 202
    assert again.get_json() == {"accepted": True, "duplicate": True, "id": ready.id}
    assert repository.get_agent(engine, "agent-1")["status"] == "disconnected"


def test_an_event_for_an_unknown_agent_is_accepted_and_ignored(client, engine):
    stranger = wire.SessionEvent(type=wire.EventType.READY, agent_id="nobody", host_id="h1")

    assert post(client, stranger).status_code == 202
    assert repository.get_agent(engine, "nobody") is None


@pytest.mark.parametrize(
    ("secret", "age", "match"),
    [
        ("wrong-secret", 0, "signature"),
        (SECRET, wire.MAX_SKEW_SECONDS + 30, "window"),
        (SECRET, -(wire.MAX_SKEW_SECONDS + 30), "window"),
    ],
)
def test_bad_signature_or_stale_timestamp_is_401(client, engine, secret, age, match):
    response = post(client, event("ready"), secret=secret, now=time.time() - age)

    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "UNAUTHORIZED" and match in error["message"]
    assert repository.get_agent(engine, "agent-1")["status"] == "awaiting_qr"


def test_unsigned_or_tampered_events_are_401(client, engine):
    body = json.dumps(event("ready").to_wire()).encode()
    headers = wire.sign(body, SECRET, time.time())

    unsigned = client.post(wire.EVENTS_PATH, data=body, content_type="application/json")
    tampered = client.post(
        wire.EVENTS_PATH,
        data=body.replace(b"agent-1", b"agent-2"),
        headers=headers,
        content_type="application/json",
    )

    assert unsigned.status_code == 401 and tampered.status_code == 401
    assert repository.get_agent(engine, "agent-1")["status"] == "awaiting_qr"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"type": "ready"}', b'{"type": "exploded", "agentId": "a", "hostId": "h"}'],
)
def test_signed_but_malformed_events_are_400(client, engine, body):
    response = post(client, body)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "INVALID_PAYLOAD"


def test_an_event_that_could_not_be_applied_is_not_dropped_as_a_duplicate(make_app, engine, app):
    # given: an API process whose database is down, sharing Redis with a healthy one
    down = make_app(database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    ready = event("ready")

    first = post(down.test_client(), ready)
    retry = post(app.test_client(), ready)

    assert first.status_code == 503
    assert first.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert retry.status_code == 202 and retry.get_json()["duplicate"] is False
    assert repository.get_agent(engine, "agent-1")["status"] == "connected"

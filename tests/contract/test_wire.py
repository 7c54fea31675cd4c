"""Event signatures, JIDs, camelCase payloads and log redaction (pure functions)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from contract import events, logs
from contract.jid import InvalidJid, normalize_jid
from contract.jobs import DestroySession, JobName, enqueue
from contract.wire import iso

SECRET = "s3cret"
BODY = b'{"type":"ready","agentId":"a1","hostId":"h1"}'


def test_signed_body_verifies():
    headers = events.sign(BODY, SECRET, now=1000)

    events.verify(BODY, headers[events.TIMESTAMP_HEADER], headers[events.SIGNATURE_HEADER], SECRET, now=1100)


@pytest.mark.parametrize(
    ("body", "secret", "now", "match"),
    [
        (BODY + b" ", SECRET, 1000, "mismatch"),
        (BODY, "other", 1000, "mismatch"),
        (BODY, SECRET, 1000 + events.MAX_SKEW_SECONDS + 1, "window"),
        (BODY, SECRET, 1000 - events.MAX_SKEW_SECONDS - 1, "window"),
    ],
)
def test_tampered_wrong_secret_or_stale_events_are_refused(body, secret, now, match):
    headers = events.sign(BODY, SECRET, now=1000)

    with pytest.raises(events.InvalidSignature, match=match):
        events.verify(body, headers[events.TIMESTAMP_HEADER], headers[events.SIGNATURE_HEADER], secret, now)


def test_missing_or_malformed_headers_are_refused():
    with pytest.raises(events.InvalidSignature, match="missing"):
        events.verify(BODY, None, "abc", SECRET, 1000)
    with pytest.raises(events.InvalidSignature, match="malformed"):
        events.verify(BODY, "soon", "abc", SECRET, 1000)


def test_session_event_speaks_camel_case():
    event = events.SessionEvent(type=events.EventType.READY, agent_id="a1", host_id="h1")

    wire = event.to_wire()

    assert wire["agentId"] == "a1" and wire["hostId"] == "h1" and wire["type"] == "ready"
    assert events.SessionEvent.from_wire(json.loads(json.dumps(wire))) == event


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("6281234567890", "6281234567890@c.us"),
        ("+62 812-3456-7890", "6281234567890@c.us"),
        ("6281234567890@s.whatsapp.net", "6281234567890@c.us"),
        ("6281234567890@C.US", "6281234567890@c.us"),
        ("120363025246125888-1612345678@g.us", "120363025246125888-1612345678@g.us"),
        ("120363025246125888@g.us", "120363025246125888@g.us"),
        ("208512345678901@LID", "208512345678901@lid"),
    ],
)
def test_normalize_jid(given, expected):
    assert normalize_jid(given) == expected


GARBAGE = ["", "hello", "123", "62812@broadcast", "abc@c.us", "1-2345@c.us", "123@lid.example", "12-345@lid"]


@pytest.mark.parametrize("given", GARBAGE)
def test_normalize_jid_refuses_garbage(given):
    with pytest.raises(InvalidJid):
        normalize_jid(given)


def test_iso_is_utc_with_a_z():
    assert iso(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
    assert iso(None) is None


def test_enqueue_refuses_the_wrong_payload(redis_url):
    import redis

    raw = redis.Redis.from_url(redis_url)
    with pytest.raises(TypeError):
        enqueue(raw, JobName.ENSURE, DestroySession(agent_id="a1"), host_id="h1")
    with pytest.raises(ValueError, match="owning host"):
        enqueue(raw, JobName.DESTROY, DestroySession(agent_id="a1"))
    raw.close()


def test_logs_are_json_with_ids_and_no_secrets(capsys):
    logs.configure_logging("INFO", service="test")
    logs.reset(service="test")
    logs.bind(trace_id="t-1", agent_id="a1")

    logs.get_logger("x").info(
        "calling",
        apikey="k-123",
        headers={"Authorization": "Bearer tok-456"},
        note="sent Authorization: Bearer tok-789 upstream",
        admin_token="adm-1",
    )
    logging.getLogger("stdlib").warning("plain %s", "Bearer tok-000")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    logs.reset()
    assert [line["traceId"] for line in lines] == ["t-1", "t-1"]
    assert [line["agentId"] for line in lines] == ["a1", "a1"]
    text = json.dumps(lines)
    for secret in ("k-123", "tok-456", "tok-789", "adm-1", "tok-000"):
        assert secret not in text
    assert lines[0]["event"] == "calling"

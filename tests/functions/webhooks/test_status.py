"""Message status only moves forward, whatever order the reports come in (real Redis)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contract.wire import iso
from functions.message_status import MessageStatus, StatusStore


@pytest.fixture
def store(redis_client):
    return StatusStore(redis_client, ttl_seconds=3600)


def at(second: int) -> datetime:
    return datetime(2026, 1, 1, 12, 0, second, tzinfo=UTC)


def test_a_send_goes_pending_sent_delivered_read_with_timestamps(store):
    store.pending("a1", "job-1", chat_id="62811@c.us", kind="chat")
    assert store.get("a1", "job-1")["status"] == "pending"
    assert store.sent("a1", "job-1", "MSG1", at(1)).changed
    assert store.ack("a1", "MSG1", MessageStatus.DELIVERED, at(2)).changed
    assert store.ack("a1", "MSG1", MessageStatus.READ, at(3)).changed
    record = store.get("a1", "MSG1")
    assert record["status"] == "read"
    assert record["jobId"] == "job-1" and record["chatId"] == "62811@c.us" and record["direction"] == "out"
    assert set(record["timestamps"]) == {"pending", "sent", "delivered", "read"}
    assert record["timestamps"]["read"] == "2026-01-01T12:00:03.000Z"
    # the job id still finds it
    assert store.get("a1", "job-1")["messageId"] == "MSG1"


def test_late_and_duplicated_acks_never_move_the_status_back(store):
    store.pending("a1", "job-2", chat_id="c", kind="chat")
    store.sent("a1", "job-2", "MSG2", at(1))
    # read arrives before delivered, then delivered twice, then a repeated sent
    assert store.ack("a1", "MSG2", MessageStatus.READ, at(3)).changed
    assert not store.ack("a1", "MSG2", MessageStatus.DELIVERED, at(2)).changed
    assert not store.ack("a1", "MSG2", MessageStatus.DELIVERED, at(4)).changed
    assert not store.sent("a1", "job-2", "MSG2", at(5)).changed
    record = store.get("a1", "MSG2")
    assert record["status"] == "read"
    assert record["timestamps"]["delivered"] == "2026-01-01T12:00:02.000Z"


def test_failed_is_terminal_and_only_reached_from_pending(store):
    store.pending("a1", "job-3", chat_id="c", kind="chat")
    assert store.failed("a1", "job-3", "SESSION_NOT_READY").changed
    assert store.get("a1", "job-3")["status"] == "failed"
    assert not store.advance("wagw:msg:a1:job:job-3", MessageStatus.SENT).changed
    # a sent message cannot fail afterwards
    store.pending("a1", "job-4", chat_id="c", kind="chat")
    store.sent("a1", "job-4", "MSG4")
    assert not store.failed("a1", "job-4", "late").changed
    assert store.get("a1", "MSG4")["status"] == "sent"


def test_an_ack_that_overtakes_the_send_report_is_kept_and_the_report_fills_in(store, redis_client):
    store.pending("a1", "job-5", chat_id="62822@c.us", kind="chat")
    assert store.ack("a1", "MSG5", MessageStatus.DELIVERED, at(2), chat_id="62822@c.us").changed

    assert not store.sent("a1", "job-5", "MSG5", at(1)).changed

    record = store.get("a1", "MSG5")
    assert (record["status"], record["jobId"], record["type"]) == ("delivered", "job-5", "chat")
    assert record["timestamps"] == {
        "pending": record["timestamps"]["pending"],
        "sent": iso(at(1)),
        "delivered": iso(at(2)),
    }
    assert store.get("a1", "job-5")["messageId"] == "MSG5"


def test_inbound_messages_are_recorded_delivered_with_the_ttl(store, redis_client):
    store.received("a1", "IN1", chat_id="62822@c.us", kind="image", at=at(7))
    record = store.get("a1", "IN1")
    assert (record["status"], record["direction"], record["type"]) == ("delivered", "in", "image")
    assert 0 < redis_client.ttl("wagw:msg:a1:id:IN1") <= 3600

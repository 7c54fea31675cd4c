"""Per-chat mailboxes in a real Redis: de-duplication, leases, and finding abandoned chats."""

from __future__ import annotations

import json
import time

from functions.mailbox import BOXES_KEY, Chat, Mailboxes
from tests.support.waiting import wait_until

CHAT = Chat("agent-1", "6281111111111@c.us")


def entry(text: str, age: float = 0.0) -> str:
    return json.dumps({"queuedAt": time.time() - age, "text": text})


def test_a_message_id_is_accepted_once(redis_client):
    boxes = Mailboxes(redis_client)
    assert boxes.accept(CHAT, "m1", entry("first"))
    assert not boxes.accept(CHAT, "m1", entry("again"))
    assert boxes.pending(CHAT) == 1


def test_an_ignored_message_is_remembered_but_not_queued(redis_client):
    boxes = Mailboxes(redis_client)
    assert boxes.accept(CHAT, "m1", None)
    assert not boxes.accept(CHAT, "m1", entry("now as text"))
    assert boxes.pending(CHAT) == 0


def test_only_the_head_is_popped_and_in_order(redis_client):
    boxes = Mailboxes(redis_client)
    first, second = entry("1"), entry("2")
    boxes.accept(CHAT, "m1", first)
    boxes.accept(CHAT, "m2", second)
    assert not boxes.pop(CHAT, second)
    assert boxes.pop(CHAT, first)
    assert boxes.head(CHAT) == second


def test_a_lease_is_exclusive_renewed_and_released(redis_client):
    boxes = Mailboxes(redis_client)
    # A TTL of 1 s leaves the keeper (renewing every third of it) room on a loaded machine;
    # 0.3 s once lapsed mid-suite.
    lease = boxes.try_lease(CHAT, ttl_seconds=1.0)
    assert lease is not None
    try:
        assert boxes.try_lease(CHAT, ttl_seconds=1.0) is None
        # still held after more than two TTLs: the keeper renews it
        held_since = time.monotonic()
        wait_until(lambda: time.monotonic() - held_since > 2.2 or not redis_client.exists(CHAT.lease_key), 5)
        assert redis_client.exists(CHAT.lease_key)
    finally:
        lease.release()
    assert not redis_client.exists(CHAT.lease_key)
    assert boxes.try_lease(CHAT, ttl_seconds=0.3) is not None


def test_stale_chats_are_old_unleased_and_non_empty(redis_client):
    boxes = Mailboxes(redis_client)
    old, fresh, leased, garbage = (Chat("a", f"62811111111{i}@c.us") for i in range(4))
    boxes.accept(old, "m1", entry("old", age=30))
    boxes.accept(fresh, "m2", entry("fresh"))
    boxes.accept(leased, "m3", entry("leased", age=30))
    boxes.accept(garbage, "m4", "{not json")
    boxes.accept(CHAT, "m5", entry("done", age=30))
    boxes.pop(CHAT, boxes.head(CHAT))
    lease = boxes.try_lease(leased, ttl_seconds=30)
    try:
        assert set(boxes.stale_chats(older_than_seconds=10)) == {old, garbage}
    finally:
        lease.release()
    assert CHAT.member not in redis_client.smembers(BOXES_KEY)

"""Event delivery: signed, in order per agent, retried with backoff, never dropped silently."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis

from contract.events import EventType, SessionEvent
from session_host.outbox import DEAD_KEY, EventOutbox, outbox_key, pending_key
from tests.session_host.receiver import SECRET, Receiver, running_receiver
from tests.support.processes import free_port, start_redis
from tests.support.waiting import wait_until


def event(agent: str, reason: str) -> SessionEvent:
    return SessionEvent(type=EventType.DISCONNECTED, agent_id=agent, host_id="h1", reason=reason)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def make_outbox(client: redis.Redis, url: str, host: str = "h1", max_per_agent: int = 100) -> EventOutbox:
    return EventOutbox(client, host, url, SECRET, max_per_agent)


def test_events_arrive_signed_and_in_order_per_agent(redis_client: redis.Redis, receiver: Receiver) -> None:
    outbox = make_outbox(redis_client, receiver.url)
    outbox.start()
    try:
        for n in range(20):
            outbox.push(event("a1", f"a{n}"))
            outbox.push(event("a2", f"b{n}"))
        wait_until(lambda: len(receiver.events) == 40, 10)
        # The sender clears the agent's pending mark on its next look at the empty outbox.
        wait_until(lambda: not redis_client.sismember(pending_key("h1"), "a1"), 10)
    finally:
        outbox.stop()
    reasons = [e["reason"] for e in receiver.events]
    assert [r for r in reasons if r.startswith("a")] == [f"a{n}" for n in range(20)]
    assert [r for r in reasons if r.startswith("b")] == [f"b{n}" for n in range(20)]
    assert receiver.refused_signatures == 0
    assert redis_client.llen(outbox_key("a1")) == 0
    assert not redis_client.sismember(pending_key("h1"), "a1")


def test_transient_failures_are_retried_and_order_is_kept(
    redis_client: redis.Redis, receiver: Receiver
) -> None:
    receiver.replies = [503, 503, 503, 429]
    outbox = make_outbox(redis_client, receiver.url)
    outbox.start()
    try:
        outbox.push(event("a1", "first"))
        outbox.push(event("a1", "second"))
        wait_until(lambda: len(receiver.events) == 2, 20)
    finally:
        outbox.stop()
    assert [e["reason"] for e in receiver.events] == ["first", "second"]
    assert receiver.replies == []


def test_a_refused_event_is_dead_lettered_and_the_next_one_still_goes(
    redis_client: redis.Redis, receiver: Receiver
) -> None:
    receiver.replies = [400]
    outbox = make_outbox(redis_client, receiver.url)
    outbox.start()
    try:
        outbox.push(event("a1", "refused"))
        outbox.push(event("a1", "accepted"))
        wait_until(lambda: len(receiver.events) == 1, 10)
    finally:
        outbox.stop()
    assert receiver.events[0]["reason"] == "accepted"
    dead = redis_client.lrange(DEAD_KEY, 0, -1)
    assert len(dead) == 1 and '"refused"' in dead[0]
    assert redis_client.hget("wagw:metrics:counters", 'errors_total{kind="event_rejected"}') == "1"


def test_events_wait_in_redis_while_the_functions_are_down(redis_client: redis.Redis) -> None:
    # given a host whose functions do not answer: the event stays queued
    down = make_outbox(redis_client, f"http://127.0.0.1:{free_port()}")
    down.start()
    down.push(event("a1", "kept"))
    wait_until(lambda: redis_client.llen(outbox_key("a1")) == 1, 5)
    down.stop()

    # when another host adopts the dead host's outbox and the functions are back
    with running_receiver() as receiver:
        adopter = make_outbox(redis_client, receiver.url, host="h2")
        adopter.start()
        try:
            adopter.adopt("h1")
            wait_until(lambda: len(receiver.events) == 1, 10)
        finally:
            adopter.stop()
    assert receiver.events[0]["reason"] == "kept"
    assert redis_client.llen(outbox_key("a1")) == 0


def test_a_full_outbox_drops_its_oldest_events_loudly(redis_client: redis.Redis) -> None:
    outbox = make_outbox(redis_client, f"http://127.0.0.1:{free_port()}", max_per_agent=10)
    for n in range(15):
        outbox.push(event("a1", f"e{n}"))
    kept = [
        SessionEvent.model_validate_json(raw).reason for raw in redis_client.lrange(outbox_key("a1"), 0, -1)
    ]
    assert kept == [f"e{n}" for n in range(5, 15)]


def test_events_pushed_while_redis_is_away_are_held_and_delivered_in_order(
    run_dir, receiver: Receiver
) -> None:
    process, url = start_redis(run_dir, name=f"outbox-redis-{os.urandom(3).hex()}")
    processes = [process]
    client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=0.5)
    outbox = make_outbox(client, receiver.url, max_per_agent=3)
    outbox.start()
    try:
        outbox.push(event("a1", "before"))
        wait_until(lambda: len(receiver.events) == 1, 10)
        # when Redis goes away, pushes neither raise nor vanish: they wait in memory (bounded)
        assert process.stop() == 0
        for n in range(4):
            outbox.push(event("a1", f"held-{n}"))
        assert outbox.held() == 3  # EVENT_OUTBOX_MAX per agent: the oldest one was dropped
        # then, once Redis answers again (empty), they are stored and delivered in order
        processes.append(start_redis(run_dir, name="outbox-redis-again", port=urlsplit(url).port)[0])
        wait_until(lambda: len(receiver.events) == 4, 15)
    finally:
        outbox.stop()
        for proc in processes:
            proc.stop()
    assert [e["reason"] for e in receiver.events] == ["before", "held-1", "held-2", "held-3"]
    assert outbox.held() == 0

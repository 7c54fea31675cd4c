"""Delivery by real `python -m functions.worker` processes: a receiver down, a worker SIGKILLed."""

from __future__ import annotations

import base64
from collections import Counter

import pytest
import redis

from devstack.receiver import Receiver
from functions.app import create_app
from functions.webhooks import delivery
from functions.webhooks.fanout import get_emitter
from functions.webhooks.schema import EventType, WebhooksRequest
from tests.functions.inbound_stack import close_app, stack_settings, start_worker
from tests.support.waiting import wait_until

SECRET = "whsec_" + base64.b64encode(b"w" * 32).decode()


@pytest.fixture(scope="module")
def settings(redis_server, pg_url, run_dir):
    redis.Redis.from_url(redis_server).flushall()
    return stack_settings(
        redis_server,
        pg_url,
        "http://127.0.0.1:9",
        run_dir,
        webhook_url_allowlist="127.0.0.1",
        webhook_retry_schedule="0.5s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
        webhook_lease_seconds=1.0,
        webhook_sweep_seconds=0.2,
    )


@pytest.fixture(scope="module")
def app(settings):
    application = create_app(settings)
    yield application
    close_app(application)


@pytest.fixture
def receiver():
    server = Receiver(SECRET)
    yield server
    server.close()


def configure(app, agent_id: str, url: str) -> None:
    spec = WebhooksRequest.model_validate({"webhooks": [{"url": url, "events": ["*"], "secret": SECRET}]})
    delivery.Deps.of(app).registry.put(agent_id, spec.webhooks)


def test_a_receiver_failing_for_a_while_gets_every_event_in_order_with_stable_ids(
    app, settings, receiver, run_dir
):
    # given a receiver answering 500 and twenty events queued meanwhile
    configure(app, "down-agent", receiver.url)
    receiver.status = 500
    worker = start_worker(settings, run_dir, "webhooks-worker-retry")
    try:
        emitter = get_emitter(app)
        ids = [emitter.emit("down-agent", EventType.MESSAGE, f"m{i}", {"n": i}).id for i in range(20)]
        wait_until(lambda: len(receiver.all()) >= 3, 20, message="a few failed tries")
        # when it comes back
        receiver.status = 200
        # then every event arrives once, in order, under the id of its first try
        got = wait_until(lambda: len(r := receiver.accepted()) >= 20 and r, 30, message="all 20 delivered")
        assert [d.webhook_id for d in got] == ids
        assert all(d.verified for d in got)
        tried = {d.webhook_id for d in receiver.all() if d.status == 500}
        assert tried == {ids[0]}  # only the head was retried; the rest waited behind it
    finally:
        assert worker.stop() == 0, worker.log()[-2000:]


def test_a_worker_killed_during_a_burst_loses_nothing(app, settings, receiver, run_dir):
    # given 500 events being delivered by one worker
    configure(app, "burst-agent", receiver.url)
    doomed = start_worker(settings, run_dir, "webhooks-worker-doomed")
    emitter = get_emitter(app)
    ids = [emitter.emit("burst-agent", EventType.MESSAGE, f"b{i}", {"n": i}).id for i in range(500)]
    wait_until(lambda: len(receiver.accepted()) >= 50, 60, message="the burst under way")
    # when the worker is SIGKILLed mid-burst and another one starts
    doomed.kill()
    doomed.stop()
    successor = start_worker(settings, run_dir, "webhooks-worker-successor")
    try:
        # then all 500 arrive, duplicates only under the same id, in order of first arrival
        wait_until(lambda: len({d.webhook_id for d in receiver.accepted()}) >= 500, 120, message="all 500")
        got = receiver.accepted()
        counts = Counter(d.webhook_id for d in got)
        assert set(counts) == set(ids)
        assert sum(counts.values()) - 500 <= 1  # at most the one in flight when the worker died
        first_seen = list(dict.fromkeys(d.webhook_id for d in got))
        assert first_seen == ids
    finally:
        assert successor.stop() == 0, successor.log()[-2000:]

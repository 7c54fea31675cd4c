"""Fan-out and delivery in-process against real Redis and a local receiver: order, retries, give-up."""

from __future__ import annotations

import base64

import pytest
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry

from contract import jobs
from devstack.receiver import Receiver
from functions.app import create_app
from functions.webhooks import delivery
from functions.webhooks.fanout import box_for, get_emitter
from functions.webhooks.schema import EventType, WebhooksRequest
from tests.support.apps import close_app

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()


@pytest.fixture
def receiver():
    server = Receiver(SECRET)
    yield server
    server.close()


@pytest.fixture
def app(settings_factory):
    application = create_app(
        settings_factory(webhook_url_allowlist="127.0.0.1", webhook_retry_schedule="0s,0s")
    )
    yield application
    close_app(application)


def configure(app, agent_id: str, url: str, events=("*",)) -> str:
    spec = WebhooksRequest.model_validate(
        {"webhooks": [{"url": url, "events": list(events), "secret": SECRET}]}
    )
    return delivery.Deps.of(app).registry.put(agent_id, spec.webhooks)[0]["id"]


def drain(app, agent_id: str, receiver_id: str) -> dict:
    with app.app_context():
        return delivery.drain({"agentId": agent_id, "receiverId": receiver_id})


def test_events_arrive_signed_once_and_in_order_with_a_sequence(app, receiver):
    rid = configure(app, "a1", receiver.url)
    emitter = get_emitter(app)
    first = emitter.emit("a1", EventType.MESSAGE, "m1", {"id": "m1"})
    assert emitter.emit("a1", EventType.MESSAGE, "m1", {"id": "m1"}) is None  # the same event again
    emitter.emit("a1", EventType.MESSAGE_ACK, "m1:read", {"id": "m1", "status": "read"})
    assert (
        emitter.emit("a1", EventType.MESSAGE, "m2", {})
        and emitter.emit("other", EventType.MESSAGE, "x", {}) is None
    )
    assert drain(app, "a1", rid) == {"delivered": 3}
    got = receiver.accepted()
    assert [d.body["type"] for d in got] == ["message", "message.ack", "message"]
    assert [d.body["sequence"] for d in got] == [1, 2, 3]
    assert all(d.verified for d in got)
    assert got[0].webhook_id == first.id == got[0].body["id"]
    assert set(got[1].body) == {"id", "type", "agentId", "timestamp", "sequence", "data"}


def test_a_failing_receiver_holds_the_order_and_keeps_the_webhook_id(app, receiver):
    rid = configure(app, "a2", receiver.url)
    emitter = get_emitter(app)
    emitter.emit("a2", EventType.MESSAGE, "m1", {"n": 1})
    emitter.emit("a2", EventType.MESSAGE, "m2", {"n": 2})
    receiver.status = 503
    assert drain(app, "a2", rid)["waiting"] is True
    assert drain(app, "a2", rid)["waiting"] is True  # tried again (retry 0 s): still the head
    receiver.status = 200
    assert drain(app, "a2", rid) == {"delivered": 2}
    ids = [d.webhook_id for d in receiver.all()]
    assert ids[0] == ids[1] == ids[2] != ids[3]
    assert [d.body["data"]["n"] for d in receiver.accepted()] == [1, 2]


def test_a_receiver_answering_404_is_not_retried_and_lands_in_the_failed_registry(app, receiver):
    rid = configure(app, "a3", receiver.url)
    get_emitter(app).emit("a3", EventType.MESSAGE, "m1", {"n": 1})
    receiver.status = 404
    assert drain(app, "a3", rid) == {"delivered": 1}
    assert len(receiver.all()) == 1
    raw = app.extensions["redis_rq"]
    failed = FailedJobRegistry(jobs.WEBHOOKS_QUEUE, connection=raw, serializer=jobs.SERIALIZER)
    [job_id] = failed.get_job_ids()
    assert job_id.startswith(f"webhook-{receiver.all()[0].webhook_id}")
    counters = app.extensions["redis"].hgetall("wagw:metrics:counters")
    assert counters['webhook_deliveries_total{result="failed"}'] == "1"
    assert counters["webhook_failures_total"] == "1"
    # requeueing the failed job delivers the same event again (an RQ worker runs it and the drain)
    receiver.status = 200
    failed.requeue(job_id)
    queue = Queue(jobs.WEBHOOKS_QUEUE, connection=raw, serializer=jobs.SERIALIZER)
    with app.app_context():
        SimpleWorker([queue], connection=raw, serializer=jobs.SERIALIZER).work(burst=True)
    assert receiver.accepted()[0].webhook_id == receiver.all()[0].webhook_id


def test_a_retry_schedule_run_out_gives_up(app, receiver):
    rid = configure(app, "a4", receiver.url)
    get_emitter(app).emit("a4", EventType.MESSAGE, "m1", {})
    receiver.status = 500
    results = [drain(app, "a4", rid) for _ in range(3)]
    assert results == [{"delivered": 0, "waiting": True}, {"delivered": 0, "waiting": True}, {"delivered": 1}]
    assert len(receiver.all()) == 3
    assert delivery.Deps.of(app).boxes.pending(box_for("a4", rid)) == 0

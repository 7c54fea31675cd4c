"""Nothing lost, nothing twice: a worker SIGKILLed mid-message, replays of an answered message."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import redis

from contract import jobs
from contract.events import InboundMessage
from functions import inbound
from functions.app import create_app
from functions.mailbox import Chat
from tests.functions.inbound_stack import (
    close_app,
    new_agent,
    post_message,
    settings_env,
    stack_settings,
    start_worker,
)
from tests.support.inbound import message, sends, start_ai_backend
from tests.support.processes import PYTHON, ROOT
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def ai_backend(run_dir):
    backend = start_ai_backend(run_dir, "ai-backend-recovery-tests")
    yield backend
    backend.process.stop()


@pytest.fixture(scope="module")
def settings(redis_server, pg_url, ai_backend, run_dir):
    redis.Redis.from_url(redis_server).flushall()
    return stack_settings(redis_server, pg_url, ai_backend.url, run_dir, ai_timeout_seconds=10.0)


@pytest.fixture(scope="module")
def app(settings):
    application = create_app(settings)
    yield application
    close_app(application)


@pytest.fixture(scope="module")
def raw(settings):
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


def test_a_worker_killed_mid_message_leaves_it_to_be_answered_once_in_order(
    app, raw, settings, ai_backend, run_dir
):
    # given a worker busy on a slow AI call
    agent_id, _ = new_agent(settings, ai_backend.url)
    ai_backend.behave(agent_id, delaySeconds=3)
    first = start_worker(settings, run_dir, "inbound-worker-doomed")
    client = app.test_client()
    post_message(client, agent_id, message("first", sender="6281555000111@c.us"))
    wait_until(lambda: ai_backend.received(agent_id), 10, message="the AI call started")
    # when the worker dies mid-call, the chat gets another message, and a new worker starts
    first.kill()
    first.stop()  # closes its log file; it is already dead
    ai_backend.behave(agent_id, delaySeconds=0)
    post_message(client, agent_id, message("second", sender="6281555000111@c.us"))
    second = start_worker(settings, run_dir, "inbound-worker-successor")
    try:
        # then both are answered, once each, in order
        found = wait_until(lambda: len(s := sends(raw, agent_id)) >= 2 and s, 20, message="two replies")
        assert [s["text"] for s in found] == ["Echo: first", "Echo: second"]
        inputs = [r["body"]["input"] for r in ai_backend.received(agent_id)]
        assert inputs == ["first", "first", "second"]
    finally:
        assert second.stop() == 0, second.log()[-2000:]


def test_handling_an_answered_message_again_sends_nothing(app, raw, settings, ai_backend):
    # given a message already answered
    agent_id, _ = new_agent(settings, ai_backend.url)
    msg = message("once")
    entry = inbound.Entry.parse(inbound.entry_for(msg, agent_id, "trace-once"))
    with app.app_context():
        deps = inbound.Deps.of(app)
        assert inbound.handle(deps, entry) == "replied"
        # when a second worker replays it (its lease lapsed, say)
        outcome = inbound.handle(deps, entry)
    # then
    assert outcome == "already_done"
    assert len(sends(raw, agent_id)) == 1
    assert len(ai_backend.received(agent_id)) == 1


def test_an_unreadable_entry_does_not_block_its_chat(app, raw, settings, ai_backend, run_dir):
    # given a chat whose oldest entry is garbage
    agent_id, _ = new_agent(settings, ai_backend.url)
    sender = "6281555000222@c.us"
    with app.app_context():
        deps = inbound.Deps.of(app)
        deps.mailboxes.accept(Chat(agent_id, sender), "garbage-id", "{not json")
    worker = start_worker(settings, run_dir, "inbound-worker-garbage")
    try:
        # when a real message follows
        post_message(app.test_client(), agent_id, message("after garbage", sender=sender))
        # then it is answered
        found = wait_until(lambda: sends(raw, agent_id), 10, message="reply after garbage")
        assert [s["text"] for s in found] == ["Echo: after garbage"]
    finally:
        assert worker.stop() == 0, worker.log()[-2000:]


def test_the_message_model_round_trips_through_a_mailbox_entry():
    msg = message("round trip", mentioned_ids=["6280000000001@c.us"])
    entry = inbound.Entry.parse(inbound.entry_for(msg, "a-1", "t-1"))
    assert entry.message == InboundMessage.from_wire(msg.to_wire())
    assert (entry.agent_id, entry.trace_id, entry.reply_chat) == ("a-1", "t-1", msg.chat_id)


def test_a_plain_rq_worker_also_answers(app, raw, settings, ai_backend, run_dir):
    # given a queued message and no inbound worker running
    agent_id, _ = new_agent(settings, ai_backend.url)
    post_message(app.test_client(), agent_id, message("via rq's own cli"))
    # when rq's forking worker drains the queue once
    args = [str(Path(PYTHON).with_name("rq")), "worker", "--burst", "--url", settings.redis_url]
    args += ["--serializer", "rq.serializers.JSONSerializer", jobs.INBOUND_QUEUE]
    done = subprocess.run(
        args, env=settings_env(settings), cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    # then
    assert done.returncode == 0, done.stdout + done.stderr
    assert [s["text"] for s in sends(raw, agent_id)] == ["Echo: via rq's own cli"]

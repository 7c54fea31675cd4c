"""Inbound flow up to the host boundary: signed events in, real workers, the demo AI, jobs out.

Real Redis, PostgreSQL, two `python -m functions.worker` processes and the demo AI backend
process; the session host's side is read off the agent queues.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
import redis

from contract import jobs, metrics
from functions.app import create_app
from functions.inbound import IGNORED
from tests.functions.inbound_stack import (
    DEVELOPER,
    close_app,
    inbound_backlog,
    new_agent,
    post_message,
    stack_settings,
    start_worker,
)
from tests.support.inbound import BOT, agent_jobs, message, sends, start_ai_backend
from tests.support.waiting import wait_until

GROUP = "120363000000000001@g.us"


@pytest.fixture(scope="module")
def ai_backend(run_dir):
    backend = start_ai_backend(run_dir, "ai-backend-worker-tests")
    yield backend
    backend.process.stop()


@pytest.fixture(scope="module")
def settings(redis_server, pg_url, ai_backend, run_dir):
    redis.Redis.from_url(redis_server).flushall()
    return stack_settings(redis_server, pg_url, ai_backend.url, run_dir)


@pytest.fixture(scope="module")
def workers(settings, run_dir):
    started = [start_worker(settings, run_dir, f"inbound-worker-{i}") for i in range(2)]
    yield started
    for process in started:
        assert process.stop() == 0, process.log()[-2000:]


@pytest.fixture(scope="module")
def api(settings, workers):
    app = create_app(settings)
    yield app.test_client()
    close_app(app)


@pytest.fixture(scope="module")
def raw(settings):
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def state(settings):
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def agent(settings, ai_backend):
    return new_agent(settings, ai_backend.url)


def counter(state: redis.Redis, name: str, labels: dict[str, str] | None = None) -> int:
    return int(state.hget(metrics.COUNTERS_KEY, metrics.series(name, labels)) or 0)


def typing_offs(raw, agent_id: str) -> int:
    return sum(1 for name, p in agent_jobs(raw, agent_id) if name == jobs.JobName.TYPING and not p["typing"])


def wait_for_sends(raw, agent_id: str, count: int, timeout: float = 15) -> list[dict]:
    return wait_until(
        lambda: (found := sends(raw, agent_id)) and len(found) >= count and found,
        timeout,
        message=f"{count} send_text jobs for {agent_id}",
    )


def test_a_direct_message_is_answered_with_the_ai_reply(api, raw, ai_backend, agent):
    # given
    agent_id, api_key = agent
    msg = message("Halo, ada promo?", sender="6281234567890@c.us")
    # when
    post_message(api, agent_id, msg)
    # then the chat is marked read, and the reply goes back to it between typing on and off
    wait_for_sends(raw, agent_id, 1)
    wait_until(lambda: len(agent_jobs(raw, agent_id)) == 4, 5, message="typing off queued")
    names = [name for name, _ in agent_jobs(raw, agent_id)]
    assert names == [jobs.JobName.MARK_SEEN, jobs.JobName.TYPING, jobs.JobName.SEND_TEXT, jobs.JobName.TYPING]
    seen, typing_on, reply, typing_off = (payload for _, payload in agent_jobs(raw, agent_id))
    assert seen["chatId"] == typing_on["chatId"] == typing_off["chatId"] == "6281234567890@c.us"
    assert (typing_on["typing"], typing_off["typing"]) == (True, False)
    assert reply["to"] == "6281234567890@c.us"
    assert reply["text"] == "Echo: Halo, ada promo?"
    assert reply["quotedMessageId"] is None
    # and the AI saw the text, the sender as session, the metadata and the agent's key
    (request,) = ai_backend.received(agent_id)
    assert request["authorization"] == f"Bearer {api_key}"
    assert request["body"]["input"] == "Halo, ada promo?"
    assert request["body"]["session_id"] == "6281234567890@c.us"
    assert request["body"]["metadata"]["messageId"] == msg.id
    assert request["body"]["metadata"]["whatsappName"] == "Budi"
    assert request["body"]["metadata"]["traceId"] == reply["traceId"]


def test_a_group_mention_is_answered_quoting_the_message(api, raw, agent):
    agent_id, _ = agent
    msg = message("@bot what time is it?", group=GROUP, mentioned_ids=[BOT])
    post_message(api, agent_id, msg)
    (reply,) = wait_for_sends(raw, agent_id, 1)
    assert reply["to"] == GROUP
    assert reply["quotedMessageId"] == msg.id


def test_ignored_messages_never_reach_the_ai_and_are_counted(api, raw, state, ai_backend, agent):
    # given
    agent_id, _ = agent
    before = {r: counter(state, IGNORED, {"reason": r}) for r in ("status", "from_me", "not_text")}
    received_before = counter(state, metrics.MESSAGES_RECEIVED)
    backlog_before = inbound_backlog(raw)
    ignored = [
        message("story", chat_id="status@broadcast", is_status=True),
        message("mine", from_me=True),
        message("", type="image"),
        message("hi all", group=GROUP),
    ]
    # when
    for msg in ignored:
        post_message(api, agent_id, msg)
    # then nothing was queued for a worker, and a later message is the AI's only request
    assert inbound_backlog(raw) == backlog_before
    post_message(api, agent_id, message("real question"))
    wait_for_sends(raw, agent_id, 1)
    assert [r["body"]["input"] for r in ai_backend.received(agent_id)] == ["real question"]
    for reason in ("status", "from_me", "not_text"):
        assert counter(state, IGNORED, {"reason": reason}) == before[reason] + 1
    assert counter(state, metrics.MESSAGES_RECEIVED) == received_before + 5


def test_a_message_delivered_twice_is_answered_once(api, raw, ai_backend, agent):
    # given
    agent_id, _ = agent
    msg = message("only once please")
    # when the same event arrives twice, and the same message again under a new event id
    first = post_message(api, agent_id, msg, event_id="evt-dup-1-" + agent_id)
    again = post_message(api, agent_id, msg, event_id="evt-dup-1-" + agent_id)
    other = post_message(api, agent_id, msg)
    # then
    assert (first["duplicate"], again["duplicate"], other["duplicate"]) == (False, True, False)
    post_message(api, agent_id, message("a later one"))
    found = wait_for_sends(raw, agent_id, 2)
    assert [s["text"] for s in found] == ["Echo: only once please", "Echo: a later one"]
    assert len(ai_backend.received(agent_id)) == 2


def test_an_empty_ai_reply_sends_nothing_but_clears_typing(api, raw, ai_backend, agent):
    agent_id, _ = agent
    ai_backend.behave(agent_id, reply="")
    post_message(api, agent_id, message("say nothing"))
    wait_until(lambda: len(agent_jobs(raw, agent_id)) == 3, 10, message="seen, typing on and off")
    assert [p.get("typing") for _, p in agent_jobs(raw, agent_id)] == [None, True, False]
    assert sends(raw, agent_id) == []


@pytest.mark.parametrize(
    ("behaviour", "code"),
    [({"delaySeconds": 3}, "AI_TIMEOUT"), ({"status": 500}, "AI_DOWNSTREAM_ERROR")],
)
def test_an_ai_failure_alerts_the_developer_once_per_window(
    api, raw, state, ai_backend, agent, behaviour, code
):
    # given
    agent_id, _ = agent
    ai_backend.behave(agent_id, **behaviour)
    errors_before = counter(state, metrics.ERRORS, {"code": code})
    first = message("are you there?", sender="6287777777777@c.us")
    # when
    post_message(api, agent_id, first)
    # then typing is cleared and the developer gets the four fields
    (alert,) = wait_for_sends(raw, agent_id, 1)
    assert alert["to"] == DEVELOPER
    lines = alert["text"].splitlines()
    assert f"agent: {agent_id}" in lines
    assert "from: 6287777777777@c.us" in lines
    assert any(line.startswith(f"reason: {code}") for line in lines)
    assert f"traceId: {alert['traceId']}" in lines
    assert typing_offs(raw, agent_id) == 1
    # and a second failure in the same window is counted but not alerted again
    post_message(api, agent_id, message("hello??", sender="6287777777777@c.us"))
    wait_until(lambda: counter(state, metrics.ERRORS, {"code": code}) == errors_before + 2, 15)
    wait_until(lambda: typing_offs(raw, agent_id) == 2, 5, message="typing off again")
    assert len(sends(raw, agent_id)) == 1


def test_many_messages_are_answered_once_each_in_order_per_chat(api, raw, ai_backend, settings):
    # given three agents, two chats each, twenty messages per chat, interleaved
    agents = [new_agent(settings, ai_backend.url)[0] for _ in range(3)]
    chats = ["6281000000001@c.us", "6281000000002@c.us"]
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)
    # when
    for n in range(20):
        for agent_id in agents:
            for chat in chats:
                text = f"{chat[:13]} #{n}"
                post_message(api, agent_id, message(text, sender=chat))
                expected[(agent_id, chat)].append(f"Echo: {text}")
    # then
    for agent_id in agents:
        found = wait_for_sends(raw, agent_id, 40, timeout=60)
        assert len(found) == 40
        for chat in chats:
            assert [s["text"] for s in found if s["to"] == chat] == expected[(agent_id, chat)]


def test_metrics_show_received_ignored_errors_and_ai_latency(api, raw, state, settings, ai_backend, agent):
    # given one answered, one ignored and one failed message
    agent_id, _ = agent
    failing, _ = new_agent(settings, ai_backend.url)
    ai_backend.behave(failing, status=503)
    errors_before = counter(state, metrics.ERRORS, {"code": "AI_DOWNSTREAM_ERROR"})
    post_message(api, agent_id, message("metrics please"))
    post_message(api, agent_id, message("mine", from_me=True))
    post_message(api, failing, message("this fails"))
    wait_for_sends(raw, agent_id, 1)
    wait_for_sends(raw, failing, 1)
    # when
    text = api.get("/metrics").get_data(as_text=True)
    # then
    values = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert int(values["messages_received_total"]) >= 3
    assert int(values['messages_ignored_total{reason="from_me"}']) >= 1
    assert int(values['errors_total{code="AI_DOWNSTREAM_ERROR"}']) == errors_before + 1
    assert int(values["ai_latency_seconds_count"]) >= 2

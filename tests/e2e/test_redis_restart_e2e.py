"""Redis restarted empty under running sessions: the hosts re-assert themselves, no QR asked."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import redis
import requests

from contract import keys
from devstack.process import wait_until
from devstack.stack import Stack, inbound_stack
from tests.e2e.conftest import chrome_processes, fresh_stack

pytestmark = pytest.mark.e2e

AGENTS = {"agent-heal-1": ("6281255500101", "key-heal-1"), "agent-heal-2": ("6281255500102", "key-heal-2")}
NEW_AGENT, NEW_PHONE, NEW_KEY = "agent-heal-3", "6281255500103", "key-heal-3"
PEER = "6289811122244"
# The stack's host settings (devstack.stack): a heartbeat every second, takeover after 6 s.
HOST_TTL_SECONDS, HEARTBEAT_SECONDS = 6, 1


# One stack per test (each stops when its test ends): the two never run side by side.
@pytest.fixture
def healed(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    with fresh_stack(tmp_path_factory, pg_url) as stack:
        yield stack


def _browser(stack: Stack, agent_id: str) -> int:
    """Return the pid of the Chrome browser process (the oldest) running an agent's profile."""
    processes = chrome_processes(stack.auth_dir / f"session-{agent_id}")
    assert processes, agent_id
    return min(processes, key=lambda p: p.create_time()).pid


def _send(stack: Stack, agent_id: str, text: str) -> int:
    _, api_key = AGENTS[agent_id]
    response = stack.api(
        "POST",
        f"/agents/{agent_id}/messages",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"to": PEER, "message": text},
        timeout=30,
    )
    return response.status_code


def test_an_empty_redis_is_healed_by_the_hosts_without_a_qr(healed: Stack) -> None:
    stack = healed
    # given two agents linked on one host
    for agent_id, (phone, api_key) in AGENTS.items():
        stack.link(agent_id, phone, api_key)
    qrs_before = {
        agent_id: stack.sim("GET", f"/control/accounts/{phone}") for agent_id, (phone, _) in AGENTS.items()
    }
    browsers = {agent_id: _browser(stack, agent_id) for agent_id in AGENTS}

    # when Redis restarts with nothing in it
    stack.restart_redis(keep_data=False)
    restarted = time.monotonic()

    # then within a host TTL and a heartbeat, sends to both agents are delivered
    deadline = HOST_TTL_SECONDS + HEARTBEAT_SECONDS + 10  # + slack for a loaded machine
    for agent_id in AGENTS:
        text = f"after the restart to {agent_id}"
        wait_until(lambda a=agent_id, t=text: _send(stack, a, t) == 200, deadline, interval=0.5)
    recovered = time.monotonic() - restarted
    for agent_id, (phone, _) in AGENTS.items():
        texts = [m["text"] for m in stack.sent(phone)]
        assert texts.count(f"after the restart to {agent_id}") == 1, texts
        body = stack.session(agent_id)
        assert body["status"] == "connected"
        assert body["liveState"]["sessionState"] == "connected"
        assert body["liveState"]["isReady"] is True and body["liveState"]["qr"] is None
        assert body["linkedPhone"] == phone
        # the same Chrome as before the restart: the session was never reopened
        assert _browser(stack, agent_id) == browsers[agent_id]
    for agent_id, (phone, _) in AGENTS.items():
        account = stack.sim("GET", f"/control/accounts/{phone}")
        assert account["deviceId"] == qrs_before[agent_id]["deviceId"]
    assert recovered < deadline
    # and the host counted its reconnects
    host_metrics = requests.get(stack.metrics_url("host-a"), timeout=10).text
    assert re.search(r"^wagw_host_redis_reconnects_total [1-9]", host_metrics, re.M), host_metrics

    # and a new agent can be created and linked on the same host
    linked = stack.link(NEW_AGENT, NEW_PHONE, NEW_KEY)
    assert linked["liveState"]["isReady"] is True


@pytest.fixture
def two_hosts(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    with fresh_stack(tmp_path_factory, pg_url, hosts=("host-a", "host-b")) as stack:
        yield stack


def _browsers(stack: Stack, agent_id: str) -> list[int]:
    """Return the pids of Chrome browser processes (not renderers or helpers) on a profile."""
    processes = chrome_processes(stack.auth_dir / f"session-{agent_id}")
    return [p.pid for p in processes if not any(arg.startswith("--type=") for arg in p.cmdline())]


def test_two_hosts_after_an_empty_redis_each_agent_has_one_owner_and_one_chrome(two_hosts: Stack) -> None:
    stack = two_hosts
    # given two agents, placed one per host (the freest host, lowest id first)
    owners = {}
    for agent_id, (phone, api_key) in AGENTS.items():
        owners[agent_id] = stack.link(agent_id, phone, api_key)["liveState"]["host"]
    assert sorted(owners.values()) == ["host-a", "host-b"]

    # when Redis restarts empty
    stack.restart_redis(keep_data=False)

    # then every agent is owned again by the host that runs it, with exactly one Chrome
    registry = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    try:
        for agent_id in AGENTS:
            wait_until(lambda a=agent_id: registry.get(keys.owner(a)) == owners[a], 20, interval=0.2)
            assert registry.sismember(keys.host_agents(owners[agent_id]), agent_id)
            assert len(_browsers(stack, agent_id)) == 1
            state = stack.wait_state(agent_id, lambda s: s["isReady"], 20)
            assert state["liveState"]["host"] == owners[agent_id]
        # and both hosts count as live again: a third agent can be placed
        assert len(registry.zrange(keys.HOSTS_KEY, 0, -1)) == 2
        stack.link(NEW_AGENT, NEW_PHONE, NEW_KEY)
    finally:
        registry.close()


@pytest.fixture
def slow_limiter(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    # One send per 4 s after the first, and answers after 1 s: sends queue behind the limiter.
    api = {"rate_limit_per_minute": 15, "rate_limit_burst": 1, "send_wait_seconds": 1}
    with fresh_stack(tmp_path_factory, pg_url, api=api) as stack:
        yield stack


def test_sends_queued_behind_the_limiter_survive_a_restart_with_the_append_only_file(
    slow_limiter: Stack,
) -> None:
    stack = slow_limiter
    agent_id = "agent-heal-1"
    phone, api_key = AGENTS[agent_id]
    stack.link(agent_id, phone, api_key)
    texts = [f"queued {n}" for n in range(4)]
    # given four sends, most waiting for their slot (202 with a job id)
    answers = [_send(stack, agent_id, text) for text in texts]
    assert set(answers) <= {200, 202} and 202 in answers, answers
    # when Redis restarts from its append-only file before they are all due
    stack.restart_redis(keep_data=True)
    # then every one is delivered, exactly once, in order
    wait_until(lambda: len([m for m in stack.sent(phone) if m["text"] in texts]) >= 4, 40, interval=0.5)
    delivered = [m["text"] for m in stack.sent(phone) if m["text"] in texts]
    assert delivered == texts


@pytest.fixture
def inbound_without_workers(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    # The demo AI and no inbound worker yet: an accepted message waits in Redis for one.
    with inbound_stack(tmp_path_factory.mktemp("heal-inbound"), pg_url, workers=0) as (stack, _ai, _workers):
        yield stack


def test_an_inbound_message_accepted_before_a_restart_with_the_append_only_file_is_answered_once(
    inbound_without_workers: Stack,
) -> None:
    stack = inbound_without_workers
    agent_id = "agent-heal-1"
    phone, api_key = AGENTS[agent_id]
    stack.link(agent_id, phone, api_key)
    client = redis.Redis.from_url(stack.redis_url)
    pending = keys.boxes(keys.INBOUND_PREFIX)
    # given a message the gateway accepted (in its chat's mailbox) but nobody answered yet
    stack.sim("POST", f"/control/accounts/{phone}/inbound", json={"from": PEER, "body": "sebelum restart"})
    wait_until(lambda: client.scard(pending) == 1, 30, message="the message is accepted")
    client.close()
    # when Redis restarts from its append-only file and a worker starts afterwards
    stack.restart_redis(keep_data=True)
    stack.workers.start(1)
    # then the user gets the AI's answer exactly once, and nothing is left to answer
    peer = f"{PEER}@c.us"
    wait_until(lambda: [m for m in stack.sent(phone) if m["to"] == peer], 60, message="the reply")
    client = redis.Redis.from_url(stack.redis_url)
    try:
        wait_until(lambda: client.scard(pending) == 0, 30, message="the mailbox is drained")
    finally:
        client.close()
    replies = [m["text"] for m in stack.sent(phone) if m["to"] == peer]
    assert replies == ["Echo: sebelum restart"]
    assert [r["body"]["input"] for r in stack.ai.received(agent_id)] == ["sebelum restart"]

"""Redis restarted empty under running sessions: the hosts re-assert themselves, no QR asked."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from devstack.process import wait_until
from devstack.stack import Stack
from tests.e2e.conftest import chrome_processes, fresh_stack

pytestmark = pytest.mark.e2e

AGENTS = {"agent-heal-1": ("6281255500101", "key-heal-1"), "agent-heal-2": ("6281255500102", "key-heal-2")}
NEW_AGENT, NEW_PHONE, NEW_KEY = "agent-heal-3", "6281255500103", "key-heal-3"
PEER = "6289811122244"
# The stack's host settings (devstack.stack): a heartbeat every second, takeover after 6 s.
HOST_TTL_SECONDS, HEARTBEAT_SECONDS = 6, 1


@pytest.fixture(scope="module")
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
        # the same Chrome as before the restart: the session was never reopened
        assert _browser(stack, agent_id) == browsers[agent_id]
    for agent_id, (phone, _) in AGENTS.items():
        account = stack.sim("GET", f"/control/accounts/{phone}")
        assert account["deviceId"] == qrs_before[agent_id]["deviceId"]
    assert recovered < deadline

    # and a new agent can be created and linked on the same host
    linked = stack.link(NEW_AGENT, NEW_PHONE, NEW_KEY)
    assert linked["liveState"]["isReady"] is True

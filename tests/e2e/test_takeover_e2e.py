"""Two session hosts: when one dies, the other takes its agents over without a QR or a lost send."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from devstack.process import wait_until
from devstack.stack import Stack
from tests.e2e.conftest import chrome_processes, fresh_stack

pytestmark = pytest.mark.e2e

AGENT = "agent-takeover"
PHONE = "6281255500001"
API_KEY = "key-takeover"
PEER = "6289811122233"


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    """A stack with two session hosts sharing one auth directory."""
    with fresh_stack(tmp_path_factory, pg_url, hosts=("host-a", "host-b")) as stack:
        yield stack


def test_a_dead_hosts_agent_is_taken_over_without_qr_and_no_queued_send_is_lost(two_hosts: Stack) -> None:
    stack = two_hosts
    # given an agent linked on host-a (most free capacity, lowest id)
    linked = stack.link(AGENT, PHONE, API_KEY)
    assert linked["liveState"]["host"] == "host-a"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    # (a host that dies within seconds of the first page load may not have written the
    # profile yet; wait until the page's device id is on disk, as it is in steady state)
    device_id = stack.sim("GET", f"/control/accounts/{PHONE}")["deviceId"].encode()
    storage = stack.auth_dir / f"session-{AGENT}" / "Default" / "Local Storage" / "leveldb"
    wait_until(lambda: any(device_id in f.read_bytes() for f in storage.glob("*") if f.is_file()), 30)

    # when host-a dies with everything it started (a machine lost), and a send is made meanwhile
    stack.host("host-a").kill()
    wait_until(lambda: not chrome_processes(stack.auth_dir / f"session-{AGENT}"), 10, message="chrome gone")
    answers: list[requests.Response] = []

    def send() -> None:
        body = {"to": PEER, "message": "sent while the host was dead"}
        answers.append(stack.api("POST", f"/agents/{AGENT}/messages", headers=headers, json=body))

    sender = threading.Thread(target=send)
    sender.start()

    # then host-b claims the agent, restores the saved login without a QR, and delivers the send
    taken = stack.wait_state(AGENT, lambda s: s["host"] == "host-b" and s["isReady"], 60)
    assert taken["liveState"]["qr"] is None
    sender.join(60)
    wait_until(lambda: any(m["text"] == "sent while the host was dead" for m in stack.sent(PHONE)), 30)
    assert [m["text"] for m in stack.sent(PHONE)].count("sent while the host was dead") == 1
    assert answers and answers[0].status_code in (200, 202), answers and answers[0].text

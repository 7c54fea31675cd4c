"""The gateway end to end: API → session host → Chromium → simulator, all real processes.

The tests run in file order and build on each other like one operator session: link an
agent, send through it, restart the host, crash its Chrome, delete it, then scale out.
"""

from __future__ import annotations

import base64
import http.server
import io
import json
import signal
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import redis
import zxingcpp
from PIL import Image

from contract.live import live_channel
from devstack.process import free_port, wait_pid_gone, wait_until
from devstack.stack import Stack
from tests.e2e.conftest import chrome_main, chrome_processes

pytestmark = pytest.mark.e2e

AGENT = "agent-e2e"
PHONE = "6281200000001"
API_KEY = "key-e2e-1"
PEER = "6289876543210"
PEER_JID = f"{PEER}@c.us"


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


def send_text(stack: Stack, text: str, **extra: str):
    """POST /agents/{AGENT}/messages to the peer."""
    body = {"to": PEER, "message": text, **extra}
    return stack.api("POST", f"/agents/{AGENT}/messages", headers=auth(), json=body)


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Serve files over local HTTP (the outside world a media URL points to)."""
    root = tmp_path_factory.mktemp("media-www")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


class StateLog:
    """Every live-state change of an agent, as published on its Redis channel."""

    def __init__(self, redis_url: str, agent_id: str):
        self.states: list[str] = []
        self._pubsub = redis.Redis.from_url(redis_url, decode_responses=True).pubsub()
        self._pubsub.subscribe(live_channel(agent_id))
        confirmation = self._pubsub.get_message(timeout=5)
        assert confirmation and confirmation["type"] == "subscribe"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.1)
            if message and message["type"] == "message":
                self.states.append(json.loads(message["data"])["state"])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._pubsub.close()


def test_create_session_shows_the_simulators_qr_and_scanning_connects(stack: Stack) -> None:
    # given a fresh agent
    body = stack.create_session(AGENT, API_KEY)

    # then the response carries a QR PNG that decodes to what the simulator's page shows
    assert body["liveState"]["sessionState"] == "awaiting_qr"
    png = base64.b64decode(body["qr"]["base64"])
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [d.text for d in decoded] == [body["liveState"]["qr"]]
    device_qrs = [d["qr"] for d in stack.sim("GET", "/control/devices")]
    assert decoded[0].text in device_qrs

    # when the phone scans it
    stack.scan(decoded[0].text, PHONE)

    # then the session is connected and ready
    ready = stack.wait_state(AGENT, lambda s: s["isReady"], 30)
    assert ready["liveState"]["sessionState"] == "connected"
    wait_until(lambda: stack.session(AGENT)["status"] == "connected", 15, message="DB status connected")


def test_text_and_quoted_reply_reach_the_chat_exactly_once(stack: Stack) -> None:
    # when
    first = send_text(stack, "hello")
    assert first.status_code == 200, first.text
    quoted_id = stack.sent(PHONE)[-1]["id"]
    reply = send_text(stack, "a reply", quotedMessageId=quoted_id)
    assert reply.status_code == 200, reply.text

    # then
    sent = stack.sent(PHONE)
    assert [(m["to"], m["text"], m["quotedMsgId"]) for m in sent] == [
        (PEER_JID, "hello", None),
        (PEER_JID, "a reply", quoted_id),
    ]
    assert first.json()["delivered"] is True


def test_media_by_base64_and_by_url_arrive_with_name_and_size(stack: Stack, media_server) -> None:
    base_url, www = media_server
    pdf = b"%PDF-1.4 fake invoice " + bytes(range(256)) * 40
    (www / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000)

    by_data = stack.api(
        "POST",
        f"/agents/{AGENT}/media",
        headers=auth(),
        json={
            "to": PEER,
            "data": base64.b64encode(pdf).decode(),
            "filename": "invoice.pdf",
            "mimeType": "application/pdf",
            "caption": "Invoice #123",
        },
    )
    assert by_data.status_code == 200, by_data.text
    by_url = stack.api(
        "POST", f"/agents/{AGENT}/media", headers=auth(), json={"to": PEER, "url": f"{base_url}/photo.png"}
    )
    assert by_url.status_code == 200, by_url.text

    media = [m["media"] for m in stack.sent(PHONE)[-2:]]
    assert (media[0]["filename"], media[0]["size"]) == ("invoice.pdf", len(pdf))
    assert media[0]["caption"] == "Invoice #123"
    assert (media[1]["filename"], media[1]["size"], media[1]["mimetype"]) == ("photo.png", 5008, "image/png")


def test_host_restart_restores_the_session_without_a_qr(stack: Stack) -> None:
    states = StateLog(stack.redis_url, AGENT)
    try:
        # when the host stops cleanly and starts again
        assert stack.host("host-a").stop(timeout=60) == 0
        stack.start_host("host-a")

        # then the saved login comes back without a QR
        stack.wait_state(AGENT, lambda s: s["isReady"], 45)
    finally:
        states.close()
    assert "awaiting_qr" not in states.states
    assert states.states[-1] == "connected"
    sent = send_text(stack, "back")
    assert sent.status_code == 200, sent.text
    assert stack.sent(PHONE)[-1]["text"] == "back"


def test_a_killed_chrome_is_restarted_and_ready_again(stack: Stack) -> None:
    profile = stack.auth_dir / f"session-{AGENT}"
    browser = chrome_main(profile)
    states = StateLog(stack.redis_url, AGENT)
    try:
        # when Chrome dies under the session
        browser.send_signal(signal.SIGKILL)

        # then the host notices, reports it, and brings the session back by itself
        wait_until(lambda: "disconnected" in states.states, 20, message="disconnected reported")
        stack.wait_state(AGENT, lambda s: s["isReady"], 45)
    finally:
        states.close()
    assert chrome_main(profile).pid != browser.pid
    sent = send_text(stack, "again")
    assert sent.status_code == 200, sent.text


def test_delete_stops_chrome_and_removes_auth_files(stack: Stack) -> None:
    profile = stack.auth_dir / f"session-{AGENT}"
    pids = [p.pid for p in chrome_processes(profile)]
    assert pids and profile.is_dir()

    response = stack.api("DELETE", f"/sessions/{AGENT}?deleteAuth=true")

    assert response.status_code == 200, response.text
    assert response.json()["deleted"] is True
    wait_pid_gone(pids)
    assert chrome_processes(profile) == []
    assert not profile.exists()
    assert stack.api("GET", f"/sessions/{AGENT}").status_code == 404


def test_ten_agents_at_once_on_one_host(stack: Stack) -> None:
    agents = [f"agent-many-{i}" for i in range(10)]
    bodies: dict[str, dict] = {}

    def create(agent_id: str) -> None:
        bodies[agent_id] = stack.create_session(agent_id, f"key-{agent_id}")

    threads = [threading.Thread(target=create, args=(a,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(bodies[a]["liveState"]["sessionState"] == "awaiting_qr" for a in agents)
    for i, agent_id in enumerate(agents):
        stack.scan_current(agent_id, f"62813000000{i:02d}")
    for agent_id in agents:
        stack.wait_state(agent_id, lambda s: s["isReady"], 60)
    hosts = {stack.session(a)["liveState"]["host"] for a in agents}
    assert hosts == {"host-a"}
    for i, agent_id in enumerate(agents):
        headers = {"Authorization": f"Bearer key-{agent_id}"}
        body = {"to": PEER, "message": f"from {agent_id}"}
        response = stack.api("POST", f"/agents/{agent_id}/messages", headers=headers, json=body)
        assert response.status_code == 200, response.text
        assert stack.sent(f"62813000000{i:02d}")[-1]["text"] == f"from {agent_id}"


def test_a_whatsapp_web_that_cannot_load_ends_in_failed_with_a_reason(stack: Stack) -> None:
    # given only a host whose WhatsApp Web URL answers nothing
    assert stack.host("host-a").stop(timeout=90) == 0
    closed = f"http://127.0.0.1:{free_port()}/"
    stack.start_host("host-bad", wa_web_url=closed, load_timeout_seconds=10)

    started = time.monotonic()
    body = stack.create_session("agent-offline", "key-offline")

    state = body["liveState"]
    if state["sessionState"] != "failed":
        state = stack.wait_state("agent-offline", lambda s: s["sessionState"] == "failed", 30)["liveState"]
    assert state["sessionState"] == "failed"
    assert "could not be loaded" in state["reason"]
    assert "ERR_CONNECTION_REFUSED" in state["reason"]
    assert time.monotonic() - started < 40
    assert chrome_processes(stack.auth_dir / "session-agent-offline") == []

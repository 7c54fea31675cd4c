"""The simulator's HTTP APIs over real HTTP: control errors, recording, many pages at once.

Pages are played here by plain server-sent-event readers, so this module needs no browser.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.simulator.browser import Control, start_simulator
from tests.support.processes import Process
from tests.support.waiting import wait_until


class FakePage:
    """Read a device's event stream in a thread, as the page's EventSource does."""

    def __init__(self, url: str, device_id: str | None = None, after: int = 0):
        self.url = url
        self.device_id = device_id or uuid.uuid4().hex
        self.events: list[tuple[str, dict[str, Any]]] = []
        # A raw HTTP/1.0 socket: the stream is then unchunked, and close() ends it at once.
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        path = f"/api/devices/{self.device_id}/stream?after={after}"
        self.sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        kind = None
        try:
            for raw in self.sock.makefile("rb"):
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    self.events.append((kind, json.loads(line[6:])))
        except OSError:
            return  # the test closed the stream

    def wait(self, kind: str, count: int = 1) -> dict[str, Any]:
        """Return the `count`-th event of `kind`, waiting for it."""
        found = wait_until(lambda: [d for k, d in self.events if k == kind][count - 1 :], 10, message=kind)
        return found[0]

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        """Call the page API as the page's WPP does."""
        return requests.post(f"{self.url}/api/devices/{self.device_id}{path}", json=body, timeout=5)

    def close(self) -> None:
        """Close the stream."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.fixture(scope="module")
def simulator(run_dir: Path) -> Iterator[str]:
    """Run one simulator for the module and return its URL."""
    process: Process
    process, url = start_simulator(run_dir)
    yield url
    process.stop()


@pytest.fixture
def control(simulator: str) -> Control:
    """Return the control API client."""
    return Control(simulator)


@pytest.fixture
def pages(simulator: str) -> Iterator[list[FakePage]]:
    """Collect pages a test opens and close them afterwards."""
    opened: list[FakePage] = []
    yield opened
    for page in opened:
        page.close()


def linked_page(simulator: str, control: Control, pages: list[FakePage], phone: str) -> FakePage:
    """Open a page and scan its QR with `phone`."""
    page = FakePage(simulator)
    pages.append(page)
    control.post("/scan", {"qr": page.wait("hello")["qr"], "phone": phone})
    page.wait("linked")
    return page


def error_of(response: requests.Response) -> tuple[int, str]:
    """Return the status and error code of an error answer."""
    return response.status_code, response.json()["error"]["code"]


def test_health(control: Control) -> None:
    assert control.get("/health") == {"status": "ok"}


def test_bad_requests_get_the_error_envelope(simulator: str, control: Control, pages: list[FakePage]) -> None:
    linked_page(simulator, control, pages, "6287700000001")
    unlinked = "6287700000002"
    control.post(f"/accounts/{unlinked}/auth-failure")  # creates the account, with no device

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{simulator}/control{path}", timeout=5, **kwargs)

    account = "/accounts/6287700000001"
    cases = [
        (call("POST", "/scan", json={"qr": "2@nope"}), (404, "NOT_FOUND")),
        (call("POST", "/pair", json={"code": "ABCD1234"}), (404, "NOT_FOUND")),
        (call("GET", "/accounts/6280000000999/sent"), (404, "NOT_FOUND")),
        (call("POST", "/accounts/12/logout"), (400, "INVALID_PAYLOAD")),
        (call("POST", f"{account}/inbound", json={"from": "1", "type": "x"}), (400, "INVALID_PAYLOAD")),
        (call("POST", f"{account}/inbound", json={"body": "no sender"}), (400, "INVALID_PAYLOAD")),
        (call("POST", f"{account}/inbound", data="[1]"), (400, "INVALID_PAYLOAD")),
        (call("POST", f"/accounts/{unlinked}/inbound", json={"from": "628111"}), (409, "CONFLICT")),
        (call("POST", f"/accounts/{unlinked}/logout"), (409, "CONFLICT")),
        (call("GET", "/nothing-here"), (404, "NOT_FOUND")),
        (call("DELETE", "/health"), (405, "METHOD_NOT_ALLOWED")),
    ]

    assert [error_of(response) for response, _ in cases] == [expected for _, expected in cases]


def test_page_api_records_sends_typing_and_duplicates(
    simulator: str, control: Control, pages: list[FakePage]
) -> None:
    phone = "6287700000010"
    page = linked_page(simulator, control, pages, phone)
    data_url = "data:image/png;base64," + base64.b64encode(b"x" * 1000).decode()
    before = control.get("/stats")

    texts = [page.post("/send", {"to": "628111", "text": "same"}) for _ in range(2)]
    media = page.post("/send", {"to": "628111@c.us", "media": {"dataUrl": data_url, "filename": "a.png"}})
    bad_media = page.post("/send", {"to": "628111", "media": {"dataUrl": "data:image/png;base64,@@"}})
    no_to = page.post("/send", {"text": "x"})
    page.post("/typing", {"chatId": "628111", "state": "composing"})
    bad_typing = page.post("/typing", {"chatId": "628111", "state": "dancing"})

    assert [r.status_code for r in texts] == [200, 200]
    assert texts[0].json()["id"] != texts[1].json()["id"]
    assert texts[0].json()["id"].startswith("true_628111@c.us_3EB0")
    assert media.json()["media"] == {
        "filename": "a.png",
        "mimetype": "image/png",
        "size": 1000,
        "caption": None,
    }
    assert [error_of(r) for r in (bad_media, no_to, bad_typing)] == [(400, "INVALID_PAYLOAD")] * 3
    assert [s["text"] for s in control.get(f"/accounts/{phone}/sent")] == ["same", "same", None]
    assert [s["text"] for s in control.get(f"/accounts/{phone}/sent?since=2")] == [None]
    assert [t["state"] for t in control.get(f"/accounts/{phone}/typing")] == ["composing"]
    assert control.get(f"/accounts/{phone}")["duplicateSends"] == 1
    after = control.get("/stats")
    assert (after["sent"] - before["sent"], after["duplicateSends"] - before["duplicateSends"]) == (3, 1)


def test_sends_from_an_unlinked_device_are_refused(simulator: str, pages: list[FakePage]) -> None:
    page = FakePage(simulator)
    pages.append(page)
    page.wait("hello")

    assert error_of(page.post("/send", {"to": "628111", "text": "x"})) == (409, "CONFLICT")


def test_a_reconnecting_page_gets_the_messages_it_missed(
    simulator: str, control: Control, pages: list[FakePage]
) -> None:
    phone = "6287700000020"
    page = linked_page(simulator, control, pages, phone)
    first = control.post(f"/accounts/{phone}/inbound", {"from": "628111", "body": "one"})
    seen = page.wait("message")["seq"]
    page.close()
    second = control.post(f"/accounts/{phone}/inbound", {"from": "628111", "body": "two"})

    again = FakePage(simulator, page.device_id, after=seen)
    pages.append(again)

    assert again.wait("hello")["state"] == "linked"
    assert again.wait("message")["message"]["id"]["_serialized"] == second["id"] != first["id"]
    assert [k for k, _ in again.events].count("message") == 1


def test_pairing_code_through_the_page_api(simulator: str, control: Control, pages: list[FakePage]) -> None:
    page = FakePage(simulator)
    pages.append(page)
    page.wait("hello")

    code = page.post("/pairing-code", {"phone": "+62 877-0000-0030"}).json()["code"]
    linked = control.post("/pair", {"code": code[:4] + "-" + code[4:].lower()})

    assert linked == {"deviceId": page.device_id, "phone": "6287700000030"}
    assert page.wait("linked")["me"] == "6287700000030@c.us"
    assert error_of(page.post("/pairing-code", {"phone": "6287700000030"})) == (409, "CONFLICT")


def test_twelve_pages_at_once(simulator: str, control: Control, pages: list[FakePage]) -> None:
    phones = [f"62877000001{n:02d}" for n in range(12)]
    opened = [FakePage(simulator) for _ in phones]
    pages.extend(opened)
    for page, phone in zip(opened, phones, strict=True):
        control.post("/scan", {"qr": page.wait("hello")["qr"], "phone": phone})

    ids = [
        control.post(f"/accounts/{phone}/inbound", {"from": "628111", "body": phone})["id"]
        for phone in phones
    ]
    sends = [page.post("/send", {"to": "628111", "text": f"from {n}"}) for n, page in enumerate(opened)]

    for page, message_id in zip(opened, ids, strict=True):
        assert page.wait("message")["message"]["id"]["_serialized"] == message_id
    assert all(r.ok for r in sends)
    assert [control.get(f"/accounts/{p}")["sentCount"] for p in phones] == [1] * 12
    assert control.get("/stats")["pages"] >= 12

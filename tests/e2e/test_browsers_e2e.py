"""Every browser the host supports, on one real stack: what a page can see, and the full flow on
full Chromium (the rest of the e2e suite runs on the default, Debian's chromium-headless-shell).

Each case starts its own session host with its browser settings, links an agent, checks, and
deletes the agent before stopping the host (so no other host takes it over).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from devstack.process import wait_until
from devstack.stack import TUNED_INBOUND, Stack
from functions.db import sqlalchemy_url
from session_host.browser.chrome import chrome_major
from tests.e2e.conftest import chrome_main

pytestmark = pytest.mark.e2e

SHELL = "/usr/lib/chromium/chromium-headless-shell"
CHROMIUM = "/usr/bin/chromium"  # Debian's wrapper script: it execs the binary below
CHROMIUM_BINARY = "/usr/lib/chromium/chromium"
PEER = "6289811100077"
# BROWSER_BINARY, USE_UNDETECTED, the binary that must run, the account's phone.
COMBINATIONS = {
    "shell-undetected": ("headless-shell", True, SHELL, "6281200000081"),
    "shell-selenium": ("headless-shell", False, SHELL, "6281200000082"),
    "chromium-undetected": ("chromium", True, CHROMIUM_BINARY, "6281200000083"),
    "chromium-selenium": ("chromium", False, CHROMIUM_BINARY, "6281200000084"),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    engine = sa.create_engine(sqlalchemy_url(pg_url))
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM whatsapp_user"))
    engine.dispose()
    api = {**TUNED_INBOUND, "media_url_allowlist": "127.0.0.1", "send_wait_seconds": 25}
    running = Stack(tmp_path_factory.mktemp("e2e-browsers"), pg_url, api=api)
    try:
        running.start(hosts=(), ai=True, workers=1)
        yield running
    finally:
        running.stop()


def _delete(stack: Stack, agent_id: str) -> None:
    response = stack.api("DELETE", f"/sessions/{agent_id}", json={"deleteAuth": True})
    assert response.status_code == 200, response.text


def _signals(stack: Stack, phone: str) -> dict:
    devices = [d for d in stack.sim("GET", "/control/devices") if d["phone"] == phone and d["signals"]]
    assert devices, f"no device of {phone} reported its signals"
    return devices[-1]["signals"]


@pytest.mark.parametrize("combination", list(COMBINATIONS))
def test_the_page_sees_a_desktop_chrome(stack: Stack, combination: str) -> None:
    binary, undetected, expected_binary, phone = COMBINATIONS[combination]
    host_id, agent_id = f"host-{combination}", f"agent-{combination}"
    stack.start_host(host_id, browser_binary=binary, use_undetected=undetected)
    try:
        stack.link(agent_id, phone, f"key-{combination}")
        # the host runs the binary asked for
        main = chrome_main(stack.auth_dir / f"session-{agent_id}")
        assert main.cmdline()[0] == expected_binary
        # and the page reads a desktop Chrome of the same version
        signals = _signals(stack, phone)
        major = chrome_major(expected_binary)
        assert f"Chrome/{major}." in signals["userAgent"]
        assert signals["headlessChrome"] is False, signals
        assert "Headless" not in signals["userAgent"]
        assert signals["webdriver"] is False
        assert signals["chrome"] == "object"
        brands = {b["brand"]: b["version"] for b in signals["brands"]}
        assert brands.get("Chromium") == str(major), signals["brands"]
        assert not [name for name in brands if "Headless" in name]
    finally:
        _delete(stack, agent_id)
        assert stack.host(host_id).stop(timeout=60) == 0


def test_full_chromium_links_restores_sends_and_answers(stack: Stack) -> None:
    agent_id, phone, key = "agent-full", "6281200000088", "key-full"
    auth = {"Authorization": f"Bearer {key}"}
    stack.start_host("host-full", browser_binary="chromium")
    try:
        # link by QR
        stack.link(agent_id, phone, key)
        assert chrome_main(stack.auth_dir / f"session-{agent_id}").cmdline()[0] == CHROMIUM_BINARY
        scans = stack.sim("GET", f"/control/accounts/{phone}")
        # restart the host: ready again without a QR
        assert stack.host("host-full").stop(timeout=90) == 0
        stack.start_host("host-full", browser_binary="chromium")
        stack.wait_state(agent_id, lambda s: s["isReady"], 90)
        assert stack.sim("GET", f"/control/accounts/{phone}") == scans
        # send a text and a file
        text = stack.api(
            "POST", f"/agents/{agent_id}/messages", json={"to": PEER, "message": "halo"}, headers=auth
        )
        assert text.status_code == 200, text.text
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 64).decode()
        media = stack.api(
            "POST",
            f"/agents/{agent_id}/media",
            json={"to": PEER, "data": png, "filename": "a.png", "caption": "foto"},
            headers=auth,
        )
        assert media.status_code == 200, media.text
        # an inbound message is answered by the AI
        requests.post(
            f"{stack.sim_url}/control/accounts/{phone}/inbound",
            json={"from": PEER, "body": "apa kabar"},
            timeout=10,
        ).raise_for_status()
        wait_until(
            lambda: any(m.get("text") == "Echo: apa kabar" for m in stack.sent(phone)),
            60,
            message="the AI reply",
        )
        sent = stack.sent(phone)
        assert [m.get("text") for m in sent if m.get("text") == "halo"] == ["halo"]
        files = [m["media"] for m in sent if m.get("media")]
        assert [(f["filename"], f["caption"]) for f in files] == [("a.png", "foto")], files
    finally:
        _delete(stack, agent_id)
        assert stack.host("host-full").stop(timeout=60) == 0

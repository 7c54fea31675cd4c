"""bridge.js on the simulator page in a real headless Chromium: events out, commands in.

Bridge events are collected by a `window.wagwEmit` the test defines in the page (the real
host registers a CDP binding of that name instead; the bridge cannot tell the difference).
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from selenium import webdriver

from session_host.browser.chrome import chrome_major, desktop_brands
from tests.simulator.browser import BRIDGE_JS, BridgePage, Control, start_chrome, start_simulator
from tests.support.processes import Process, free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
PHONES = itertools.count(6285500000001)
QR_FORMAT = re.compile(r"^2@[A-Za-z0-9+/]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+$")


@pytest.fixture(scope="module")
def simulator(run_dir: Path) -> Iterator[tuple[Process, str]]:
    """Run one simulator for the module."""
    process, url = start_simulator(run_dir)
    yield process, url
    process.stop()


@pytest.fixture(scope="module")
def control(simulator: tuple[Process, str]) -> Control:
    """Return the control API client."""
    return Control(simulator[1])


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Run one Chromium for the module."""
    chrome = start_chrome(tmp_path_factory.mktemp("profile"))
    yield chrome
    chrome.quit()


@pytest.fixture
def page(driver: webdriver.Chrome, simulator: tuple[Process, str]) -> BridgePage:
    """Open the page as a brand-new device (empty localStorage) with the bridge injected."""
    bridge_page = BridgePage(driver, simulator[1])
    driver.get(simulator[1] + "/")
    driver.execute_script("localStorage.clear()")
    bridge_page.open()
    return bridge_page


def login(page: BridgePage, control: Control, pushname: str = "Bot") -> str:
    """Scan the page's current QR with a new phone; return the phone once the page is ready."""
    phone = str(next(PHONES))
    qr = page.wait_event("qr")["qr"]
    control.post("/scan", {"qr": qr, "phone": phone, "pushname": pushname})
    page.wait_event("ready")
    return phone


def scan_current_qr(control: Control, device_id: str) -> None:
    """Scan the device's QR, trying again if it rotated between reading and scanning."""

    def scanned() -> bool:
        qr = control.device(device_id)["qr"]
        return bool(qr) and requests.post(f"{control.url}/control/scan", json={"qr": qr}, timeout=5).ok

    wait_until(scanned, 10, message="scan the current QR")


def inbound(control: Control, phone: str, **body: object) -> str:
    """Inject an inbound message and return its id."""
    return control.post(f"/accounts/{phone}/inbound", body)["id"]


def message_event(page: BridgePage, message_id: str) -> dict:
    """Wait for the bridge's message event with that id."""
    return wait_until(
        lambda: next(
            (e["message"] for e in page.events("message") if e["message"]["id"] == message_id), None
        ),
        10,
        message=f"message {message_id}",
    )


def test_new_device_gets_bridge_ready_and_the_simulator_qr(page: BridgePage, control: Control) -> None:
    ready = page.wait_event("bridge_ready")
    qr = page.wait_event("qr")["qr"]

    assert ready["version"] == "1"
    assert QR_FORMAT.match(qr), qr
    assert control.device(page.device_id)["qr"] == qr
    assert page.value("status") == {
        "wppReady": True,
        "authenticated": False,
        "ready": False,
        "qr": qr,
        "me": None,
    }


def test_scan_gives_authenticated_then_ready_with_me(page: BridgePage, control: Control) -> None:
    phone = login(page, control, pushname="Sales Bot")

    types = [e["type"] for e in page.events()]
    ready = page.wait_event("ready")
    assert types.index("authenticated") < types.index("ready")
    assert ready["me"] == f"{phone}@c.us"
    assert ready["pushname"] == "Sales Bot"
    assert ready["lid"].endswith("@lid")
    assert page.value("status")["ready"] is True
    assert control.device(page.device_id)["qr"] is None


def test_commands_before_login_are_refused(page: BridgePage) -> None:
    page.wait_event("qr")

    result = page.call("sendText", "6281111@c.us", "hi", None)

    assert result == {"ok": False, "error": "not logged in"}


def test_text_and_quoted_reply_are_recorded_once(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    incoming = inbound(control, phone, **{"from": "628777", "body": "question"})

    first = page.value("sendText", "628777@c.us", "hello", None)
    second = page.value("sendText", "628777@c.us", "an answer", incoming)

    sent = control.get(f"/accounts/{phone}/sent")
    assert [(s["id"], s["to"], s["text"], s["quotedMsgId"]) for s in sent] == [
        (first["id"], "628777@c.us", "hello", None),
        (second["id"], "628777@c.us", "an answer", incoming),
    ]
    assert control.get(f"/accounts/{phone}")["duplicateSends"] == 0
    # WhatsApp Web announces our own sends as new messages too; the bridge keeps those back
    # (the host reports them as sent), while a message typed on the phone still goes out.
    typed = inbound(control, phone, **{"from": "628777", "body": "from the phone", "fromMe": True})
    assert message_event(page, typed)["fromMe"] is True
    announced = {e["message"]["id"] for e in page.events("message")}
    assert not announced & {first["id"], second["id"]}


def test_a_reply_carries_the_id_of_the_message_it_quotes(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    group = {"id": "120363000000000002@g.us", "name": "Team"}
    asked = inbound(control, phone, **{"from": "628777", "body": "question"})
    in_group = inbound(control, phone, **{"from": "628222", "body": "in the group", "group": group})
    ours = page.value("sendText", "628777@c.us", "our answer", None)["id"]

    replies = {
        asked: inbound(control, phone, **{"from": "628777", "body": "re", "quotedMsgId": asked}),
        in_group: inbound(
            control, phone, **{"from": "628333", "body": "re", "group": group, "quotedMsgId": in_group}
        ),
        ours: inbound(control, phone, **{"from": "628777", "body": "re", "quotedMsgId": ours}),
    }

    for quoted, reply in replies.items():
        assert message_event(page, reply)["quotedMessageId"] == quoted
    assert message_event(page, asked)["quotedMessageId"] is None


def update_events(page: BridgePage, kind: str, count: int) -> list[dict]:
    """Wait for `count` bridge events of one update kind; return their updates."""
    return wait_until(
        lambda: len(found := [e["update"] for e in page.events(kind)]) >= count and found,
        10,
        message=f"{count} {kind} events",
    )


def test_acks_of_our_sends_reach_the_bridge_in_order(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    sent = page.value("sendText", "628777@c.us", "ack me", None)["id"]

    for status in ("delivered", "read", "delivered"):
        control.post(f"/accounts/{phone}/messages/{sent}/ack", {"status": status})

    acks = update_events(page, "ack", 3)
    assert [(a["messageId"], a["ack"], a["chatId"], a["fromMe"]) for a in acks] == [
        (sent, 2, "628777@c.us", True),
        (sent, 3, "628777@c.us", True),
        (sent, 2, "628777@c.us", True),
    ]


def test_the_peers_phone_acknowledges_by_itself_after_the_configured_delays(
    page: BridgePage, control: Control
) -> None:
    phone = login(page, control)
    control.post("/peers", {"ackDelay": 0.05, "readDelay": 0.05})
    try:
        sent = page.value("sendText", "628777@c.us", "auto ack", None)["id"]
        acks = update_events(page, "ack", 2)
    finally:
        control.post("/peers", {"ackDelay": None, "readDelay": None})
    assert [(a["messageId"], a["ack"]) for a in acks] == [(sent, 2), (sent, 3)]
    assert control.get(f"/accounts/{phone}/acks") == {sent: 3}


def test_reactions_edits_and_revokes_reach_the_bridge(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    ours = page.value("sendText", "628777@c.us", "react here", None)["id"]
    theirs = inbound(control, phone, **{"from": "628777", "body": "first words"})

    control.post(f"/accounts/{phone}/messages/{ours}/reaction", {"from": "628777", "emoji": "❤️"})
    control.post(f"/accounts/{phone}/messages/{ours}/reaction", {"from": "628777", "emoji": ""})
    control.post(f"/accounts/{phone}/messages/{theirs}/edit", {"body": "better words"})
    control.post(f"/accounts/{phone}/messages/{theirs}/revoke", {})

    added, removed = update_events(page, "reaction", 2)
    assert (added["messageId"], added["reaction"], added["sender"], added["fromMe"]) == (
        ours,
        "❤️",
        "628777@c.us",
        False,
    )
    assert removed["reaction"] == "" and removed["eventKey"] != added["eventKey"]
    (edit,) = update_events(page, "edit", 1)
    assert (edit["messageId"], edit["body"], edit["chatId"], edit["fromMe"]) == (
        theirs,
        "better words",
        "628777@c.us",
        False,
    )
    (revoke,) = update_events(page, "revoke", 1)
    assert (revoke["messageId"], revoke["chatId"], revoke["revokeType"]) == (
        theirs,
        "628777@c.us",
        "sender_revoke",
    )


def test_updates_about_unknown_messages_are_refused_by_the_control_api(
    page: BridgePage, control: Control
) -> None:
    phone = login(page, control)
    response = requests.post(
        f"{control.url}/control/accounts/{phone}/messages/false_x@c.us_NOPE/ack",
        json={"status": "read"},
        timeout=5,
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    sent = page.value("sendText", "628777@c.us", "x", None)["id"]
    response = requests.post(
        f"{control.url}/control/accounts/{phone}/messages/{sent}/ack", json={"status": "seen"}, timeout=5
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_PAYLOAD"


def test_media_is_recorded_with_name_size_and_caption(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    data = bytes(range(256)) * 8 + b"tail"
    data_url = "data:application/pdf;base64," + base64.b64encode(data).decode()

    result = page.value(
        "sendMedia",
        "628777@c.us",
        data_url,
        {"filename": "report.pdf", "mimetype": "application/pdf", "caption": "Q3"},
    )

    [sent] = control.get(f"/accounts/{phone}/sent")
    assert sent["id"] == result["id"]
    assert sent["media"] == {
        "filename": "report.pdf",
        "mimetype": "application/pdf",
        "size": len(data),
        "caption": "Q3",
    }
    assert sent["text"] is None


def test_typing_on_and_off_is_recorded(page: BridgePage, control: Control) -> None:
    phone = login(page, control)

    assert page.value("setTyping", "628777@c.us", True) is True
    assert page.value("setTyping", "628777@c.us", False) is True

    typing = control.get(f"/accounts/{phone}/typing")
    assert [(t["chatId"], t["state"]) for t in typing] == [
        ("628777@c.us", "composing"),
        ("628777@c.us", "paused"),
    ]


def test_inbound_messages_of_each_kind_carry_the_right_flags(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    me = f"{phone}@c.us"
    group = {"id": "120363000000000001@g.us", "name": "Team"}
    cases = {
        "direct": {"from": "628111", "body": "hi", "notifyName": "Ann"},
        "group": {"from": "628222", "body": "hello all", "group": group},
        "mention": {"from": "628222", "body": f"@{phone} ping", "group": group, "mentions": [me]},
        "status": {"from": "628333", "body": "my story", "status": True},
        "broadcast": {"from": "628444", "body": "promo", "broadcast": True},
        "newsletter": {"from": "120363999", "body": "news", "newsletter": True},
        "from_me": {"from": "628111", "body": "typed on the phone", "fromMe": True},
        "image": {"from": "628111", "body": "a caption", "type": "image"},
    }
    ids = {name: inbound(control, phone, **body) for name, body in cases.items()}
    got = {name: message_event(page, message_id) for name, message_id in ids.items()}

    def flags(m: dict) -> tuple:
        return (m["isGroup"], m["isStatus"], m["isBroadcast"], m["isNewsletter"], m["fromMe"])

    assert got["direct"] | {"timestamp": 0} == {
        "id": ids["direct"],
        "chatId": "628111@c.us",
        "sender": "628111@c.us",
        "fromMe": False,
        "type": "chat",
        "body": "hi",
        "timestamp": 0,
        "isGroup": False,
        "isStatus": False,
        "isBroadcast": False,
        "isNewsletter": False,
        "mentionedIds": [],
        "notifyName": "Ann",
        "chatName": "Ann",
        "botId": me,
        "botLid": page.wait_event("ready")["lid"],
        "quotedMessageId": None,
        "mimetype": None,
        "filename": None,
        "size": None,
        "location": None,
    }
    assert got["direct"]["timestamp"] > 1_700_000_000
    assert flags(got["group"]) == (True, False, False, False, False)
    assert (got["group"]["chatId"], got["group"]["sender"], got["group"]["chatName"]) == (
        group["id"],
        "628222@c.us",
        "Team",
    )
    assert got["group"]["mentionedIds"] == []
    assert got["mention"]["mentionedIds"] == [me]
    assert flags(got["status"]) == (False, True, False, False, False)
    assert (got["status"]["chatId"], got["status"]["sender"]) == ("status@broadcast", "628333@c.us")
    assert flags(got["broadcast"]) == (False, False, True, False, False)
    assert flags(got["newsletter"]) == (False, False, False, True, False)
    assert got["newsletter"]["chatId"] == "120363999@newsletter"
    assert flags(got["from_me"]) == (False, False, False, False, True)
    assert (got["from_me"]["chatId"], got["from_me"]["sender"]) == ("628111@c.us", me)
    assert (got["image"]["type"], got["image"]["body"]) == ("image", "a caption")


def test_a_message_announced_twice_is_emitted_once(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    repeated = inbound(control, phone, **{"from": "628111", "body": "once", "id": "3EB0AAAA0000000000000001"})
    assert (
        inbound(control, phone, **{"from": "628111", "body": "once", "id": "3EB0AAAA0000000000000001"})
        == repeated
    )
    encrypted = inbound(control, phone, **{"from": "628111", "body": "secret", "encrypted": True})
    marker = inbound(control, phone, **{"from": "628111", "body": "last"})

    message_event(page, marker)  # the simulator delivers in order: everything before it arrived

    ids = [e["message"]["id"] for e in page.events("message")]
    assert ids.count(repeated) == 1
    assert ids.count(encrypted) == 1
    assert message_event(page, encrypted)["body"] == "secret"
    assert page.driver.execute_script("return window.__events.length") == len(page.events())


def test_logout_from_the_phone_disconnects_and_shows_a_new_qr(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    old_qr = page.wait_event("qr")["qr"]

    control.post(f"/accounts/{phone}/logout")

    assert page.wait_event("disconnected")["reason"] == "logout"
    new_qr = page.wait_event("qr", count=2)["qr"]
    assert new_qr != old_qr and control.device(page.device_id)["qr"] == new_qr
    assert page.value("status")["ready"] is False
    assert control.get(f"/accounts/{phone}")["state"] == "unlinked"


def test_logout_command_logs_the_device_out(page: BridgePage, control: Control) -> None:
    phone = login(page, control)

    assert page.value("logout") is True

    assert page.wait_event("disconnected")["reason"] == "logout"
    page.wait_event("qr", count=2)
    assert control.get(f"/accounts/{phone}")["deviceId"] is None


def test_auth_failure_of_the_current_session(page: BridgePage, control: Control) -> None:
    phone = login(page, control)

    control.post(f"/accounts/{phone}/auth-failure", {"reason": "invalid_adv_status"})

    assert page.wait_event("auth_failure")["reason"] == "invalid_adv_status"
    page.wait_event("qr", count=2)
    assert page.events("disconnected") == []


def test_auth_failure_of_the_next_login(page: BridgePage, control: Control) -> None:
    phone = str(next(PHONES))
    assert control.post(f"/accounts/{phone}/auth-failure")["applied"] == "next"

    answer = control.post("/scan", {"qr": page.wait_event("qr")["qr"], "phone": phone})

    assert answer["authFailed"] == "unknown_companion"
    assert page.wait_event("auth_failure")["reason"] == "unknown_companion"
    control.post("/scan", {"qr": page.wait_event("qr", count=2)["qr"], "phone": phone})
    assert page.wait_event("ready")["me"] == f"{phone}@c.us"


def test_login_is_remembered_across_a_reload(page: BridgePage, control: Control) -> None:
    phone = login(page, control)
    device = page.device_id

    page.open()

    assert page.device_id == device
    assert page.wait_event("ready")["me"] == f"{phone}@c.us"
    assert [e["type"] for e in page.events()] == ["bridge_ready", "ready"]


def test_pairing_code_links_the_device(page: BridgePage, control: Control) -> None:
    phone = str(next(PHONES))
    page.wait_event("qr")

    code = page.value("requestPairingCode", f"+{phone}")

    assert re.fullmatch(r"[A-Z0-9]{8}", code)
    assert page.wait_event("pairing_code")["code"] == code
    assert control.device(page.device_id)["pairingCode"] == code
    assert control.post("/pair", {"code": code}) == {"deviceId": page.device_id, "phone": phone}
    assert page.wait_event("ready")["me"] == f"{phone}@c.us"
    assert page.call("requestPairingCode", phone) == {"ok": False, "error": "already logged in"}


def test_events_wait_for_the_binding(driver: webdriver.Chrome, simulator: tuple[Process, str]) -> None:
    page = BridgePage(driver, simulator[1])
    driver.get(simulator[1] + "/")
    driver.execute_script("localStorage.clear()")
    page.open(collect=False)
    wait_until(lambda: driver.execute_script("return window.__wagw && window.__wagw.status()"), 10)

    page.collect()

    assert page.wait_event("qr")["qr"]
    assert [e["type"] for e in page.events()][:2] == ["bridge_ready", "qr"]


def test_a_second_injection_replays_state_without_doubling_listeners(
    page: BridgePage, control: Control
) -> None:
    phone = login(page, control)

    page.inject()
    page.wait_event("bridge_ready", count=2)
    page.wait_event("ready", count=2)
    message_id = inbound(control, phone, **{"from": "628111", "body": "once"})

    message_event(page, message_id)
    assert [e["message"]["id"] for e in page.events("message")].count(message_id) == 1


def test_login_survives_a_chrome_restart(
    simulator: tuple[Process, str], control: Control, tmp_path: Path
) -> None:
    first = start_chrome(tmp_path / "profile")
    try:
        page = BridgePage(first, simulator[1])
        page.open()
        phone = login(page, control)
    finally:
        first.quit()
    second = start_chrome(tmp_path / "profile")
    try:
        page = BridgePage(second, simulator[1])
        page.open()
        assert page.wait_event("ready")["me"] == f"{phone}@c.us"
        assert page.events("qr") == []
    finally:
        second.quit()


def test_the_qr_rotates_until_scanned(driver: webdriver.Chrome, run_dir: Path) -> None:
    process, url = start_simulator(run_dir, "--qr-interval", "0.5")
    try:
        page = BridgePage(driver, url)
        page.open()
        third = page.wait_event("qr", count=3)["qr"]
        assert len({e["qr"] for e in page.events("qr")}) >= 3
        scan_current_qr(Control(url), page.device_id)
        page.wait_event("ready")
        rotations = len(page.events("qr"))

        # Watch two rotation periods: a linked device shows no QR any more.
        with pytest.raises(AssertionError):
            wait_until(lambda: len(page.events("qr")) > rotations, 1.0)
        assert Control(url).device(page.device_id)["qr"] is None
        assert third != page.events("qr")[0]["qr"]
    finally:
        process.stop()


def test_an_idle_qr_is_refreshed_by_the_bridge(driver: webdriver.Chrome, run_dir: Path) -> None:
    process, url = start_simulator(run_dir, "--qr-interval", "0.3", "--qr-idle-after", "2")
    try:
        page = BridgePage(driver, url)
        page.open()

        # The simulator goes idle after two codes; only the bridge's refreshQR brings more.
        page.wait_event("qr", count=5)

        scan_current_qr(Control(url), page.device_id)
        page.wait_event("ready")
    finally:
        process.stop()


def test_a_restarted_simulator_forgets_the_login_and_keeps_delivering(
    driver: webdriver.Chrome, run_dir: Path
) -> None:
    port = free_port()
    process, url = start_simulator(run_dir, port=port)
    try:
        page = BridgePage(driver, url)
        driver.get(url + "/")
        driver.execute_script("localStorage.clear()")
        page.open()
        control = Control(url)
        phone = login(page, control)
        message_event(page, inbound(control, phone, **{"from": "628111", "body": "before"}))
        process.stop()
        process, url = start_simulator(run_dir, port=port)

        # The page's EventSource reconnects by itself and finds its device unknown.
        assert page.wait_event("auth_failure")["reason"] == "unknown_companion"
        qr = page.wait_event("qr", count=2)["qr"]
        control.post("/scan", {"qr": qr, "phone": phone})
        page.wait_event("ready", count=2)
        after = inbound(control, phone, **{"from": "628111", "body": "after"})
        assert message_event(page, after)["body"] == "after"
    finally:
        process.stop()


def test_a_newer_bridge_takes_over_from_an_older_one(
    driver: webdriver.Chrome, simulator: tuple[Process, str], control: Control
) -> None:
    page = BridgePage(driver, simulator[1])
    driver.get(simulator[1] + "/")
    driver.execute_script("localStorage.clear()")
    page.open()
    page.wait_event("bridge_ready")
    older = BRIDGE_JS.read_text().replace('var VERSION = "1";', 'var VERSION = "0";')
    driver.execute_script("window.__wagw.uninstall(); delete window.__wagw; window.__events.length = 0;")
    driver.execute_script(older)
    assert page.wait_event("bridge_ready")["version"] == "0"

    page.inject()

    assert page.wait_event("bridge_ready", count=2)["version"] == "1"
    phone = login(page, control)
    message_id = inbound(control, phone, **{"from": "628111", "body": "once"})
    message_event(page, message_id)
    assert [e["message"]["id"] for e in page.events("message")].count(message_id) == 1
    assert len(page.events("ready")) == 1


def test_the_page_reports_its_detection_signals(page: BridgePage, control: Control) -> None:
    signals = wait_until(lambda: control.device(page.device_id)["signals"], 10, message="signals")

    user_agent = page.driver.execute_script("return navigator.userAgent")
    assert signals["userAgent"] == user_agent
    assert signals["webdriver"] is page.driver.execute_script("return navigator.webdriver")
    assert signals["chrome"] == page.driver.execute_script("return typeof window.chrome")
    # The test Chrome runs --headless=new under plain Selenium: its user agent gives it away.
    assert signals["headlessChrome"] is ("HeadlessChrome" in user_agent)
    assert signals["brands"] is None or all({"brand", "version"} <= set(b) for b in signals["brands"])


def test_the_host_disguise_names_the_brands_this_chromium_shows(page: BridgePage, control: Control) -> None:
    # Full Chromium (the test Chrome) shows no HeadlessChrome brand: the host gives the headless
    # shell this same list, computed from the version with Chromium's own GREASE rule.
    signals = wait_until(lambda: control.device(page.device_id)["signals"], 10, message="signals")
    major = chrome_major("/usr/bin/chromium")
    assert signals["brands"] == desktop_brands(major, "")

"""Operators' tools against a real stack: the sessions page in Chromium, the CLI, the dashboard."""

from __future__ import annotations

import io
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
import zxingcpp
from PIL import Image
from selenium.webdriver.common.by import By

from contract import jobs
from devstack.stack import Stack
from tests.e2e.conftest import fresh_stack
from tests.simulator.browser import start_chrome
from tests.support.processes import PYTHON, ROOT, free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TOKEN = "ops-e2e-token-8d1f"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
SCREENSHOTS = ROOT / "var" / "screenshots"
PAGE_AGENT = "agent-page"
PAGE_NAME = "<script>window.__xss = 1</script> Toko"
PAGE_PHONE = "6281200000071"
CLI_AGENT = "agent-cli"
CLI_PHONE = "6281200000077"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    """One stack with ADMIN_TOKEN set for the module."""
    with fresh_stack(tmp_path_factory, pg_url, api={"admin_token": TOKEN}) as running:
        yield running


def create(stack: Stack, agent_id: str, name: str) -> dict:
    body = {"userId": "ops", "agentId": agent_id, "agentName": name, "apikey": f"key-{agent_id}"}
    response = stack.api("POST", "/sessions", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def live(stack: Stack, agent_id: str) -> dict:
    response = stack.api("GET", f"/sessions/{agent_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def scan_current(stack: Stack, agent_id: str, phone: str) -> None:
    """Scan the agent's QR as shown now (QRs rotate: retry a stale one)."""

    def attempt() -> bool:
        qr = live(stack, agent_id)["liveState"]["qr"]
        if not qr:
            return False
        response = requests.post(f"{stack.sim_url}/control/scan", json={"qr": qr, "phone": phone}, timeout=30)
        return response.status_code == 200

    wait_until(attempt, 60, interval=0.2, message=f"scan {agent_id}'s QR")


def decode_screenshot(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def cli(stack: Stack, *args: str, token: str | None = TOKEN, url: str | None = None, timeout: float = 120):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGW_")}
    env.update({"WAGW_URL": url or stack.api_url, "PYTHONPATH": str(ROOT)})
    if token is not None:
        env["WAGW_ADMIN_TOKEN"] = token
    return subprocess.run(
        [PYTHON, "-m", "functions.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_sessions_page_links_a_phone_in_chromium(stack: Stack, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    create(stack, PAGE_AGENT, PAGE_NAME)
    driver = start_chrome(tmp_path / "operator-chrome")
    try:
        driver.set_window_size(1100, 1000)
        base = stack.api_url.replace("http://", f"http://admin:{TOKEN}@")
        driver.get(f"{base}/ui/sessions/{PAGE_AGENT}")
        driver.get(f"{stack.api_url}/ui/sessions/{PAGE_AGENT}")

        # the name is text, not markup
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith(PAGE_NAME)
        assert driver.execute_script("return window.__xss === undefined")

        # the QR on screen is the live one
        def shown() -> str | None:
            png = driver.get_screenshot_as_png()
            texts = decode_screenshot(png)
            current = live(stack, PAGE_AGENT)["liveState"]["qr"]
            if texts == [current]:
                (SCREENSHOTS / "session-qr.png").write_bytes(png)
                return current
            return None

        qr = wait_until(shown, 30, interval=0.3, message="the page shows the live QR")
        driver.execute_script("window.__sameDocument = true")

        # when the phone scans it, the page says so within 5 s, without a reload
        stack.scan(qr, PAGE_PHONE)
        connected = driver.find_element(By.ID, "connected")
        wait_until(lambda: connected.is_displayed(), 5, interval=0.1, message="connected shown")
        assert connected.text == f"connected as +{PAGE_PHONE}"
        assert driver.execute_script("return window.__sameDocument === true")
        assert not driver.find_element(By.ID, "qr").is_displayed()
        driver.save_screenshot(str(SCREENSHOTS / "session-connected.png"))

        driver.get(f"{stack.api_url}/ui/sessions")
        row = driver.find_element(By.XPATH, f"//td/a[text()='{PAGE_AGENT}']/../..")
        assert "connected" in row.text and "host-a" in row.text
        assert PAGE_NAME in row.text
        driver.save_screenshot(str(SCREENSHOTS / "sessions-list.png"))
    finally:
        driver.quit()


def test_swagger_ui_renders_every_operation_of_the_openapi_document(stack: Stack, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    document = stack.api("GET", "/openapi.json").json()
    operations = sum(len(item) for item in document["paths"].values())
    driver = start_chrome(tmp_path / "docs-chrome")
    try:
        driver.get(f"{stack.api_url}/docs")
        shown = wait_until(
            lambda: (n := driver.execute_script("return document.querySelectorAll('.opblock').length")) and n,
            20,
            message="Swagger UI lists the operations",
        )
        assert shown == operations
        page = driver.execute_script("return document.body.innerText")
        assert "Unable to render" not in page and "WhatsApp Agent Gateway" in page
        driver.save_screenshot(str(SCREENSHOTS / "docs.png"))
    finally:
        driver.quit()


def test_the_dashboard_asks_for_the_token_over_http(stack: Stack) -> None:
    assert stack.api("GET", "/rq/").status_code == 401
    assert "Basic" in stack.api("GET", "/rq/").headers["WWW-Authenticate"]
    assert requests.get(f"{stack.api_url}/rq/", auth=("admin", TOKEN), timeout=30).status_code == 200
    assert stack.api("GET", "/ui/sessions", headers=ADMIN).status_code == 200


def test_cli_qr_redraws_until_the_scan_then_exits_0(stack: Stack) -> None:
    create(stack, CLI_AGENT, "Agent cli")
    env = {**os.environ, "WAGW_URL": stack.api_url, "WAGW_ADMIN_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    lines: list[str] = []
    with subprocess.Popen(
        [PYTHON, "-m", "functions.cli", "qr", CLI_AGENT, "--wait", "90"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
        reader.start()
        try:
            wait_until(lambda: any("scan with WhatsApp" in line for line in lines), 60, message="QR printed")
            scan_current(stack, CLI_AGENT, CLI_PHONE)
            assert process.wait(30) == 0, process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
        reader.join(5)
    output = "".join(lines)
    assert "█" in output or "▀" in output
    assert output.strip().endswith(f"{CLI_AGENT}: connected as +{CLI_PHONE}")


def test_cli_sessions_table_and_errors(stack: Stack) -> None:
    listed = cli(stack, "sessions")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:4] == ["AGENT", "NAME", "STATUS", "LIVE"]
    row = next(r for r in rows if r.startswith(CLI_AGENT))
    assert "connected" in row and f"+{CLI_PHONE}" in row
    assert cli(stack, "sessions", "--status", "awaiting_qr").stdout.count(CLI_AGENT) == 0

    wrong_token = cli(stack, "sessions", token="nope")
    no_token = cli(stack, "sessions", token=None)
    wrong_url = cli(stack, "sessions", url=f"http://127.0.0.1:{free_port()}")
    not_gateway = cli(stack, "sessions", url=f"{stack.sim_url}/nothing")
    unknown = cli(stack, "jobs", "nobody")

    assert (wrong_token.returncode, no_token.returncode) == (4, 4)
    refused = "wagw: the gateway refused the admin token (WAGW_ADMIN_TOKEN is wrong)"
    assert wrong_token.stderr.strip() == refused
    assert "set WAGW_ADMIN_TOKEN" in no_token.stderr
    assert wrong_url.returncode == 3 and "cannot reach the gateway" in wrong_url.stderr
    assert not_gateway.returncode == 3 and "does not answer like the gateway" in not_gateway.stderr
    assert unknown.returncode == 5 and unknown.stderr.strip() == "wagw: no session for agent 'nobody'"
    for result in (wrong_token, wrong_url, unknown):
        assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_cli_finds_a_failed_send_and_requeues_it(stack: Stack) -> None:
    # given a media send whose file is not there when the host runs it (a real host failure)
    missing = stack.temp_dir / "late.pdf"
    ref = jobs.MediaRef(
        kind="file", path=str(missing), filename="late.pdf", mime_type="application/pdf", size=9
    )
    payload = jobs.SendMedia(agent_id=CLI_AGENT, to="6289876543210", media=ref)
    raw = redis.Redis.from_url(stack.redis_url)
    job = jobs.enqueue(raw, jobs.JobName.SEND_MEDIA, payload, job_id="send_media-ops-e2e")
    wait_until(lambda: job.get_status(refresh=True) == "failed", 60, message="the send failed")

    failed = cli(stack, "jobs", CLI_AGENT, "--failed")
    assert failed.returncode == 0, failed.stderr
    [row] = [r for r in failed.stdout.splitlines() if r.startswith(job.id)]
    assert "send_media" in row and "failed" in row and "is missing" in row

    # when the file is there again and the operator requeues the job
    missing.parent.mkdir(parents=True, exist_ok=True)
    missing.write_bytes(b"%PDF-1.4\n")
    requeued = cli(stack, "requeue", job.id)

    # then it is delivered
    assert requeued.returncode == 0, requeued.stderr
    assert requeued.stdout.strip() == f"{job.id}: requeued on wagw-agent-{CLI_AGENT} (queued)"
    wait_until(lambda: job.get_status(refresh=True) == "finished", 60, message="requeued send delivered")
    assert stack.sent(CLI_PHONE)[-1]["media"]["filename"] == "late.pdf"
    again = cli(stack, "requeue", job.id)
    assert again.returncode == 1 and "JOB_NOT_FAILED" in again.stderr
    raw.close()


def test_cli_pair_logout_and_reconnect(stack: Stack) -> None:
    paired_agent, phone = "agent-pair", "6281200000078"
    create(stack, paired_agent, "Agent pair")
    pair = cli(stack, "pair", paired_agent, f"+{phone}")
    assert pair.returncode == 0, pair.stderr
    code = pair.stdout.split("pairing code ")[1].split()[0]
    stack.sim("POST", "/control/pair", json={"code": code})
    wait_until(lambda: live(stack, paired_agent)["liveState"]["isReady"], 30, message="paired")

    out = cli(stack, "logout", paired_agent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{paired_agent}: logged out"
    wait_until(lambda: not live(stack, paired_agent)["liveState"]["isReady"], 30, message="logged out")

    again = cli(stack, "reconnect", paired_agent)
    assert again.returncode == 0, again.stderr
    assert f"wagw qr {paired_agent}" in again.stdout
    wait_until(lambda: live(stack, paired_agent)["liveState"]["qr"], 30, message="new QR after reconnect")

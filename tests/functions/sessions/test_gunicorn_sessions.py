"""The seed's curl examples for /sessions and /health, replayed with curl against gunicorn.

Real HTTP to a gunicorn subprocess on the test Redis and PostgreSQL; the test plays the
session host through the contract. The server's JSON log lines are checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contract.jobs import JobName
from tests.support.host import FakeHost, later
from tests.support.processes import ROOT, Process, free_port, wait_http_ok
from tests.support.qr import SAMPLE_QR as QR
from tests.support.qr import decode_png

API_KEY = "API_KEY_JIKA_DB_KOSONG-7f3a9c"
ADMIN_TOKEN = "adm-token-4b8e2d"
SECRETS = (API_KEY, ADMIN_TOKEN, "wrong-bearer-91c2")


class Api:
    """A running gunicorn and a curl that talks to it."""

    def __init__(self, process: Process, base_url: str):
        self.process = process
        self.base_url = base_url

    def curl(self, *args: str) -> tuple[int, dict, dict[str, str]]:
        """Run curl with the seed's arguments ($BASE_URL expanded); return status, JSON body, headers."""
        argv = ["curl", "-sS", "-D", "-", *[a.replace("$BASE_URL", self.base_url) for a in args]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
        head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
        status_line, *header_lines = head.splitlines()
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        return int(status_line.split()[1]), json.loads(body), headers

    def log_lines(self) -> list[dict]:
        """Return the server's log lines; each one must be a JSON object."""
        return [json.loads(line) for line in self.process.log().splitlines() if line.strip()]


@pytest.fixture
def start_api(redis_url: str, clean_pg_url: str, run_dir: Path) -> Iterator[Callable[..., Api]]:
    started: list[Process] = []

    def start(**env_overrides: str) -> Api:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": clean_pg_url,
            "REDIS_URL": redis_url,
            "PORT": str(port),
            "EVENTS_SECRET": "test-events-secret",
            "QR_WAIT_SECONDS": "10",
            "LOG_LEVEL": "INFO",
            "WEB_CONCURRENCY": "2",
            **env_overrides,
        }
        if "ADMIN_TOKEN" not in env_overrides:
            env.pop("ADMIN_TOKEN", None)
        process = Process(
            f"gunicorn-{port}",
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "-c",
                "functions/gunicorn_conf.py",
                "functions.app:create_app()",
            ],
            env=env,
            log_dir=run_dir,
        )
        started.append(process)
        base_url = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{base_url}/health", timeout=30, process=process)
        return Api(process, base_url)

    yield start
    for process in started:
        assert process.stop() == 0, process.log()[-2000:]


@pytest.fixture
def serving_host(host: FakeHost) -> FakeHost:
    """A stand-in host that shows a QR after each ensure and forgets the session on destroy."""

    def ensure(job):
        later(0.3, lambda: host.show_qr(job.args[0]["agentId"], QR))

    host.serve({JobName.ENSURE: ensure, JobName.DESTROY: lambda job: host.destroy(job.args[0]["agentId"])})
    return host


def test_the_seeds_curl_examples(start_api, serving_host):
    api = start_api()

    # 1) POST /sessions, exactly as in the seed
    status, body, headers = api.curl(
        "-X",
        "POST",
        "$BASE_URL/sessions",
        "-H",
        "Content-Type: application/json",
        "-H",
        "X-Request-Id: seed-create-1",
        "-d",
        json.dumps(
            {"userId": "USER_ID", "agentId": "AGENT_ID", "agentName": "Support Bot", "apikey": API_KEY},
            indent=2,
        ),
    )
    assert status == 201, body
    assert body["traceId"] == "seed-create-1" == headers["x-request-id"]
    assert (body["userId"], body["agentId"], body["agentName"], body["status"]) == (
        "USER_ID",
        "AGENT_ID",
        "Support Bot",
        "awaiting_qr",
    )
    assert body["endpointUrlRun"].endswith("/agents/AGENT_ID/execute")
    assert body["liveState"]["isReady"] is False and body["liveState"]["qr"] == QR
    assert decode_png(body["qr"]["base64"]) == QR

    # 2) GET /sessions/{agentId}
    status, body, _ = api.curl("$BASE_URL/sessions/AGENT_ID")
    assert status == 200
    assert body["agentId"] == "AGENT_ID" and body["liveState"]["sessionState"] == "awaiting_qr"
    assert body["liveState"]["hasClient"] is True

    # 5) POST /sessions/{agentId}/qr
    status, body, _ = api.curl("-X", "POST", "$BASE_URL/sessions/AGENT_ID/qr")
    assert status == 200
    assert body["qr"]["contentType"] == "image/png" and decode_png(body["qr"]["base64"]) == QR
    assert body["qrUpdatedAt"].endswith("Z")

    # 4) POST /sessions/{agentId}/reconnect
    status, body, _ = api.curl("-X", "POST", "$BASE_URL/sessions/AGENT_ID/reconnect")
    assert status == 200, body
    assert body["status"] == "awaiting_qr" and body["liveState"]["qr"] == QR
    assert [name for name, _ in serving_host.handled][-2:] == [JobName.DESTROY, JobName.ENSURE]

    # 3) DELETE /sessions/{agentId}, twice
    status, body, _ = api.curl("-X", "DELETE", "$BASE_URL/sessions/AGENT_ID")
    assert (status, body["deleted"], body["sessionStopped"]) == (200, True, True)
    status, body, _ = api.curl("-X", "DELETE", "$BASE_URL/sessions/AGENT_ID")
    assert (status, body["deleted"]) == (200, False)
    status, body, _ = api.curl("$BASE_URL/sessions/AGENT_ID")
    assert (status, body["error"]["code"]) == (404, "SESSION_NOT_FOUND")

    # 9) GET /health
    status, body, _ = api.curl("$BASE_URL/health")
    assert status == 200 and body["status"] == "ok"

    # every request left a JSON log line with its traceId and agentId
    lines = api.log_lines()
    requests = [line for line in lines if line.get("event") == "request"]
    # seven /sessions calls above; /health also answered the start-up probes
    assert len([line for line in requests if line["path"] != "/health"]) == 7
    assert all("traceId" in line and "agentId" in line and line["timestamp"] for line in lines)
    assert all(line["traceId"] for line in requests)
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    create = next(line for line in requests if line["traceId"] == "seed-create-1")
    assert (create["method"], create["path"], create["status"], create["agentId"]) == (
        "POST",
        "/sessions",
        201,
        "AGENT_ID",
    )
    assert {line["agentId"] for line in requests if line["path"].startswith("/sessions/")} == {"AGENT_ID"}
    assert API_KEY not in api.process.log()


def test_admin_token_over_http_and_no_secret_in_the_logs(start_api, serving_host):
    api = start_api(ADMIN_TOKEN=ADMIN_TOKEN)
    create = [
        "-X",
        "POST",
        "$BASE_URL/sessions",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps({"userId": "u", "agentId": "agent-7", "agentName": "Bot", "apikey": API_KEY}),
    ]

    refused, body, _ = api.curl(*create, "-H", "Authorization: Bearer wrong-bearer-91c2")
    assert (refused, body["error"]["code"]) == (401, "UNAUTHORIZED")
    missing, _, _ = api.curl(*create)
    assert missing == 401
    accepted, body, _ = api.curl(*create, "-H", f"Authorization: Bearer {ADMIN_TOKEN}")
    assert accepted == 201, body
    status, _, _ = api.curl("$BASE_URL/sessions/agent-7", "-H", f"Authorization: Bearer {ADMIN_TOKEN}")
    assert status == 200
    assert api.curl("$BASE_URL/health")[0] == 200

    log = api.process.log()
    for secret in SECRETS:
        assert secret not in log
    requests = [line for line in api.log_lines() if line.get("event") == "request"]
    assert [line["status"] for line in requests if line["path"] != "/health"] == [401, 401, 201, 200]


@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_and_non_json_bodies_over_http(start_api, run_dir, chunked):
    api = start_api(MAX_BODY_BYTES="65536")
    big = run_dir / "big-body.json"
    big.write_text(json.dumps({"userId": "u", "agentId": "a", "agentName": "x" * 100_000}))
    transfer = ["-H", "Transfer-Encoding: chunked"] if chunked else []

    status, body, _ = api.curl(
        "-X",
        "POST",
        "$BASE_URL/sessions",
        "-H",
        "Content-Type: application/json",
        *transfer,
        "--data-binary",
        f"@{big}",
    )
    assert (status, body["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")

    status, body, _ = api.curl(
        "-X",
        "POST",
        "$BASE_URL/sessions",
        "-H",
        "Content-Type: application/json",
        *transfer,
        "-d",
        "{not json",
    )
    assert (status, body["error"]["code"]) == (400, "INVALID_PAYLOAD")

    # a small valid body is read whole either way (no host runs, so placement is what fails)
    valid = json.dumps({"userId": "u", "agentId": "a", "agentName": "x"})
    status, body, _ = api.curl(
        "-X", "POST", "$BASE_URL/sessions", "-H", "Content-Type: application/json", *transfer, "-d", valid
    )
    assert (status, body["error"]["code"]) == (503, "NO_SESSION_HOST")
    assert api.process.alive() and "Traceback" not in api.process.log()

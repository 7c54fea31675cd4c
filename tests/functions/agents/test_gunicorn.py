"""The API under a real gunicorn (real HTTP): the seed's curl examples, and /metrics across workers."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from contract import jobs
from tests.functions.agents.conftest import (
    API_KEY,
    PNG_1PX,
    FakeServer,
    QueueHost,
    add_agent,
    make_ready,
    reply,
)
from tests.support.processes import PYTHON, Process, free_port, wait_http_ok

GUNICORN = str(Path(PYTHON).parent / "gunicorn")

# Copied from the seed (docs "Alur Kerja WhatsApp API"), placeholders kept as written there.
SEED_CURLS = {
    "run": """curl -X POST "$BASE_URL/agents/AGENT_ID/run" \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer API_KEY" \\
  -d '{
    "input": "Hello assistant!",
    "parameters": { "max_steps": 5 },
    "session_id": "6281234567890"
  }'""",
    "messages": """curl -X POST "$BASE_URL/agents/AGENT_ID/messages" \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer API_KEY" \\
  -d '{
    "to": "6281234567890",
    "message": "Halo dari API",
    "quotedMessageId": "opsional_true_628...@c.us_XXXX"
  }'""",
    "media_base64": """curl -X POST "$BASE_URL/agents/AGENT_ID/media" \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer API_KEY" \\
  -d '{
    "to": "6281234567890",
    "data": "<BASE64_IMAGE>",
    "caption": "Invoice #123",
    "filename": "invoice.jpg",
    "mimeType": "image/jpeg"
  }'""",
    "media_url": """curl -X POST "$BASE_URL/agents/AGENT_ID/media" \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer API_KEY" \\
  -d '{
    "to": "6281234567890",
    "url": "https://example.com/image.jpg",
    "caption": "From URL"
  }'""",
    "session": 'curl "$BASE_URL/sessions/AGENT_ID"',
    "health": 'curl "$BASE_URL/health"',
    "metrics": 'curl "$BASE_URL/metrics"',
}


def start_gunicorn(run_dir: Path, name: str, env: dict[str, str]) -> tuple[Process, str]:
    """Start the API under gunicorn with the project's gunicorn config; return it and its URL."""
    port = free_port()
    full_env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "APP_ENV": "test",
        "LOG_LEVEL": "WARNING",
    }
    full_env.update(env)
    process = Process(
        name,
        [GUNICORN, "-c", "functions/gunicorn_conf.py", "functions.app:create_app()"],
        env=full_env,
        log_dir=run_dir,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(url + "/health", 30, process)
    return process, url


@pytest.fixture
def gunicorn_env(clean_pg_url, redis_url, run_dir, tmp_path) -> dict[str, str]:
    """Return the environment of a test gunicorn."""
    prometheus_dir = tmp_path / "prometheus"
    prometheus_dir.mkdir()
    return {
        "DATABASE_URL": clean_pg_url,
        "REDIS_URL": redis_url,
        "TEMP_DIR": str(tmp_path / "media"),
        "EVENTS_SECRET": "gunicorn-test-secret",
        "SEND_WAIT_SECONDS": "10",
        "PROMETHEUS_MULTIPROC_DIR": str(prometheus_dir),
    }


@pytest.fixture
def seed_gunicorn(gunicorn_env, run_dir, fake_server: FakeServer) -> Iterator[str]:
    """Run gunicorn with the fake outside world (AI backend and media host) allow-listed."""
    env = {**gunicorn_env, "MEDIA_URL_ALLOWLIST": "127.0.0.1", "AI_BACKEND_URL": fake_server.url}
    process, url = start_gunicorn(run_dir, "gunicorn-seed", env)
    yield url
    assert process.stop() == 0, process.log()[-2000:]


def _curl(command: str, base_url: str, replacements: dict[str, str]) -> tuple[int, str]:
    for placeholder, value in replacements.items():
        command = command.replace(placeholder, value)
    result = subprocess.run(
        ["bash", "-c", command + " -sS -w '\\n%{http_code}'"],
        env={**os.environ, "BASE_URL": base_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_seed_curl_examples(
    seed_gunicorn: str, fake_server: FakeServer, clean_pg_url, redis_url, queue_host: QueueHost
):
    # given a connected agent whose AI and media URL are the local fake outside world
    agent = add_agent(clean_pg_url, endpoint_url_run="")
    make_ready(redis_url, agent.agent_id)
    fake_server.json_route("POST", f"/agents/{agent.agent_id}/execute", 200, {"reply": "Hi from the AI"})
    fake_server.route(
        "GET", "/image.jpg", lambda r: reply(r, 200, b"\xff\xd8\xff" + b"0" * 2048, "image/jpeg")
    )
    delivered: list = []
    queue_host.serve(agent.agent_id, delivered)
    replacements = {
        "AGENT_ID": agent.agent_id,
        "API_KEY": API_KEY,
        "<BASE64_IMAGE>": base64.b64encode(PNG_1PX).decode(),
        "https://example.com/image.jpg": fake_server.url + "/image.jpg",
    }
    answers = {name: _curl(cmd, seed_gunicorn, replacements) for name, cmd in SEED_CURLS.items()}
    # then each answers as the seed describes
    status, body = answers["run"]
    assert (status, json.loads(body)["reply"], json.loads(body)["replySent"]) == (200, "Hi from the AI", True)
    status, body = answers["messages"]
    assert status == 200 and json.loads(body)["delivered"] is True
    status, body = answers["media_base64"]
    media_answer = json.loads(body)
    assert status == 200 and media_answer["delivered"] is True
    assert Path(media_answer["previewPath"]).read_bytes() == PNG_1PX
    status, body = answers["media_url"]
    assert status == 200 and json.loads(body)["filename"] == "image.jpg"
    status, body = answers["session"]
    assert status == 200 and json.loads(body)["liveState"]["isReady"] is True
    status, body = answers["health"]
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = answers["metrics"]
    assert status == 200 and "sessions_active 1" in body
    kinds = [job.func_name for job in delivered]
    assert kinds == [
        jobs.JobName.SEND_TEXT,
        jobs.JobName.SEND_TEXT,
        jobs.JobName.SEND_MEDIA,
        jobs.JobName.SEND_MEDIA,
    ]
    texts = [jobs.SendText.from_wire(job.args[0]).text for job in delivered[:2]]
    assert texts == ["Hi from the AI", "Halo dari API"]


def _value(text: str, series: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(series + " ")]
    assert len(values) == 1, f"{series} in:\n{text}"
    return values[0]


def test_metrics_totals_across_two_workers(gunicorn_env, run_dir, clean_pg_url):
    # given two gunicorn workers
    add_agent(clean_pg_url)
    process, url = start_gunicorn(run_dir, "gunicorn-metrics", {**gunicorn_env, "WEB_CONCURRENCY": "2"})
    prometheus_dir = Path(gunicorn_env["PROMETHEUS_MULTIPROC_DIR"])
    health_series = 'flask_http_request_duration_seconds_count{method="GET",status="200",url_rule="/health"}'

    def health(_: int) -> int:
        return requests.get(url + "/health", headers={"Connection": "close"}, timeout=10).status_code

    def bad_send(_: int) -> int:
        body = {"to": "6281234567890", "message": "x"}
        return requests.post(url + "/agents/agent-1/messages", json=body, timeout=10).status_code

    def serving_workers() -> int:
        # each worker writes its request counters to counter_<pid>.db once it has served
        return len(list(prometheus_dir.glob("counter_*.db")))

    try:
        # the start-up probes already answered some /health requests
        before = _value(requests.get(url + "/metrics", timeout=10).text, health_series)
        # when health checks arrive on fresh connections, in parallel, until both workers served some
        sent = 0
        with ThreadPoolExecutor(16) as pool:
            while sent < 2000 and (sent < 80 or serving_workers() < 2):
                assert set(pool.map(health, range(40))) == {200}
                sent += 40
            assert set(pool.map(bad_send, range(12))) == {401}
        assert serving_workers() == 2
        # then whichever worker answers /metrics reports the totals of both
        for _ in range(6):
            text = requests.get(url + "/metrics", headers={"Connection": "close"}, timeout=10).text
            assert _value(text, 'errors_total{code="UNAUTHORIZED"}') == 12
            assert _value(text, health_series) == before + sent
    finally:
        assert process.stop() == 0, process.log()[-2000:]

"""Redis or the database going away mid-run: a clear 503, then the same process serves again."""

from __future__ import annotations

import os
import re
import time
from urllib.parse import urlsplit

import pytest
import requests

from contract.hosts import HostRegistry
from functions import repository
from tests.support.host import FakeHost, later
from tests.support.processes import ROOT, Process, free_port, start_redis, wait_http_ok
from tests.support.tcp_proxy import TcpProxy


def restart_redis(url: str, run_dir, name: str) -> Process:
    """Start redis-server again on the port of `url` (empty, as after a crash without persistence)."""
    process, _ = start_redis(run_dir, name, port=urlsplit(url).port)
    return process


@pytest.fixture
def own_redis(run_dir):
    """A redis-server only this test uses, so stopping it disturbs nobody; yields (processes, url)."""
    process, url = start_redis(run_dir, name=f"outage-redis-{os.urandom(3).hex()}")
    processes = [process]
    yield processes, url
    for proc in processes:
        proc.stop()


def record(app, agent_id: str = "agent-1") -> None:
    repository.upsert_agent(
        app.extensions["db_engine"],
        user_id="u",
        agent_id=agent_id,
        agent_name="n",
        api_key=None,
        endpoint_url_run="x",
    )


def test_redis_down_is_503_then_the_same_app_recovers(make_app, own_redis, run_dir):
    processes, url = own_redis
    app = make_app(redis_url=url)
    client = app.test_client()
    record(app)
    assert client.get("/sessions/agent-1").status_code == 200

    # when: Redis stops
    assert processes[0].stop() == 0
    down = client.get("/sessions/agent-1", headers={"X-Request-Id": "req-down"})
    create = client.post("/sessions", json={"userId": "u", "agentId": "agent-2", "agentName": "n"})

    # then: a clear 503, not a 500
    assert down.status_code == 503
    assert down.get_json() == {
        "error": {
            "code": "SERVICE_UNAVAILABLE",
            "message": "Redis is unavailable; try again shortly",
            "traceId": "req-down",
        }
    }
    assert create.status_code == 503 and create.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert down.headers["Retry-After"] == create.headers["Retry-After"] == "2"
    assert client.get("/health").status_code == 200

    # when: Redis is back on the same port, the same app serves again
    processes.append(restart_redis(url, run_dir, "outage-redis-again"))
    again = client.get("/sessions/agent-1")
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["agentId"] == "agent-1"
    # and the reconnect was counted, in Redis, for the whole deployment's /metrics
    metrics_text = client.get("/metrics").get_data(as_text=True)
    assert re.search(r'^redis_reconnects_total\{process="api"\} [1-9]', metrics_text, re.M), metrics_text


def test_redis_dying_during_a_qr_wait_is_503_at_once(make_app, own_redis):
    processes, url = own_redis
    app = make_app(redis_url=url, qr_wait_seconds=20)
    record(app)
    host = FakeHost(url, "h-outage").register(heartbeat=False)
    host.client.close()
    host.raw.close()
    stopper = later(1.0, processes[0].stop)

    started = time.monotonic()
    response = app.test_client().post("/sessions/agent-1/qr")
    stopper.join(10)

    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert time.monotonic() - started < 8


def test_database_down_is_503_then_the_same_app_recovers(make_app, clean_pg_url):
    parts = urlsplit(clean_pg_url)
    proxy = TcpProxy(parts.hostname, parts.port)
    proxied = clean_pg_url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    app = make_app(database_url=proxied)
    client = app.test_client()
    record(app)
    assert client.get("/sessions/agent-1").status_code == 200

    proxy.cut()
    down = client.get("/sessions/agent-1", headers={"X-Request-Id": "req-db-down"})

    assert down.status_code == 503
    assert down.get_json() == {
        "error": {
            "code": "SERVICE_UNAVAILABLE",
            "message": "the database is unavailable; try again shortly",
            "traceId": "req-db-down",
        }
    }

    proxy.restore()
    again = client.get("/sessions/agent-1")
    assert again.status_code == 200, again.get_json()
    proxy.cut()


def test_gunicorn_survives_a_redis_restart(own_redis, clean_pg_url, run_dir):
    processes, url = own_redis
    api_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": clean_pg_url,
        "REDIS_URL": url,
        "PORT": str(api_port),
        "EVENTS_SECRET": "test-events-secret",
        "LOG_LEVEL": "INFO",
        "WEB_CONCURRENCY": "1",
    }
    env.pop("ADMIN_TOKEN", None)
    api = Process(
        f"gunicorn-outage-{api_port}",
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "functions/gunicorn_conf.py", "functions.app:create_app()"],
        env=env,
        log_dir=run_dir,
    )
    base = f"http://127.0.0.1:{api_port}"
    try:
        wait_http_ok(f"{base}/health", process=api)
        body = {"userId": "u", "agentId": "agent-1", "agentName": "n"}
        # no session host registered: Redis answers, so this is the placement error
        placed = requests.post(f"{base}/sessions", json=body, timeout=10)
        assert placed.status_code == 503 and placed.json()["error"]["code"] == "NO_SESSION_HOST"
        assert requests.get(f"{base}/sessions/agent-1", timeout=10).status_code == 200

        assert processes[0].stop() == 0
        down = requests.get(f"{base}/sessions/agent-1", timeout=10)
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert "Redis" in down.json()["error"]["message"]

        processes.append(restart_redis(url, run_dir, f"outage-redis-{api_port}-again"))
        again = requests.get(f"{base}/sessions/agent-1", timeout=10)
        assert again.status_code == 200, again.text
        assert api.alive()
        assert "Traceback" not in api.log()
    finally:
        assert api.stop() == 0


def test_a_send_while_redis_is_down_answers_503_at_once(make_app, own_redis):
    processes, url = own_redis
    app = make_app(redis_url=url)
    record(app)
    client = app.test_client()
    assert processes[0].stop() == 0
    started = time.monotonic()
    response = client.post(
        "/agents/agent-1/messages",
        json={"to": "6281234567890", "message": "hi"},
        headers={"Authorization": "Bearer any"},
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    # not a hang until SEND_WAIT_SECONDS: the client gives up after one quick retry
    assert elapsed < 2.0, elapsed


def test_post_sessions_while_hosts_reregister_is_503_with_retry_after(make_app, own_redis):
    _, url = own_redis
    app = make_app(redis_url=url)
    # given a host heart-beating after Redis lost its registry entry
    HostRegistry(app.extensions["redis"], ttl=15).heartbeat("host-x", time.time())
    body = {"userId": "u", "agentId": "agent-9", "agentName": "n", "apikey": "k"}
    response = app.test_client().post("/sessions", json=body)
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["Retry-After"] == "2"

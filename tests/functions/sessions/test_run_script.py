"""`make run`'s script on embedded defaults: it starts its own Redis when none answers, and stops it."""

from __future__ import annotations

import os
import socket

import requests

from tests.support.processes import Process, free_port, ping, wait_http_ok
from tests.support.waiting import wait_until


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_run_script_starts_redis_migrates_serves_and_cleans_up(run_dir):
    # given: no REDIS_URL, and nothing answers on the port the script will use
    api_port, redis_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ADMIN_TOKEN")}
    env.update(
        PORT=str(api_port),
        REDIS_PORT=str(redis_port),
        DATABASE_URL=f"sqlite:///{run_dir / 'make-run' / 'gateway.db'}",
    )
    assert not port_open(redis_port)

    script = Process(f"run-sh-{api_port}", ["bash", "scripts/run.sh"], env=env, log_dir=run_dir)
    code = None
    try:
        # when
        wait_http_ok(f"http://127.0.0.1:{api_port}/health", timeout=60, process=script)

        # then: its own Redis answers, the SQLite database was migrated, the API serves
        assert ping(f"redis://127.0.0.1:{redis_port}/0")
        assert (run_dir / "make-run" / "gateway.db").exists()
        missing = requests.get(f"http://127.0.0.1:{api_port}/sessions/nobody", timeout=10)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "SESSION_NOT_FOUND"
        assert f"starting a local redis-server on 127.0.0.1:{redis_port}" in script.log()
    finally:
        # The script stops its session host (Chrome) first: give it the time Stack.stop allows.
        code = script.stop(timeout=90)

    # and SIGTERM to the script stops what it started (its own trap, not a SIGKILL of the group)
    assert code is not None and code != -9, script.log()[-2000:]
    wait_until(lambda: not port_open(redis_port) and not port_open(api_port), 20, message="ports freed")

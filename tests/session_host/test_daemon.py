"""`python -m session_host` as a process: SIGTERM stops cleanly, a second SIGTERM at once."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis

from contract import jobs
from contract.hosts import HOSTS_KEY, HostRegistry
from contract.live import LiveStateStore, SessionState
from devstack.process import Process, free_port, wait_until
from devstack.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str, Path]]:
    run_dir = tmp_path_factory.mktemp("daemon")
    stack = Stack(run_dir, database_url="")
    try:
        stack.start_redis(appendonly=False)
        stack.start_simulator()
        yield stack, stack.redis_url, run_dir
    finally:
        stack.stop()


def start_host(services: tuple[Stack, str, Path], host_id: str) -> tuple[Process, list[psutil.Process]]:
    """Start a host process, open one session on it, and return it with that session's Chromes."""
    stack, redis_url, run_dir = services
    # no API: events go to a port nobody listens on
    host = stack.start_host(host_id, events_url=f"http://127.0.0.1:{free_port()}")
    raw = redis.Redis.from_url(redis_url)
    agent = f"agent-of-{host_id}"
    jobs.enqueue(raw, jobs.JobName.ENSURE, jobs.EnsureSession(agent_id=agent), host_id=host_id)
    live = LiveStateStore(redis.Redis.from_url(redis_url, decode_responses=True))
    assert live.wait_for(agent, lambda s: s.state is SessionState.AWAITING_QR, 30) is not None
    marker = f"--user-data-dir={run_dir / 'auth' / f'session-{agent}'}"
    chromes = [p for p in psutil.process_iter() if marker in _cmdline(p)]
    assert chromes
    tree = [c for p in chromes for c in (p, *_children(p))]
    return host, tree


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:  # a short-lived helper process may be gone already
        return []


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def _gone(tree: list[psutil.Process]) -> bool:
    def running(proc: psutil.Process) -> bool:
        try:
            return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    return not any(running(p) for p in tree)


def test_sigterm_closes_every_chrome_and_deregisters(services) -> None:
    host, tree = start_host(services, "graceful")

    host.signal(signal.SIGTERM)

    wait_until(lambda: not host.alive(), 60, message="host exited")
    assert host.stop() == 0
    assert _gone(tree)
    client = redis.Redis.from_url(services[1], decode_responses=True)
    assert client.zscore(HOSTS_KEY, "graceful") is None
    assert HostRegistry(client).owner_of("agent-of-graceful") is None
    state = LiveStateStore(client).get("agent-of-graceful")
    assert state is not None and state.state is SessionState.DISCONNECTED
    assert state.reason == "session host stopped"


def test_a_second_sigterm_stops_at_once(services) -> None:
    host, tree = start_host(services, "hasty")

    host.signal(signal.SIGTERM)
    # two signals delivered before Python runs its handler count once: wait for the first
    wait_until(lambda: "stop signal received" in host.log(), 10, message="first SIGTERM handled")
    host.signal(signal.SIGTERM)

    wait_until(lambda: not host.alive(), 10, message="host exited")
    assert host.stop() == 1
    wait_until(lambda: _gone(tree), 10, message="every Chrome ended")

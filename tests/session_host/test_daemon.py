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
from devstack.process import PYTHON, Process, free_port, wait_until
from devstack.stack import Stack
from tests.support.aws import auto_scaling_group, aws_env, latest, moto_server, protected

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


def test_a_host_with_sessions_publishes_them_and_protects_its_instance(services) -> None:
    stack, redis_url, run_dir = services
    with moto_server() as moto_url:
        instance = auto_scaling_group(moto_url, "session-hosts")
        env = {
            **stack.host_env(
                instance,
                events_url=f"http://127.0.0.1:{free_port()}",
                cloudwatch_namespace="WAGW/daemon",
                autoscaling_group_name="session-hosts",
                scale_in_protection=True,
                metrics_publish_seconds=0.3,
            ),
            **aws_env(moto_url),
        }
        host = Process("host-scaling", [PYTHON, "-m", "session_host"], env=env, log_dir=run_dir)
        try:
            group = {"AutoScalingGroupName": "session-hosts"}
            wait_until(
                lambda: latest(moto_url, "WAGW/daemon", "SessionsPerHost", group) == 0,
                30,
                message="0 published",
            )
            assert protected(moto_url, instance) is False

            raw = redis.Redis.from_url(redis_url)
            jobs.enqueue(
                raw, jobs.JobName.ENSURE, jobs.EnsureSession(agent_id="agent-scaled"), host_id=instance
            )
            wait_until(lambda: protected(moto_url, instance), 30, message="protected while it runs a session")
            assert latest(moto_url, "WAGW/daemon", "SessionsPerHost", group) == 1
        finally:
            host.signal(signal.SIGTERM)
            wait_until(lambda: not host.alive(), 60, message="host exited")
            assert host.stop() == 0, host.log()[-2000:]

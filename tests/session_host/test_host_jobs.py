"""The session host in-process against the simulator and real Chromium, driven by RQ jobs.

Real Redis, a real simulator process and real Chromium; the functions' `/internal/events`
is a small local HTTP server checking the HMAC signature.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import psutil
import pytest
import redis
import requests
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.results import Result

from contract import jobs
from contract.failures import FailureCode, JobFailure
from contract.live import LiveStateStore, SessionState
from contract.wire import utcnow
from session_host import jobs as host_jobs
from session_host.config import HostSettings
from session_host.host import SessionHost
from tests.session_host.receiver import SECRET, Receiver, running_receiver
from tests.support.processes import PYTHON, Process, free_port, start_redis, wait_http_ok
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


class World:
    """Redis, simulator, event receiver and an in-process host for the module."""

    def __init__(
        self, raw: redis.Redis, client: redis.Redis, sim_url: str, host: SessionHost, receiver: Receiver
    ):
        self.raw = raw
        self.live = LiveStateStore(client)
        self.sim_url = sim_url
        self.host = host
        self.receiver = receiver

    def run(self, name: jobs.JobName, payload: jobs.JobPayload, timeout: float = 60) -> Result:
        job = jobs.enqueue(self.raw, name, payload, host_id=self.host.host_id)
        result = job.latest_result(timeout=int(timeout))
        assert result is not None, f"{name} produced no result in {timeout}s"
        return result

    def scan(self, agent_id: str, phone: str) -> None:
        state = self.live.wait_for(agent_id, lambda s: bool(s.qr), 30)
        assert state is not None
        requests.post(f"{self.sim_url}/control/scan", json={"qr": state.qr, "phone": phone}, timeout=10)
        assert self.live.wait_for(agent_id, lambda s: s.is_ready, 30) is not None


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    run_dir = tmp_path_factory.mktemp("host-jobs")
    redis_process, redis_url = start_redis(run_dir, "redis-host-jobs")
    port = free_port()
    simulator = Process(
        "simulator", [PYTHON, "-m", "simulator", "--port", str(port)], env={}, log_dir=run_dir
    )
    sim_url = f"http://127.0.0.1:{port}"
    host = None
    try:
        wait_http_ok(f"{sim_url}/control/health", 30, simulator)
        with running_receiver() as receiver:
            settings = HostSettings(
                host_id="host-t",
                redis_url=redis_url,
                wa_web_url=f"{sim_url}/",
                wa_auth_dir=run_dir / "auth",
                temp_dir=run_dir / "tmp",
                events_url=receiver.url,
                events_secret=SECRET,
                metrics_port=0,
                load_timeout_seconds=20,
                send_ready_wait_seconds=2,
            )
            host = SessionHost(settings)
            host_jobs.bind_host(host)
            host.start()
            raw = redis.Redis.from_url(redis_url)
            yield World(raw, redis.Redis.from_url(redis_url, decode_responses=True), sim_url, host, receiver)
    finally:
        if host is not None:
            host.stop()
        host_jobs.bind_host(None)
        simulator.stop()
        redis_process.stop()


def test_ensure_opens_whatsapp_web_and_reports_the_qr(world: World) -> None:
    result = world.run(jobs.JobName.ENSURE, jobs.EnsureSession(agent_id="a1"))

    assert result.type == Result.Type.SUCCESSFUL
    state = world.live.wait_for("a1", lambda s: s.state is SessionState.AWAITING_QR and bool(s.qr), 20)
    assert state is not None and state.host == "host-t"
    wait_until(lambda: world.receiver.of_type("qr"), 10, message="qr event posted")
    assert world.receiver.of_type("qr")[0]["agentId"] == "a1"


def test_pairing_code_links_the_device_by_phone_number(world: World) -> None:
    result = world.run(
        jobs.JobName.PAIRING_CODE, jobs.RequestPairingCode(agent_id="a1", phone_number="6281233344455")
    )

    assert result.type == Result.Type.SUCCESSFUL, result.exc_string
    code = jobs.PairingCodeResult.from_wire(result.return_value).code
    assert len(code) == 8
    assert world.live.wait_for("a1", lambda s: s.pairing_code == code, 5) is not None
    requests.post(f"{world.sim_url}/control/pair", json={"code": code}, timeout=10).raise_for_status()
    assert world.live.wait_for("a1", lambda s: s.is_ready, 20) is not None
    ready = wait_until(lambda: world.receiver.of_type("ready"), 10, message="ready event posted")
    assert ready[0]["phone"] == "6281233344455"


def test_inbound_messages_are_pushed_once_each(world: World) -> None:
    phone = "6281233344455"
    url = f"{world.sim_url}/control/accounts/{phone}/inbound"
    for text in ("halo", "kedua"):
        body = {"from": "6287700011122", "body": text, "notifyName": "Budi"}
        requests.post(url, json=body, timeout=10).raise_for_status()

    # the second message arriving means any duplicate of the first would have come already
    wait_until(lambda: len(world.receiver.of_type("message")) >= 2, 10, message="message events posted")
    bodies = [e["message"]["body"] for e in world.receiver.of_type("message")]
    assert bodies == ["halo", "kedua"]
    message = world.receiver.of_type("message")[0]["message"]
    assert (message["sender"], message["notifyName"]) == ("6287700011122@c.us", "Budi")
    assert message["botId"] == f"{phone}@c.us"


def test_a_slow_agent_never_blocks_another(world: World) -> None:
    world.run(jobs.JobName.ENSURE, jobs.EnsureSession(agent_id="a2"))
    world.scan("a2", "6281233300002")

    # given agent a1's next send may only go out in 4 seconds (its rate-limit slot)
    later = jobs.SendText(
        agent_id="a1", to="628111", text="later", not_before=utcnow() + timedelta(seconds=4)
    )
    slow = jobs.enqueue(world.raw, jobs.JobName.SEND_TEXT, later)
    # when agent a2 sends right after
    started = time.monotonic()
    quick = world.run(jobs.JobName.SEND_TEXT, jobs.SendText(agent_id="a2", to="628111", text="now"))

    # then a2 is not held up, and a1's send waits for its slot
    assert quick.type == Result.Type.SUCCESSFUL
    assert time.monotonic() - started < 2.5
    assert slow.latest_result() is None
    done = slow.latest_result(timeout=10)
    assert done is not None and done.type == Result.Type.SUCCESSFUL
    assert done.created_at.replace(tzinfo=UTC) >= later.not_before - timedelta(milliseconds=50)


def test_a_failing_job_lands_in_rqs_failed_registry_with_its_reason(world: World) -> None:
    queue = Queue(jobs.agent_queue_name("a1"), connection=world.raw, serializer=jobs.SERIALIZER)
    bad = queue.enqueue_call(str(jobs.JobName.SEND_TEXT), args=({"agentId": "a1", "to": "628111"},))
    unknown_chat = jobs.enqueue(
        world.raw, jobs.JobName.SEND_TEXT, jobs.SendText(agent_id="a1", to="not-a-number", text="x")
    )

    for job in (bad, unknown_chat):
        result = job.latest_result(timeout=15)
        assert result is not None and result.type == Result.Type.FAILED
    registry = FailedJobRegistry(queue=queue)
    assert {bad.id, unknown_chat.id} <= set(registry.get_job_ids())
    assert "ValidationError" in bad.latest_result().exc_string
    assert "InvalidJid" in unknown_chat.latest_result().exc_string


def test_a_failing_job_carries_a_typed_reason_the_functions_read(world: World) -> None:
    # given a send to a chat id the host cannot accept
    nowhere = jobs.enqueue(
        world.raw, jobs.JobName.SEND_TEXT, jobs.SendText(agent_id="a1", to="not-a-number", text="x")
    )
    # when the host fails it
    result = nowhere.latest_result(timeout=15)
    assert result is not None and result.type == Result.Type.FAILED
    # then the job's meta holds the code and message, without parsing the traceback
    failure = JobFailure.from_meta(nowhere.get_meta(refresh=True))
    assert failure is not None
    assert failure.code is FailureCode.INVALID_JOB
    assert failure.message.startswith("InvalidJid: ")


def test_destroy_closes_chrome_and_deletes_the_login(world: World) -> None:
    profile: Path = world.host.auth.path("a2")
    pids = world.host.lane("a2").session.pids()
    assert pids and profile.is_dir()

    result = world.run(jobs.JobName.DESTROY, jobs.DestroySession(agent_id="a2", delete_auth=True))

    assert result.type == Result.Type.SUCCESSFUL
    assert result.return_value == {"agentId": "a2", "stopped": True, "authDeleted": True}
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids)
    assert not profile.exists()
    assert world.live.get("a2") is None
    wait_until(lambda: [e for e in world.receiver.of_type("stopped") if e["agentId"] == "a2"], 10)


def test_typing_on_and_off_reach_the_chat(world: World) -> None:
    for on in (True, False):
        result = world.run(
            jobs.JobName.TYPING, jobs.SetTyping(agent_id="a1", chat_id="6287700011122", typing=on)
        )
        assert result.type == Result.Type.SUCCESSFUL, result.exc_string

    typing = requests.get(f"{world.sim_url}/control/accounts/6281233344455/typing", timeout=10).json()
    assert [(t["chatId"], t["state"]) for t in typing[-2:]] == [
        ("6287700011122@c.us", "composing"),
        ("6287700011122@c.us", "paused"),
    ]


def test_logout_unlinks_the_device_and_a_new_qr_appears(world: World) -> None:
    result = world.run(jobs.JobName.LOGOUT, jobs.Logout(agent_id="a1"))

    assert result.type == Result.Type.SUCCESSFUL, result.exc_string
    assert world.live.wait_for("a1", lambda s: s.state is SessionState.AWAITING_QR and bool(s.qr), 20)
    wait_until(lambda: [e for e in world.receiver.of_type("disconnected") if e["agentId"] == "a1"], 10)

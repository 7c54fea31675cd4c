"""Play the session host's side of the contract in tests: registry, job queue, live state.

The real host lives in `session_host/`; tests of the stateless functions stand in for it
using only the contract's public pieces (HostRegistry, LiveStateStore, the RQ queue the
contract names) and rq's public Job/Result API, exactly as a host would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from rq import Queue
from rq.exceptions import DequeueTimeout
from rq.job import Job, JobStatus
from rq.results import Result

from contract import jobs
from contract.hosts import HostRegistry
from contract.live import LiveStateStore, SessionState

Handler = Callable[[Job], Any]


class FakeHost:
    """A registered, heart-beating session host whose jobs the test consumes."""

    def __init__(self, redis_url: str, host_id: str, capacity: int = 10, ttl: float = 15.0):
        self.host_id = host_id
        self.redis_url = redis_url
        self.capacity = capacity
        self.client = redis.Redis.from_url(redis_url, decode_responses=True)
        self.raw = redis.Redis.from_url(redis_url)
        self.registry = HostRegistry(self.client, ttl=ttl)
        self.live = LiveStateStore(self.client)
        self.queue = Queue(jobs.host_queue_name(host_id), connection=self.raw, serializer=jobs.SERIALIZER)
        self.handled: list[tuple[str, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def register(self, heartbeat: bool = True) -> FakeHost:
        """Register in the host registry and keep heart-beating until stopped."""
        self.registry.register(self.host_id, self.capacity, time.time())
        if heartbeat:
            self._spawn(self._beat)
        return self

    def _beat(self) -> None:
        while not self._stop.wait(1.0):
            self.registry.heartbeat(self.host_id, time.time())

    def _spawn(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self._threads.append(thread)

    def agent_queue(self, agent_id: str) -> Queue:
        """Return the queue of jobs acting inside one agent's session."""
        return Queue(jobs.agent_queue_name(agent_id), connection=self.raw, serializer=jobs.SERIALIZER)

    def next_job(self, timeout: int = 5, queue: Queue | None = None) -> Job:
        """Take the next job off this host's queue (or `queue`), blocking on Redis, or fail."""
        queue = queue or self.queue
        found = self._dequeue(queue, timeout)
        assert found is not None, f"no job reached {queue.name} within {timeout}s"
        self.handled.append((found.func_name, found.args[0]))
        return found

    def _dequeue(self, queue: Queue, timeout: int) -> Job | None:
        try:
            found = Queue.dequeue_any([queue], timeout, connection=self.raw, serializer=jobs.SERIALIZER)
        except DequeueTimeout:
            return None
        return found[0] if found else None

    def pending(self) -> list[Job]:
        """Return the jobs waiting on this host's queue, oldest first."""
        return self.queue.get_jobs()

    def finish(self, job: Job, value: Any = None) -> None:
        """Store a successful result, as an rq worker would."""
        Result.create(job, Result.Type.SUCCESSFUL, ttl=600, return_value=value)
        job.set_status(JobStatus.FINISHED)

    def fail(self, job: Job, reason: str) -> None:
        """Store a failed result with a traceback-like reason, as an rq worker would."""
        exc = f"Traceback (most recent call last):\n  ...\nRuntimeError: {reason}\n"
        Result.create(job, Result.Type.FAILED, ttl=600, exc_string=exc)
        job.set_status(JobStatus.FAILED)

    def serve(self, handlers: dict[str, Handler]) -> None:
        """Consume jobs in a thread: call the handler for its name and store what it returns."""

        def loop() -> None:
            while not self._stop.is_set():
                job = self._dequeue(self.queue, 1)
                if job is None:
                    continue
                self.handled.append((job.func_name, job.args[0]))
                handler = handlers.get(job.func_name)
                try:
                    value = handler(job) if handler else None
                except Exception as exc:  # a failing host job is reported, like rq does
                    self.fail(job, str(exc))
                else:
                    self.finish(job, value)

        self._spawn(loop)

    def show_qr(self, agent_id: str, qr: str) -> None:
        """Publish a QR to scan, as the host does when WhatsApp shows one."""
        self.live.set_state(agent_id, SessionState.AWAITING_QR, host=self.host_id, qr=qr)

    def connect(self, agent_id: str) -> None:
        """Publish that the agent's session is connected."""
        self.live.set_state(agent_id, SessionState.CONNECTED, host=self.host_id)

    def destroy(self, agent_id: str) -> dict[str, bool]:
        """Forget the session as the host does on a destroy job."""
        self.live.clear(agent_id, host=self.host_id)
        self.registry.release(agent_id, self.host_id)
        return {"stopped": True}

    def stop(self) -> None:
        """Stop heart-beating and consuming; close connections."""
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.client.close()
        self.raw.close()


_PENDING: list[threading.Timer] = []


def later(delay: float, action: Callable[[], Any]) -> threading.Thread:
    """Run `action` on a thread after `delay` seconds (the host acting while the API waits)."""
    timer = threading.Timer(delay, action)
    timer.daemon = True
    _PENDING.append(timer)
    timer.start()
    return timer


def finish_pending(timeout: float = 15.0) -> None:
    """Wait for every `later` action of the test (it may still write to Redis after the API
    answered); the host fixture calls it before the test's connections close."""
    while _PENDING:
        _PENDING.pop().join(timeout)

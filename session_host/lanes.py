"""One lane per agent: a thread that owns the agent's browser and performs its jobs in order.

The lane runs the agent's lifecycle jobs (handed over by the host's dispatcher) and the jobs
of the agent's own RQ queue, one at a time, with RQ's own execution and result storage
(`SimpleWorker.execute_job`), so `Job.latest_result()` and the failed registry work as with
any RQ worker. Different agents have different lanes, so a slow agent never blocks another.
RQ's `Worker.work()` is never called: it installs signal handlers, which only the main
thread may do, and its SIGALRM job timeout is main-thread only too, hence TimerDeathPenalty.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from rq import Queue
from rq.exceptions import DequeueTimeout
from rq.job import Job, JobStatus
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker

from contract import logs
from contract.events import EventType, InboundMessage, MessageUpdate
from contract.failures import META_KEY, FailureCode, JobFailure
from contract.hosts import HostRegistry
from contract.jid import jid_user
from contract.jobs import SERIALIZER, agent_queue_name
from contract.live import LiveState, LiveStateStore, SessionState
from session_host import metrics
from session_host.auth_store import AuthStore
from session_host.browser.base import LoadFailed, SessionError, WhatsAppSession
from session_host.config import HostSettings
from session_host.failures import classify

log = logs.get_logger(__name__)

# Bridge events about messages already in a chat, and the event each becomes.
_UPDATES = {
    "ack": EventType.ACK,
    "reaction": EventType.REACTION,
    "revoke": EventType.REVOKE,
    "edit": EventType.EDIT,
}

HEALTHY_RESET_SECONDS = 60.0


class NotReady(SessionError):
    """Raised when a job needs a connected session and none came in time."""

    code = FailureCode.SESSION_NOT_READY


class LaneWorker(SimpleWorker):
    """An RQ worker performing jobs on the calling thread with a thread-safe timeout."""

    death_penalty_class = TimerDeathPenalty

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        """Store the typed failure in the job's meta (RQ records the failure right after)."""
        if exc_info and exc_info[1] is not None:
            record_failure(job, classify(exc_info[1]))
        super().handle_exception(job, *exc_info)


def record_failure(job: Job, failure: JobFailure) -> None:
    """Save a typed failure on the job for the functions to read."""
    job.meta[META_KEY] = failure.to_meta()
    job.save_meta()


EventEmitter = Callable[..., None]


@dataclass(frozen=True)
class LaneContext:
    """What a lane needs from its host, and nothing more."""

    rq: Any
    host_id: str
    settings: HostSettings
    stopping: threading.Event
    live: LiveStateStore
    registry: HostRegistry
    auth: AuthStore
    emit: EventEmitter  # emit(EventType, agent_id, **fields): queue an event for the functions


class AgentLane:
    """The thread, the session and the live status of one agent on this host."""

    def __init__(self, ctx: LaneContext, agent_id: str, session: WhatsAppSession):
        self.ctx = ctx
        self.agent_id = agent_id
        self.session = session
        self.queue = Queue(
            agent_queue_name(agent_id),
            connection=ctx.rq,
            serializer=SERIALIZER,
            death_penalty_class=TimerDeathPenalty,
        )
        self.worker = LaneWorker(
            [self.queue],
            name=f"{ctx.host_id}.{agent_id}.{uuid.uuid4().hex[:8]}",
            connection=ctx.rq,
            serializer=SERIALIZER,
        )
        self.state: SessionState | None = None
        # The last live state this lane wrote, republished if Redis loses it.
        self.published: LiveState | None = None
        self._surrender_to: str | None = None
        self.qr: str | None = None
        self.changed = threading.Condition()
        self.inbox: deque[tuple[Job, Queue]] = deque()
        self.want_running = False
        self.finished = False
        self._failures = 0
        self._restart_at = 0.0
        self._up_since = 0.0
        self._thread = threading.Thread(target=self._run, name=f"lane-{agent_id}", daemon=True)

    # -- control from other threads ------------------------------------------------------
    def start(self, restore: bool = False) -> None:
        """Start the lane thread; with `restore`, reopen the saved session at once."""
        self.want_running = restore
        self._thread.start()

    def submit(self, job: Job, queue: Queue) -> bool:
        """Hand a lifecycle job to this lane; False if the lane already ended."""
        with self.changed:
            if self.finished:
                return False
            self.inbox.append((job, queue))
            self.changed.notify_all()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the lane thread to end."""
        self._thread.join(timeout)

    def wake(self) -> None:
        """Wake the lane (shutdown, crash, new state)."""
        with self.changed:
            self.changed.notify_all()

    # -- the lane thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            self.worker.register_birth()
        except redis.RedisError as exc:
            log.warning(
                "could not register the lane's worker: Redis unavailable",
                agentId=self.agent_id,
                error=str(exc),
            )
        try:
            while True:
                try:
                    if self._step():
                        break
                except redis.RedisError as exc:
                    # Redis away (restart, failover): keep the browser, try again shortly.
                    log.warning("lane waiting for Redis", agentId=self.agent_id, error=str(exc))
                    self.ctx.stopping.wait(1.0)
        except Exception:
            log.exception("agent lane crashed", agentId=self.agent_id)
        finally:
            self.session.stop()
            with contextlib.suppress(redis.RedisError):  # the worker's key expires by itself
                self.worker.register_death()

    def _step(self) -> bool:
        """Do one thing the lane has to do; return True when the lane ends."""
        item = self._next_inbox()
        if item is not None:
            self._execute(*item)
            return False
        if self.ctx.stopping.is_set() or self._end_if_idle():
            return True
        if self._surrender_to is not None:
            self._give_up_ownership()
            return False
        if self.want_running and not self.session.healthy():
            if self.state in (SessionState.AWAITING_QR, SessionState.CONNECTED):
                self.crashed("the browser process is gone")
            elif time.monotonic() >= self._restart_at:
                self._open(restarting=self.state is not None)
                return False
        elif self.want_running and self.accepting():
            job_and_queue = self._dequeue()
            if job_and_queue is not None:
                self._execute(*job_and_queue)
            return False
        with self.changed:
            if not self.inbox and not self.ctx.stopping.is_set():
                self.changed.wait(max(0.05, min(1.0, self._restart_at - time.monotonic())))
        return False

    def _dequeue(self) -> tuple[Job, Queue] | None:
        # BLMOVE into RQ's intermediate list: a job taken by a lane that dies before
        # starting it stays visible there and is put back by whoever owns the agent next.
        try:
            return Queue.dequeue_any(
                [self.queue],
                timeout=1,
                connection=self.ctx.rq,
                job_class=Job,
                serializer=SERIALIZER,
                death_penalty_class=TimerDeathPenalty,
            )
        except DequeueTimeout:
            return None

    def _next_inbox(self) -> tuple[Job, Queue] | None:
        with self.changed:
            return self.inbox.popleft() if self.inbox else None

    def _give_up_ownership(self) -> None:
        # The saved login stays: the owner opens it (one Chrome per profile, never two).
        log.warning(
            "another host owns this agent; closing its browser here",
            agentId=self.agent_id,
            owner=self._surrender_to,
        )
        self.want_running = False
        self.session.stop()
        with self.changed:
            self._surrender_to = None
            self.state = None
            self.changed.notify_all()

    def _end_if_idle(self) -> bool:
        with self.changed:
            if not self.want_running and not self.inbox and self.state is None:
                self.finished = True
            return self.finished

    def _execute(self, job: Job, queue: Queue) -> None:
        logs.reset("session-host")
        logs.bind(trace_id=(job.meta or {}).get("traceId"), agent_id=self.agent_id)
        started = time.perf_counter()
        self.worker.execute_job(job, queue)
        outcome = "ok" if job.get_status(refresh=False) == JobStatus.FINISHED else "failed"
        name = (job.func_name or "unknown").rsplit(".", 1)[-1]
        metrics.JOB_SECONDS.labels(job=name, outcome=outcome).observe(time.perf_counter() - started)
        logs.reset("session-host")

    def accepting(self) -> bool:
        """Tell whether the page is up, so the agent's queued jobs can be taken."""
        return self.session.healthy() and self.state in (
            SessionState.AWAITING_QR,
            SessionState.CONNECTED,
        )

    # -- session life cycle (lane thread only) ---------------------------------------------
    def ensure(self) -> dict[str, Any]:
        """Open the session unless it runs; return its state."""
        self.want_running = True
        if not self.session.healthy():
            self._open(restarting=False)
        return {"agentId": self.agent_id, "state": self.state.value if self.state else None}

    def _open(self, restarting: bool) -> None:
        if not restarting:
            self.set_state(SessionState.STARTING)
        self.session.stop()
        try:
            self.session.start()
        except LoadFailed as exc:
            self._failures += 1
            delay = min(self.ctx.settings.restart_backoff_max_seconds, 2 ** (self._failures - 1))
            self._restart_at = time.monotonic() + delay
            if not restarting:
                self.want_running = False
            self.report(SessionState.FAILED, EventType.FAILED, reason=str(exc))
            log.warning("session could not start", agentId=self.agent_id, reason=str(exc), retry=restarting)
            return
        self._up_since = time.monotonic()
        if restarting:
            metrics.CHROME_RESTARTS.inc()

    def crashed(self, reason: str) -> None:
        """Note that the browser died: report it and let the lane restart it with backoff."""
        if not self.want_running or self.ctx.stopping.is_set():
            return
        if time.monotonic() - self._up_since > HEALTHY_RESET_SECONDS:
            self._failures = 0
        self._failures += 1
        delay = min(self.ctx.settings.restart_backoff_max_seconds, 0.5 * 2 ** (self._failures - 1))
        self._restart_at = time.monotonic() + delay
        self.report(SessionState.DISCONNECTED, EventType.DISCONNECTED, reason=f"browser crashed: {reason}")
        log.warning("browser crashed; restarting", agentId=self.agent_id, reason=reason, delay=delay)
        self.wake()

    def destroy(self, delete_auth: bool) -> dict[str, Any]:
        """Close the browser, forget the live state, optionally delete the saved login."""
        self.want_running = False
        self.session.stop()
        auth_deleted = self.ctx.auth.delete(self.agent_id) if delete_auth else False
        self.ctx.live.clear(self.agent_id, host=self.ctx.host_id)
        self.ctx.registry.release(self.agent_id, self.ctx.host_id)
        self.ctx.emit(EventType.STOPPED, self.agent_id, state=SessionState.STOPPED)
        with self.changed:
            self.state = None
            self.changed.notify_all()
        return {
            "agentId": self.agent_id,
            "stopped": True,
            "authDeleted": auth_deleted,
        }

    def shutdown_report(self) -> None:
        """Mark the session disconnected because the host is going away."""
        if self.state is not None and self.state is not SessionState.FAILED:
            self.report(SessionState.DISCONNECTED, EventType.DISCONNECTED, reason="session host stopped")

    # -- waiting for states (job threads) ------------------------------------------------
    def require(self, states: set[SessionState], wait: float) -> None:
        """Block until the session is in one of `states`, restarting a dead browser; else NotReady."""
        deadline = time.monotonic() + wait
        while True:
            if self.state in states and self.session.healthy():
                return
            if self.want_running and not self.session.healthy() and time.monotonic() >= self._restart_at:
                self._open(restarting=True)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.ctx.stopping.is_set():
                state = self.state.value if self.state else "stopped"
                raise NotReady(f"the WhatsApp session is not ready (state: {state})")
            with self.changed:
                self.changed.wait(min(remaining, 0.5))

    # -- events from the page (CDP reader thread) ----------------------------------------
    def handle_event(self, event: dict[str, Any]) -> None:
        """Turn one bridge event into live state and a posted event."""
        kind = event.get("type")
        if kind == "qr":
            self.qr = str(event.get("qr") or "")
            first = self.state is not SessionState.AWAITING_QR
            self.report(SessionState.AWAITING_QR, EventType.QR if first else None, qr=self.qr)
        elif kind == "pairing_code":
            self.report(SessionState.AWAITING_QR, None, qr=self.qr, pairing_code=str(event.get("code")))
        elif kind == "ready":
            me = str(event.get("me") or "")
            self.report(SessionState.CONNECTED, EventType.READY, phone=jid_user(me) if me else None)
        elif kind == "auth_failure":
            self.report(
                SessionState.AUTH_FAILED, EventType.AUTH_FAILURE, reason=str(event.get("reason") or "")
            )
        elif kind == "disconnected":
            self.report(
                SessionState.DISCONNECTED, EventType.DISCONNECTED, reason=str(event.get("reason") or "")
            )
        elif kind == "message":
            try:
                message = InboundMessage.from_wire(event.get("message") or {})
            except ValueError:
                log.warning("bridge sent a malformed message", agentId=self.agent_id)
                return
            self.ctx.emit(EventType.MESSAGE, self.agent_id, message=message)
        elif kind in _UPDATES:
            try:
                update = MessageUpdate.from_wire(event.get("update") or {})
            except ValueError:
                log.warning("bridge sent a malformed message update", agentId=self.agent_id, kind=kind)
                return
            self.ctx.emit(_UPDATES[kind], self.agent_id, update=update)
        self.wake()

    def set_state(self, state: SessionState, **fields: Any) -> None:
        """Change the live state (the contract's one setter) and wake waiters."""
        published = self.ctx.live.set_state(self.agent_id, state, host=self.ctx.host_id, **fields)
        with self.changed:
            self.state = state
            self.published = published
            self.changed.notify_all()

    def republish(self) -> bool:
        """Write the lane's live state back when Redis lost it; return whether it did."""
        with self.changed:
            published = self.published if self.state is not None else None
        return published is not None and self.ctx.live.restore(published)

    def surrender(self, owner: str) -> None:
        """Another host owns the agent now: close the browser (no logout) and end the lane."""
        with self.changed:
            self._surrender_to = owner
            self.changed.notify_all()

    def report(self, state: SessionState, event: EventType | None, **fields: Any) -> None:
        """Set the live state and, when `event` is given, post it to the functions."""
        phone = fields.get("phone")
        self.set_state(state, **fields)
        if event is not None:
            self.ctx.emit(event, self.agent_id, state=state, reason=fields.get("reason"), phone=phone)

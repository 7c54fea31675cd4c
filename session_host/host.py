"""The session host: registry membership, job dispatch to agent lanes, takeover, shutdown."""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from rq import Queue
from rq.exceptions import DequeueTimeout, NoSuchJobError
from rq.job import Job, JobStatus
from rq.timeouts import TimerDeathPenalty

from contract import cloudwatch, keys, logs, reconnects
from contract.events import EventType, SessionEvent
from contract.failures import FailureCode, JobFailure
from contract.hosts import HostRegistry
from contract.jobs import SERIALIZER, agent_queue_name, host_queue_name
from contract.live import LiveStateStore
from session_host import cleanup, metrics
from session_host.auth_store import AuthStore, LocalAuthStore
from session_host.browser.base import WhatsAppSession
from session_host.config import HostSettings
from session_host.engines import session_factory
from session_host.failures import CodedError, classify
from session_host.lanes import AgentLane, LaneContext, LaneWorker, record_failure
from session_host.outbox import EventOutbox
from session_host.scaling import ScalingReporter

log = logs.get_logger(__name__)


class HostFull(CodedError):
    """Raised when a host already runs MAX_SESSIONS sessions."""

    code = FailureCode.HOST_FULL


def resume_key(host_id: str) -> str:
    """Return the set of agents a host ran when it stopped, to reopen on its next start."""
    return keys.host_resume(host_id)


def _count_reconnect(_connection: redis.Connection) -> None:
    metrics.REDIS_RECONNECTS.inc()
    log.warning("reconnected to Redis")


def _redis(url: str, decode_responses: bool = False) -> redis.Redis:
    # Timeouts so a Redis that vanished (no RST: a failover, a dead node) is noticed, not
    # waited on forever; reads allow 10 s, above the 1 s blocking dequeues of lanes.
    return reconnects.client(
        url,
        _count_reconnect,
        decode_responses=decode_responses,
        health_check_interval=15,
        socket_connect_timeout=2,
        socket_timeout=10,
    )


class SessionHost:
    """Owns the lanes of this host's agents and keeps the host registered."""

    def __init__(self, settings: HostSettings, auth: AuthStore | None = None):
        self.settings = settings
        self.host_id = settings.host_id
        self.redis = _redis(settings.redis_url, decode_responses=True)
        self.rq = _redis(settings.redis_url)
        self.live = LiveStateStore(self.redis)
        self.registry = HostRegistry(self.redis, ttl=settings.host_ttl_seconds)
        self.outbox = EventOutbox(
            self.redis, self.host_id, settings.events_url, settings.events_secret, settings.event_outbox_max
        )
        self.auth = auth or LocalAuthStore(settings.wa_auth_dir)
        self.stopping = threading.Event()
        self.context = LaneContext(
            rq=self.rq,
            host_id=self.host_id,
            settings=settings,
            stopping=self.stopping,
            live=self.live,
            registry=self.registry,
            auth=self.auth,
            emit=self.push_event,
        )
        self._new_session = session_factory(settings, self, self.auth)
        self.lanes: dict[str, AgentLane] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # -- start and stop ------------------------------------------------------------------
    def start(self) -> None:
        """Register, restore owned sessions, and start dispatch, heartbeat and cleanup threads."""
        self.settings.wa_auth_dir.mkdir(parents=True, exist_ok=True)
        self.settings.temp_dir.mkdir(parents=True, exist_ok=True)
        self._register()
        self.outbox.start()
        self._restore()
        for target, name in (
            (self._dispatch, "dispatch"),
            (self._beat, "heartbeat"),
            (self._clean, "cleanup"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        scaling = ScalingReporter(self.settings, self.sessions_running, counters=self.redis)
        if scaling.enabled:
            self._threads.append(
                cloudwatch.every(
                    self.settings.metrics_publish_seconds, self.stopping, scaling.tick, "scaling"
                )
            )
        log.info("session host started", hostId=self.host_id, capacity=self.settings.max_sessions)

    def _register(self) -> None:
        metrics_url = (
            f"http://{self.settings.metrics_host}:{self.settings.metrics_port}/metrics"
            if self.settings.metrics_port
            else None
        )
        self.registry.register(self.host_id, self.settings.max_sessions, time.time(), metrics_url=metrics_url)

    def _restore(self) -> None:
        owned = self.registry.agents_of(self.host_id)
        resumed = self.redis.smembers(resume_key(self.host_id))
        for agent_id in sorted(owned | resumed):
            if agent_id not in owned and not self.registry.claim(agent_id, self.host_id, None):
                continue  # another host took it while we were away
            self._requeue_orphans(agent_id)
            self._open_lane(agent_id, restore=True)
        self.redis.delete(resume_key(self.host_id))

    def stop(self, timeout: float = 60.0) -> None:
        """Finish current jobs, close every Chrome, deregister."""
        self.stopping.set()
        with self._lock:
            lanes = list(self.lanes.values())
        for lane in lanes:
            lane.wake()
        deadline = time.monotonic() + timeout
        for lane in lanes:
            lane.join(max(0.1, deadline - time.monotonic()))
        for thread in self._threads:
            thread.join(2)
        # The Chromes are closed by now; Redis may already be gone (e.g. stopped beside us),
        # in which case the registry entry simply expires and the sessions resume by owner.
        try:
            for lane in lanes:
                lane.shutdown_report()
            agents = [lane.agent_id for lane in lanes if lane.want_running]
            if agents:
                self.redis.sadd(resume_key(self.host_id), *agents)
            self.registry.deregister(self.host_id)
        except redis.RedisError as exc:
            log.error("could not deregister: Redis unavailable", error=str(exc))
        self.outbox.stop()
        log.info("session host stopped", hostId=self.host_id)

    def kill_browsers(self) -> None:
        """End every session's browser at once (second SIGTERM)."""
        with self._lock:
            lanes = list(self.lanes.values())
        for lane in lanes:
            lane.session.kill()

    # -- lanes ---------------------------------------------------------------------------
    def session_for(self, agent_id: str) -> WhatsAppSession:
        """Build the WhatsApp session of an agent with the configured engine."""
        return self._new_session(agent_id)

    def lane(self, agent_id: str) -> AgentLane:
        """Return the running lane of an agent (KeyError when this host does not run it)."""
        with self._lock:
            return self.lanes[agent_id]

    def _open_lane(self, agent_id: str, restore: bool = False, job: tuple[Job, Queue] | None = None) -> None:
        """Give the agent's lane a job (starting a lane when none runs), or restore a session."""
        with self._lock:
            lane = self.lanes.get(agent_id)
            if lane is not None and not lane.finished and (job is None or lane.submit(*job)):
                if restore:
                    lane.want_running = True
                    lane.wake()
                return
            running = self._running()
            if running >= self.settings.max_sessions:
                raise HostFull(f"host {self.host_id} already runs {running} sessions")
            lane = AgentLane(self.context, agent_id, self.session_for(agent_id))
            if job is not None:
                # Queued before the thread starts, so a new lane never ends before its job.
                lane.submit(*job)
            self.lanes[agent_id] = lane
        lane.start(restore=restore)

    def sessions_running(self) -> int:
        """Return how many sessions (lanes not finished) this host runs."""
        with self._lock:
            return self._running()

    def _running(self) -> int:
        """Count the lanes not finished; the caller holds the lock."""
        return sum(1 for lane in self.lanes.values() if not lane.finished)

    def snapshot(self) -> list[tuple[str, str, int]]:
        """Return (agent, state, Chrome PSS bytes) for each session, for /metrics."""
        with self._lock:
            lanes = [lane for lane in self.lanes.values() if not lane.finished]
        return [
            (lane.agent_id, lane.state.value if lane.state else "idle", lane.session.memory_bytes())
            for lane in lanes
        ]

    # -- SessionListener -----------------------------------------------------------------
    def on_event(self, agent_id: str, event: dict[str, Any]) -> None:
        """Route a bridge event to the agent's lane."""
        with self._lock:
            lane = self.lanes.get(agent_id)
        if lane is not None:
            lane.handle_event(event)

    def on_crash(self, agent_id: str, reason: str) -> None:
        """Route a browser crash to the agent's lane."""
        with self._lock:
            lane = self.lanes.get(agent_id)
        if lane is not None:
            lane.crashed(reason)

    def push_event(self, kind: EventType, agent_id: str, **fields: Any) -> None:
        """Queue an event for the functions."""
        self.outbox.push(SessionEvent(type=kind, agent_id=agent_id, host_id=self.host_id, **fields))

    # -- background threads --------------------------------------------------------------
    def _dispatch(self) -> None:
        queue = Queue(
            host_queue_name(self.host_id),
            connection=self.rq,
            serializer=SERIALIZER,
            death_penalty_class=TimerDeathPenalty,
        )
        worker = LaneWorker(
            [queue], name=f"{self.host_id}.dispatch", connection=self.rq, serializer=SERIALIZER
        )
        while not self.stopping.is_set():
            try:
                found = Queue.dequeue_any(
                    [queue],
                    timeout=1,
                    connection=self.rq,
                    serializer=SERIALIZER,
                    death_penalty_class=TimerDeathPenalty,
                )
                if found is not None:
                    self._route(worker, *found)
            except DequeueTimeout:
                continue
            except redis.RedisError:
                log.exception("dispatch: Redis unavailable")
                self.stopping.wait(1)

    def _route(self, worker: LaneWorker, job: Job, queue: Queue) -> None:
        agent_id = (job.meta or {}).get("agentId") or (job.args[0].get("agentId") if job.args else None)
        try:
            if not agent_id:
                raise ValueError("lifecycle job without an agentId")
            self._open_lane(str(agent_id), job=(job, queue))
        except (HostFull, ValueError) as exc:
            # Fail through RQ so the caller and the failed registry both see why.
            record_failure(job, classify(exc))
            worker.handle_job_failure(job, queue, exc_string=f"{type(exc).__name__}: {exc}")
            log.error("lifecycle job refused", agentId=agent_id, jobId=job.id, reason=str(exc))

    def _beat(self) -> None:
        while not self.stopping.wait(self.settings.heartbeat_seconds):
            try:
                if not self.registry.heartbeat(self.host_id, time.time()):
                    log.warning(
                        "registry entry gone (Redis lost its data?); registering again", hostId=self.host_id
                    )
                    self._register()
                self._reassert()
                self._take_over()
            except redis.RedisError:
                log.exception("heartbeat: Redis unavailable")

    def _reassert(self) -> None:
        """After Redis lost its data: own our running agents again and republish their state.

        Ownership is re-claimed by compare-and-set from no owner, so when two hosts race for
        an agent exactly one wins; the other closes its browser without logging out.
        """
        with self._lock:
            lanes = [lane for lane in self.lanes.values() if not lane.finished and lane.want_running]
        owned = self.registry.agents_of(self.host_id) if lanes else set()
        for lane in lanes:
            owner = self.registry.owner_of(lane.agent_id)
            if owner is None and self.registry.claim(lane.agent_id, self.host_id, None):
                log.warning("re-claimed an agent whose owner key was gone", agentId=lane.agent_id)
                owner = self.host_id
            owner = owner or self.registry.owner_of(lane.agent_id)
            if owner is None:
                continue  # claimed and released meanwhile: try again on the next beat
            if owner != self.host_id:
                lane.surrender(owner)
                continue
            if lane.agent_id not in owned:
                self.registry.claim(lane.agent_id, self.host_id, self.host_id)
            if lane.republish():
                log.warning("republished a live state Redis had lost", agentId=lane.agent_id)

    def _take_over(self) -> None:
        for dead in self.registry.dead_hosts(time.time()):
            if dead == self.host_id:
                continue
            for agent_id in sorted(self.registry.agents_of(dead)):
                with self._lock:
                    full = (
                        sum(1 for lane in self.lanes.values() if not lane.finished)
                        >= self.settings.max_sessions
                    )
                if full:
                    return
                if self.registry.claim(agent_id, self.host_id, dead):
                    log.warning("taking over a session from a dead host", agentId=agent_id, deadHost=dead)
                    self._requeue_orphans(agent_id)
                    fail_interrupted(self.rq, agent_id, dead)
                    self._open_lane(agent_id, restore=True)
            if not self.registry.agents_of(dead):
                self.outbox.adopt(dead)
                self.registry.deregister(dead)

    def _requeue_orphans(self, agent_id: str) -> None:
        """Put jobs a dead lane had taken but not started back at the front of the queue."""
        queue = Queue(agent_queue_name(agent_id), connection=self.rq, serializer=SERIALIZER)
        for job_id in reversed(queue.intermediate_queue.get_job_ids()):
            queue.push_job_id(job_id, at_front=True)
            queue.intermediate_queue.remove(job_id)

    def _clean(self) -> None:
        interval = self.settings.temp_cleanup_minutes * 60
        while not self.stopping.is_set():
            try:
                removed = cleanup.remove_old_files(
                    self.settings.temp_dir, self.settings.temp_max_age_hours * 3600
                )
                if removed:
                    log.info("temp files removed", count=removed)
            except OSError:
                log.exception("temp cleanup failed")
            self.stopping.wait(interval)


def serve_metrics(host: SessionHost) -> None:
    """Register the session collector and expose /metrics."""
    metrics.REGISTRY.register(metrics.SessionCollector(host.snapshot, host.outbox.pending))
    metrics.serve(host.settings.metrics_port, host.settings.metrics_host)


INTERRUPTED = (
    "the session host running this job died; a send may or may not have reached WhatsApp, "
    "so it is not repeated (check the chat, then send again if needed)"
)


def fail_interrupted(connection: redis.Redis, agent_id: str, dead_host: str) -> list[str]:
    """Fail, at once and with a typed reason, the jobs a dead host had started for an agent.

    Called while taking the agent over, before its new lane starts, so every job still marked
    started on the agent's queue was the dead host's. Without this RQ would only notice them
    when their timeout expired; repeating them could send a message twice. Returns their ids.
    """
    queue = Queue(agent_queue_name(agent_id), connection=connection, serializer=SERIALIZER)
    registry = queue.started_job_registry
    failed = []
    for job_id in registry.get_job_ids():
        try:
            job = Job.fetch(job_id, connection=connection, serializer=SERIALIZER)
        except NoSuchJobError:
            continue
        if job.get_status(refresh=False) != JobStatus.STARTED:
            continue
        record_failure(job, JobFailure(FailureCode.HOST_LOST, f"{INTERRUPTED} (host {dead_host})"))
        failed.append(job.id)
    if failed:
        # Far in the future: every entry counts as expired, so RQ fails them the usual way.
        registry.cleanup(timestamp=time.time() + 10**9)
        log.warning("failed jobs a dead host had started", agentId=agent_id, deadHost=dead_host, jobs=failed)
    return failed

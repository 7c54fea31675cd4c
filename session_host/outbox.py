"""Durable, ordered delivery of session events to the functions' `/internal/events`.

Every event first lands in a per-agent Redis list (so a restart or a dead functions tier
loses nothing), then a sender thread POSTs it, signed, and removes it only once the
functions accepted it. Transient failures are retried with exponential backoff; an event
the functions refuse outright goes to a dead-letter list with an error log and a metric.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import deque

import redis
import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from contract import keys, logs
from contract import metrics as shared_metrics
from contract.events import EVENTS_PATH, SessionEvent, sign
from session_host import metrics

log = logs.get_logger(__name__)

DEAD_KEY = keys.OUTBOX_DEAD_KEY
DEAD_MAX = 10000
BACKOFF_CAP_SECONDS = 30.0


def outbox_key(agent_id: str) -> str:
    """Return the list of an agent's undelivered events."""
    return keys.outbox(agent_id)


def pending_key(host_id: str) -> str:
    """Return the set of agents with undelivered events pushed by a host."""
    return keys.outbox_pending(host_id)


class TransientError(RuntimeError):
    """Delivery failed in a way worth retrying (network, 5xx, 408, 429)."""


class RejectedError(RuntimeError):
    """The functions refused the event (4xx): retrying would not help."""


class EventOutbox:
    """Queue events per agent in Redis and deliver them in order from a few threads."""

    def __init__(
        self, client: redis.Redis, host_id: str, url: str, secret: str, max_per_agent: int, threads: int = 4
    ):
        self.client = client
        self.host_id = host_id
        self.url = url.rstrip("/") + EVENTS_PATH
        self.secret = secret
        self.max_per_agent = max_per_agent
        self._wake = [threading.Event() for _ in range(threads)]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"events-{i}", daemon=True)
            for i in range(threads)
        ]
        self._retry_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        # Events pushed while Redis did not answer, per agent, in order; moved to Redis as
        # soon as it answers again (bounded like the Redis outbox).
        self._held: dict[str, deque[str]] = {}
        self._held_lock = threading.Lock()

    def start(self) -> None:
        """Start the sender threads."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Let the senders finish what they are posting, then stop them."""
        self._stop.set()
        for event in self._wake:
            event.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def push(self, event: SessionEvent) -> None:
        """Store an event for delivery and wake its sender; hold it in memory while Redis is away."""
        agent_id, raw = event.agent_id, event.model_dump_json(by_alias=True)
        with self._held_lock:
            held = self._held.get(agent_id)
            if held is None:
                try:
                    self._store(agent_id, raw)
                except redis.RedisError as exc:
                    log.warning(
                        "event outbox: Redis unavailable; holding events in memory",
                        agentId=agent_id,
                        error=str(exc),
                    )
                    held = self._held[agent_id] = deque()
            if held is not None:  # behind events already held: keep the order
                if len(held) >= self.max_per_agent:
                    held.popleft()
                    metrics.EVENTS_DROPPED.inc()
                    log.error("event outbox full while Redis is away: oldest event dropped", agentId=agent_id)
                held.append(raw)
        self._wake[self._slot(agent_id)].set()

    def held(self) -> int:
        """Return how many events wait in memory for Redis to answer again."""
        with self._held_lock:
            return sum(len(held) for held in self._held.values())

    def _store(self, agent_id: str, raw: str) -> None:
        key = outbox_key(agent_id)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, raw)
            pipe.sadd(pending_key(self.host_id), agent_id)
            pipe.llen(key)
            length = pipe.execute()[-1]
        if length > self.max_per_agent:
            dropped = self.client.lpop(key, length - self.max_per_agent) or []
            metrics.EVENTS_DROPPED.inc(len(dropped))
            log.error("event outbox full: oldest events dropped", agentId=agent_id, dropped=len(dropped))

    def _release_held(self) -> None:
        """Move the events held in memory to Redis, in order (raises RedisError if still away)."""
        with self._held_lock:
            for agent_id in list(self._held):
                held = self._held[agent_id]
                while held:
                    self._store(agent_id, held[0])
                    held.popleft()
                del self._held[agent_id]
                log.warning("event outbox: Redis answers again; held events stored", agentId=agent_id)

    def adopt(self, dead_host: str) -> None:
        """Take over the undelivered events a dead host left behind."""
        self.client.sunionstore(
            pending_key(self.host_id), [pending_key(self.host_id), pending_key(dead_host)]
        )
        self.client.delete(pending_key(dead_host))
        for event in self._wake:
            event.set()

    def pending(self) -> int:
        """Return how many events wait for delivery across this host's agents."""
        agents = self.client.smembers(pending_key(self.host_id))
        return sum(self.client.llen(outbox_key(a)) for a in agents)

    def _slot(self, agent_id: str) -> int:
        return zlib.crc32(agent_id.encode()) % len(self._threads)

    def _run(self, slot: int) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            self._wake[slot].wait(1.0)
            self._wake[slot].clear()
            try:
                if self._held:
                    self._release_held()
                for agent_id in self.client.smembers(pending_key(self.host_id)):
                    if self._slot(agent_id) == slot and self._retry_at.get(agent_id, 0) <= time.monotonic():
                        self._drain(session, agent_id)
            except redis.RedisError:
                log.exception("event outbox: Redis unavailable")

    def _drain(self, session: requests.Session, agent_id: str) -> None:
        key = outbox_key(agent_id)
        while not self._stop.is_set():
            raw = self.client.lindex(key, 0)
            if raw is None:
                self.client.srem(pending_key(self.host_id), agent_id)
                if self.client.llen(key):  # pushed meanwhile: keep it pending
                    self.client.sadd(pending_key(self.host_id), agent_id)
                return
            try:
                self._post(session, raw)
            except TransientError as exc:
                failures = self._failures.get(agent_id, 0) + 1
                self._failures[agent_id] = failures
                delay = min(BACKOFF_CAP_SECONDS, 0.5 * 2**failures)
                self._retry_at[agent_id] = time.monotonic() + delay
                metrics.EVENTS_RETRIED.inc()
                log.warning(
                    "event delivery failed; will retry", agentId=agent_id, error=str(exc), retryIn=delay
                )
                return
            except RejectedError as exc:
                self._dead_letter(raw, str(exc))
            self._failures.pop(agent_id, None)
            self._retry_at.pop(agent_id, None)
            self.client.lrem(key, 1, raw)
            metrics.EVENTS_DELIVERED.inc()

    def _post(self, session: requests.Session, raw: str) -> None:
        body = raw.encode()
        retrying = Retrying(
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.1, max=1.0),
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                headers = {"Content-Type": "application/json", **sign(body, self.secret, time.time())}
                try:
                    response = session.post(self.url, data=body, headers=headers, timeout=10)
                except requests.RequestException as exc:
                    raise TransientError(str(exc)) from exc
                if response.status_code >= 500 or response.status_code in (408, 429):
                    raise TransientError(f"HTTP {response.status_code}")
                if response.status_code >= 400:
                    raise RejectedError(f"HTTP {response.status_code}: {response.text[:300]}")

    def _dead_letter(self, raw: str, reason: str) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.lpush(DEAD_KEY, raw)
            pipe.ltrim(DEAD_KEY, 0, DEAD_MAX - 1)
            pipe.execute()
        metrics.EVENTS_REJECTED.inc()
        shared_metrics.incr(self.client, shared_metrics.ERRORS, {"kind": "event_rejected"})
        log.error("event refused by the functions; kept in the dead-letter list", reason=reason, key=DEAD_KEY)

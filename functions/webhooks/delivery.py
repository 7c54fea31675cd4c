"""Deliver queued events to their receivers: signed, in order, retried, never lost.

A drain job (RQ, webhooks queue) takes one box's lease and POSTs its events oldest first,
each signed per Standard Webhooks with the event id as `webhook-id`. 2xx removes the event;
408, 429, 5xx and connection errors leave it at the head and schedule the box's next try
(WEBHOOK_RETRY_SCHEDULE, jittered), so later events wait behind it and order holds; any
other answer, or a schedule run out, moves the event to RQ's failed registry, from which
requeueing it delivers it again. A worker killed mid-POST stops renewing the lease; the
sweepers then queue a new drain, which POSTs the same event (same `webhook-id`) again.
"""

from __future__ import annotations

import json
import random
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import redis
import urllib3
from flask import Flask, current_app, has_app_context
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from standardwebhooks import Webhook

from contract import jobs, keys, logs, metrics
from functions import media
from functions.app import create_app
from functions.config import Settings, parse_schedule
from functions.errors import InvalidPayload
from functions.mailbox import Chat, Mailboxes
from functions.webhooks.fanout import enqueue_drain
from functions.webhooks.registry import KEY_PREFIX, Receiver, WebhookRegistry

log = logs.get_logger(__name__)

DUE_KEY = keys.WEBHOOKS_DUE_KEY
REDELIVER_JOB = jobs.WorkerJob.WEBHOOKS_REDELIVER
FAILED_TTL_SECONDS = 7 * 86400
# Past this, a drain hands the rest of its box to a fresh job so warm shutdown stays prompt.
DRAIN_BUDGET_SECONDS = 30.0
JITTER = 0.2
USER_AGENT = "wagw-webhooks/1"


@dataclass(frozen=True)
class Deps:
    """What delivery needs, built once per process."""

    settings: Settings
    redis: redis.Redis
    rq_redis: redis.Redis
    boxes: Mailboxes
    registry: WebhookRegistry
    schedule: tuple[float, ...]

    @classmethod
    def of(cls, app: Flask) -> Deps:
        """Return the app's delivery dependencies (created on first use)."""
        deps = app.extensions.get("webhook_deps")
        if deps is None:
            settings: Settings = app.config["SETTINGS"]
            client = app.extensions["redis"]
            deps = cls(
                settings=settings,
                redis=client,
                rq_redis=app.extensions["redis_rq"],
                boxes=Mailboxes(client, prefix=KEY_PREFIX),
                registry=WebhookRegistry(client, settings),
                schedule=parse_schedule(settings.webhook_retry_schedule),
            )
            app.extensions["webhook_deps"] = deps
        return deps


@dataclass(frozen=True)
class Attempt:
    """How one POST went."""

    outcome: Literal["delivered", "retry", "reject"]
    detail: str


def attempts_key(box: Chat) -> str:
    """Return the hash counting failed tries per event of a box."""
    return keys.box_attempts(box.key)


def body_of(entry: dict[str, Any]) -> bytes:
    """Return the exact bytes POSTed for an entry (the same on every try)."""
    return json.dumps(entry["event"], separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(secret: str, webhook_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """Return the Standard Webhooks headers authenticating `body`."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, now, body.decode()),
    }


def post(
    receiver: Receiver, webhook_id: str, body: bytes, *, timeout: float, allowlist: media.Allowlist
) -> Attempt:
    """POST one event to a receiver (no redirects, the answer's body left unread)."""
    parts = urlsplit(receiver.url)
    hostname = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return Attempt("retry", f"host does not resolve: {exc}")
    try:
        address = media.resolve_checked(hostname, port, allowlist)
    except InvalidPayload as exc:
        return Attempt("reject", exc.message.removeprefix("media "))
    headers = {
        **signed_headers(receiver.secret, webhook_id, body, datetime.now(UTC)),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": parts.netloc.rpartition("@")[2],
    }
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pool = media._pool(parts.scheme, hostname, address, port, timeout)
    response = None
    try:
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            timeout=urllib3.Timeout(total=timeout),
        )
        status = response.status
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Attempt("retry", type(exc).__name__)
    finally:
        # Closing without reading: a receiver's huge (or endless) body costs nothing.
        if response is not None:
            response.close()
        pool.close()
    if 200 <= status < 300:
        return Attempt("delivered", f"HTTP {status}")
    if status in (408, 429) or status >= 500:
        return Attempt("retry", f"HTTP {status}")
    return Attempt("reject", f"HTTP {status}")


def drain(payload: dict[str, Any]) -> dict[str, Any]:
    """Deliver a box's pending events, oldest first, while holding its lease (RQ entry point)."""
    deps = Deps.of(_app())
    box = Chat(payload["agentId"], payload["receiverId"], KEY_PREFIX)
    logs.reset(service="worker")
    logs.bind(agent_id=box.agent_id)
    started = time.monotonic()
    delivered = 0
    while True:
        due = deps.redis.zscore(DUE_KEY, box.member)
        if due is not None and due > time.time():
            return {"delivered": delivered, "waiting": True}
        lease = deps.boxes.try_lease(box, deps.settings.webhook_lease_seconds)
        if lease is None:
            # Its holder delivers what we were queued for; it re-checks the box after releasing.
            return {"delivered": delivered, "busy": True}
        try:
            deps.redis.zrem(DUE_KEY, box.member)
            while (raw := deps.boxes.head(box)) is not None:
                if time.monotonic() - started > DRAIN_BUDGET_SECONDS:
                    enqueue_drain(deps.rq_redis, box)
                    return {"delivered": delivered, "continued": True}
                if not _deliver_head(deps, box, raw):
                    return {"delivered": delivered, "waiting": True}
                delivered += 1
        finally:
            lease.release()
        if deps.boxes.pending(box) == 0:
            return {"delivered": delivered}


def _deliver_head(deps: Deps, box: Chat, raw: str) -> bool:
    """Try the head event once; return False when the box must wait for a retry."""
    try:
        entry = json.loads(raw)
        webhook_id = str(entry["event"]["id"])
        kind = str(entry["event"]["type"])
    except (ValueError, KeyError, TypeError):
        log.error("unreadable webhook entry dropped", entry=raw[:300])
        deps.boxes.pop(box, raw)
        return True
    receiver = deps.registry.receiver(box.agent_id, box.chat_id)
    if receiver is None:
        log.info("webhook removed; its pending event dropped", webhookId=webhook_id, receiver=box.chat_id)
        _count(deps, "dropped")
        deps.boxes.pop(box, raw)
        return True
    attempt = post(
        receiver,
        webhook_id,
        body_of(entry),
        timeout=deps.settings.webhook_timeout_seconds,
        allowlist=deps.registry.allowlist(),
    )
    tries = int(deps.redis.hget(attempts_key(box), webhook_id) or 0) + 1
    if attempt.outcome == "delivered":
        _count(deps, "delivered")
        _forget(deps, box, raw, webhook_id)
        return True
    if attempt.outcome == "retry" and tries <= len(deps.schedule):
        delay = deps.schedule[tries - 1] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not crypto
        with deps.redis.pipeline(transaction=True) as pipe:
            pipe.hset(attempts_key(box), webhook_id, tries)
            pipe.expire(attempts_key(box), FAILED_TTL_SECONDS)
            pipe.zadd(DUE_KEY, {box.member: time.time() + delay})
            pipe.execute()
        _count(deps, "retried")
        log.warning(
            "webhook delivery failed; will retry",
            webhookId=webhook_id,
            receiver=box.chat_id,
            reason=attempt.detail,
            attempt=tries,
            retryInSeconds=round(delay, 1),
        )
        return False
    reason = attempt.detail if attempt.outcome == "reject" else f"{attempt.detail} after {tries} tries"
    _give_up(deps, box, raw, webhook_id, kind, reason)
    _forget(deps, box, raw, webhook_id)
    return True


def _forget(deps: Deps, box: Chat, raw: str, webhook_id: str) -> None:
    deps.boxes.pop(box, raw)
    deps.redis.hdel(attempts_key(box), webhook_id)


def _give_up(deps: Deps, box: Chat, raw: str, webhook_id: str, kind: str, reason: str) -> None:
    """Keep an undeliverable event as a failed RQ job (requeueing it delivers it again)."""
    job = Job.create(
        REDELIVER_JOB,
        args=({"agentId": box.agent_id, "receiverId": box.chat_id, "entry": raw},),
        connection=deps.rq_redis,
        id=f"webhook-{webhook_id}-{box.chat_id}",
        origin=jobs.WEBHOOKS_QUEUE,
        serializer=jobs.SERIALIZER,
        status=JobStatus.FAILED,
        timeout=60,
        result_ttl=600,
        failure_ttl=FAILED_TTL_SECONDS,
        description=f"webhook {kind} {webhook_id} to {box.chat_id} of {box.agent_id}",
        meta={"agentId": box.agent_id, "receiverId": box.chat_id, "webhookId": webhook_id, "type": kind},
    )
    registry = FailedJobRegistry(jobs.WEBHOOKS_QUEUE, connection=deps.rq_redis, serializer=jobs.SERIALIZER)
    registry.add(job, ttl=FAILED_TTL_SECONDS, exc_string=f"webhook delivery failed: {reason}")
    _count(deps, "failed")
    metrics.incr(deps.redis, metrics.WEBHOOK_FAILURES)
    log.error(
        "webhook delivery failed for good; kept in the failed registry",
        webhookId=webhook_id,
        receiver=box.chat_id,
        reason=reason,
        jobId=job.id,
    )


def redeliver(payload: dict[str, Any]) -> dict[str, Any]:
    """Put a failed delivery back at the end of its box (RQ entry point of requeued failures)."""
    deps = Deps.of(_app())
    box = Chat(payload["agentId"], payload["receiverId"], KEY_PREFIX)
    raw = str(payload["entry"])
    with deps.redis.pipeline(transaction=True) as pipe:
        pipe.rpush(box.key, raw)
        pipe.sadd(deps.boxes.boxes_key, box.member)
        pipe.execute()
    enqueue_drain(deps.rq_redis, box)
    return {"requeued": True}


def sweep(deps: Deps, *, stale: bool = True) -> int:
    """Queue drains of boxes due for a retry (and, with `stale`, of boxes a dead worker left)."""
    kicked = 0
    for member in deps.redis.zrangebyscore(DUE_KEY, 0, time.time(), start=0, num=500):
        # Whoever removes the member kicks it, so many sweepers kick each box once.
        if deps.redis.zrem(DUE_KEY, member):
            enqueue_drain(deps.rq_redis, Chat.from_member(member, KEY_PREFIX))
            kicked += 1
    if not stale:
        return kicked
    lease = deps.settings.webhook_lease_seconds
    for box in deps.boxes.stale_chats(older_than_seconds=lease):
        if deps.redis.zscore(DUE_KEY, box.member) is not None:
            continue  # waiting for its next try, not abandoned
        if deps.redis.set(f"{box.lease_key}:kick", "1", nx=True, px=round(lease * 1000)):
            enqueue_drain(deps.rq_redis, box)
            log.info("re-queued an unfinished webhook box", agentId=box.agent_id, receiver=box.chat_id)
            kicked += 1
    return kicked


def _count(deps: Deps, result: str) -> None:
    metrics.incr(deps.redis, metrics.WEBHOOK_DELIVERIES, {"result": result})


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()
    # Run by a plain `rq worker` (forking, no app context): build the app once per process.
    if "app" not in _fallback:
        _fallback["app"] = create_app()
    return _fallback["app"]


_fallback: dict[str, Flask] = {}

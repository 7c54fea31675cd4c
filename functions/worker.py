"""`python -m functions.worker`: answers inbound WhatsApp messages and delivers webhooks.

Stateless; run as many as needed. Each process runs an RQ `SimpleWorker` on the inbound
and webhooks queues (no fork per job: a job is milliseconds of Redis and HTTP, which a
fork would dwarf) plus a sweeper thread. A drain job takes one chat's lease and answers its pending
messages in order; the sweeper re-queues chats whose worker died mid-message (their lease
lapsed with the head still in place), so a SIGKILLed worker's message is retried, not lost,
and `inbound.handle` commits each reply at most once. Webhook boxes get the same care
(`functions.webhooks.delivery`), and the sweeper also starts their retries when due.
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue, SimpleWorker

from contract import cloudwatch, jobs, keys, logs
from functions import inbound
from functions.app import create_app
from functions.mailbox import Chat
from functions.webhooks import delivery

log = logs.get_logger(__name__)

# Past this, a drain hands the rest of its chat to a fresh job so warm shutdown stays prompt.
DRAIN_BUDGET_SECONDS = 30.0


def attempts_key(agent_id: str, message_id: str) -> str:
    """Return the counter of failed tries of one message."""
    return keys.inbound_attempts(agent_id, message_id)


def drain(payload: dict[str, Any]) -> dict[str, Any]:
    """Answer a chat's pending messages, oldest first, while holding its lease (RQ entry point)."""
    deps = _deps()
    chat = Chat(payload["agentId"], payload["chatId"])
    logs.reset(service="worker")
    logs.bind(trace_id=payload.get("traceId"), agent_id=chat.agent_id)
    started = time.monotonic()
    handled = 0
    while True:
        lease = deps.mailboxes.try_lease(chat, deps.settings.inbound_lease_seconds)
        if lease is None:
            # Its holder drains what we were queued for; it re-checks the list after releasing.
            return {"handled": handled, "busy": True}
        out_of_time = False
        try:
            while (raw := deps.mailboxes.head(chat)) is not None:
                if time.monotonic() - started > DRAIN_BUDGET_SECONDS:
                    out_of_time = True
                    break
                _answer_head(deps, raw)
                deps.mailboxes.pop(chat, raw)
                handled += 1
        finally:
            lease.release()
        if out_of_time:
            inbound.enqueue_drain(deps.rq_redis, chat, trace_id=payload.get("traceId"), message_id=None)
            return {"handled": handled, "continued": True}
        if deps.mailboxes.pending(chat) == 0:
            return {"handled": handled}


def _deps() -> inbound.Deps:
    if has_app_context():
        return inbound.Deps.of(current_app._get_current_object())
    # Run by a plain `rq worker` (forking, no app context): build the app once per process.
    if "app" not in _fallback:
        _fallback["app"] = create_app()
    return inbound.Deps.of(_fallback["app"])


_fallback: dict[str, Flask] = {}


def _answer_head(deps: inbound.Deps, raw: str) -> None:
    try:
        entry = inbound.Entry.parse(raw)
    except (ValueError, KeyError, TypeError):
        log.error("unreadable inbound entry dropped", entry=raw[:500])
        return
    try:
        inbound.handle(deps, entry)
    except Exception as exc:
        key = attempts_key(entry.agent_id, entry.message.id)
        attempts = deps.redis.incr(key)
        deps.redis.expire(key, 86400)
        if attempts < deps.settings.inbound_max_attempts:
            log.exception("inbound message failed; will retry", messageId=entry.message.id, attempt=attempts)
            raise
        log.exception("inbound message failed for good", messageId=entry.message.id, attempt=attempts)
        inbound.fail(deps, entry, "INTERNAL_ERROR", f"{type(exc).__name__} after {attempts} attempts")


def sweep(deps: inbound.Deps) -> int:
    """Queue a drain for every chat left with mail and no live worker; return how many."""
    kicked = 0
    lease = deps.settings.inbound_lease_seconds
    for chat in deps.mailboxes.stale_chats(older_than_seconds=lease):
        # One kick per chat per lease period, however many workers sweep.
        if deps.redis.set(f"{chat.lease_key}:kick", "1", nx=True, px=round(lease * 1000)):
            inbound.enqueue_drain(deps.rq_redis, chat, trace_id=None, message_id=None)
            log.info("re-queued an unfinished chat", agentId=chat.agent_id, chatId=chat.chat_id)
            kicked += 1
    return kicked


def _sweep_forever(app: Flask, stop: threading.Event) -> None:
    deps, hooks = inbound.Deps.of(app), delivery.Deps.of(app)
    settings = deps.settings
    next_inbound = next_stale = 0.0
    while True:
        now = time.monotonic()
        try:
            if now >= next_inbound:
                next_inbound = now + settings.inbound_sweep_seconds
                sweep(deps)
            # Retries come due every second or so; dead workers' boxes are looked for less often.
            stale = now >= next_stale
            if stale:
                next_stale = now + settings.webhook_lease_seconds / 2
            delivery.sweep(hooks, stale=stale)
        except redis.RedisError as exc:
            log.warning("sweep failed", error=str(exc))
        except Exception:
            log.exception("sweep failed")
        if stop.wait(min(settings.inbound_sweep_seconds, settings.webhook_sweep_seconds)):
            return


def publish_gauges(deps: inbound.Deps, publisher: cloudwatch.Publisher) -> bool:
    """Publish the deployment-wide gauges (queue depth, failed jobs, error totals, live hosts)."""
    ttl = deps.settings.host_ttl_seconds
    return publisher.put(cloudwatch.deployment_gauges(deps.redis, deps.rq_redis, time.time(), ttl))


def main(argv: list[str] | None = None) -> int:
    """Run one inbound worker until SIGTERM (a second SIGTERM stops at once)."""
    parser = argparse.ArgumentParser(
        prog="python -m functions.worker",
        description="Answer inbound WhatsApp messages through the AI and deliver webhooks.",
    )
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: host-pid)")
    parser.add_argument(
        "--queues",
        default=f"{jobs.INBOUND_QUEUE},{jobs.WEBHOOKS_QUEUE}",
        help="comma-separated RQ queues to work, in priority order (default: inbound, webhooks)",
    )
    args = parser.parse_args(argv)

    app = create_app()  # the worker reuses the app's settings, connections and logging
    logs.reset(service="worker")
    with app.app_context():
        deps = inbound.Deps.of(app)
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep_forever, args=(app, stop), name="sweeper", daemon=True)
        sweeper.start()
        if deps.settings.cloudwatch_namespace:
            publisher = cloudwatch.Publisher(deps.settings.cloudwatch_namespace, counters=deps.redis)
            interval = deps.settings.metrics_publish_seconds
            cloudwatch.every(interval, stop, lambda: publish_gauges(deps, publisher), "gauges")
        names = [name.strip() for name in args.queues.split(",") if name.strip()]
        queues = [Queue(name, connection=deps.rq_redis, serializer=jobs.SERIALIZER) for name in names]
        worker = SimpleWorker(
            queues,
            connection=deps.rq_redis,
            serializer=jobs.SERIALIZER,
            name=args.name or f"inbound-{socket.gethostname()}-{os.getpid()}",
        )
        log.info("worker started", queues=names, worker=worker.name)
        try:
            # rq logs every job at INFO; our own lines already say what matters.
            rq_level = "DEBUG" if deps.settings.log_level == "DEBUG" else "WARNING"
            worker.work(burst=args.burst, logging_level=rq_level, with_scheduler=False)
        finally:
            stop.set()
            sweeper.join(timeout=5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

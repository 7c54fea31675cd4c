"""Helpers for inbound tests: the demo AI backend process, message events, the agent queue."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis
from rq import Queue

from contract import jobs
from contract.events import EventType, InboundMessage, SessionEvent, sign
from devstack.ai import AiBackend, start_ai_backend

BOT = "6280000000001@c.us"
__all__ = ["BOT", "AiBackend", "agent_jobs", "message", "sends", "signed_event", "start_ai_backend"]


def message(
    body: str = "hello",
    *,
    sender: str = "6281111111111@c.us",
    group: str | None = None,
    **fields: Any,
) -> InboundMessage:
    """Build an inbound message as the bridge reports it (direct unless `group` is given)."""
    chat = group or sender
    values: dict[str, Any] = {
        "id": f"false_{chat}_{uuid.uuid4().hex[:20].upper()}",
        "chat_id": chat,
        "sender": sender,
        "body": body,
        "timestamp": int(time.time()),
        "is_group": group is not None,
        "notify_name": "Budi",
        "chat_name": "Test group" if group else "Budi",
        "bot_id": BOT,
    }
    values.update(fields)
    return InboundMessage(**values)


def signed_event(
    agent_id: str, msg: InboundMessage, secret: str, event_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """Return the body and headers of a signed `message` event, as a host would POST it."""
    event = SessionEvent(type=EventType.MESSAGE, agent_id=agent_id, host_id="test-host", message=msg)
    if event_id:
        event = event.model_copy(update={"id": event_id})
    body = json.dumps(event.to_wire()).encode()
    headers = {"Content-Type": "application/json", **sign(body, secret, time.time())}
    return body, headers


def agent_jobs(raw: redis.Redis, agent_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Return (job name, payload) of every job waiting on an agent's queue, oldest first."""
    queue = Queue(jobs.agent_queue_name(agent_id), connection=raw, serializer=jobs.SERIALIZER)
    return [(job.func_name, job.args[0]) for job in queue.get_jobs()]


def sends(raw: redis.Redis, agent_id: str) -> list[dict[str, Any]]:
    """Return the payloads of the send_text jobs waiting on an agent's queue."""
    return [payload for name, payload in agent_jobs(raw, agent_id) if name == jobs.JobName.SEND_TEXT]

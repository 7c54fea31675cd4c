"""Helpers for inbound tests: the demo AI backend process, message events, the agent queue."""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import requests
from rq import Queue

from contract import jobs
from contract.events import EventType, InboundMessage, SessionEvent, sign
from tests.support.processes import PYTHON, Process, free_port, wait_http_ok

BOT = "6280000000001@c.us"


@dataclass
class AiBackend:
    """The demo AI backend (`python -m simulator.ai_backend`) running as a real process."""

    process: Process
    url: str

    def behave(self, agent_id: str | None = None, **changes: Any) -> None:
        """Set delaySeconds / status / reply / shape, for one agent or as the default."""
        body = {"agentId": agent_id, **changes} if agent_id else changes
        requests.put(f"{self.url}/control/behaviour", json=body, timeout=5).raise_for_status()

    def received(self, agent_id: str | None = None) -> list[dict[str, Any]]:
        """Return the requests received, oldest first."""
        params = {"agentId": agent_id} if agent_id else None
        response = requests.get(f"{self.url}/control/requests", params=params, timeout=5)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Forget requests and behaviours."""
        requests.post(f"{self.url}/control/reset", timeout=5).raise_for_status()


def start_ai_backend(run_dir: Path, name: str = "ai-backend") -> AiBackend:
    """Start the demo AI backend on a free port and wait until it answers."""
    port = free_port()
    process = Process(
        name,
        [PYTHON, "-m", "simulator.ai_backend", "--port", str(port)],
        env=dict(os.environ),
        log_dir=run_dir,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(f"{url}/control/health", process=process)
    return AiBackend(process, url)


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

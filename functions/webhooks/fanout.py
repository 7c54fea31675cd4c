"""Turn one happening into one event per interested receiver, queued in order, exactly once.

Each receiver of an agent has its own delivery box (an ordered, leased mailbox, see
`functions.mailbox`). One Lua script marks the event id as seen, takes the agent's next
sequence number and appends the event to every receiver's box, so an event emitted twice
(a host retrying, two processes racing) is queued once, and a crash queues it wholly or not
at all. A drain job per box is then queued on the webhooks RQ queue.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from flask import Flask
from rq import Queue

from contract import jobs, keys, logs
from contract.wire import iso, utcnow
from functions.config import Settings
from functions.mailbox import Chat, Mailboxes
from functions.webhooks.registry import KEY_PREFIX, WebhookRegistry
from functions.webhooks.schema import EventType

log = logs.get_logger(__name__)

SEEN_TTL_SECONDS = 7 * 86400
DRAIN_JOB = jobs.WorkerJob.WEBHOOKS_DRAIN
DRAIN_JOB_TIMEOUT = 900

# KEYS: seen marker, sequence, set of boxes, then one box list per receiver.
# ARGV: seen ttl, entry head, entry tail, then one box member per receiver (ARGV[i] ↔ KEYS[i]).
_FANOUT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local sequence = redis.call('INCR', KEYS[2])
local entry = ARGV[2] .. sequence .. ARGV[3]
for i = 4, #KEYS do
  redis.call('RPUSH', KEYS[i], entry)
  redis.call('SADD', KEYS[3], ARGV[i])
end
return sequence
"""


def box_for(agent_id: str, receiver: str) -> Chat:
    """Return the delivery box of one agent and receiver."""
    return Chat(agent_id, receiver, KEY_PREFIX)


def event_id(agent_id: str, event: EventType, key: str) -> str:
    """Return the stable id of an event: the same happening always gets the same id."""
    digest = hashlib.sha256(f"{agent_id}\0{event.value}\0{key}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


def sequence_key(agent_id: str) -> str:
    """Return the counter numbering an agent's events."""
    return keys.webhooks_sequence(agent_id)


def seen_key(event: str) -> str:
    """Return the marker of an event id already queued."""
    return keys.webhooks_seen(event)


@dataclass(frozen=True)
class Queued:
    """An event queued for its receivers."""

    id: str
    sequence: int
    boxes: tuple[Chat, ...]


class Emitter:
    """Queue agents' events for their webhooks (client must decode responses)."""

    def __init__(self, client: redis.Redis, rq_redis: redis.Redis, registry: WebhookRegistry):
        self.client = client
        self.rq_redis = rq_redis
        self.registry = registry
        self.boxes = Mailboxes(client, prefix=KEY_PREFIX)
        self._fanout = client.register_script(_FANOUT)

    def emit(
        self,
        agent_id: str,
        event: EventType,
        key: str,
        data: dict[str, Any],
        at: datetime | None = None,
        *,
        pipeline: redis.client.Pipeline | None = None,
    ) -> Queued | None:
        """Queue an event for everyone who wants it; None when nobody does or it was queued before.

        With `pipeline` (a MULTI in progress) the event is queued in that transaction and
        its drains are left to the caller (`kick`) once it committed.
        """
        receivers = self.registry.receivers(agent_id, event)
        if not receivers:
            return None
        identity = event_id(agent_id, event, key)
        boxes = tuple(box_for(agent_id, r.id) for r in receivers)
        head, tail = _entry_parts(identity, event, agent_id, at or utcnow(), data)
        keys = [seen_key(identity), sequence_key(agent_id), self.boxes.boxes_key, *(b.key for b in boxes)]
        args = [SEEN_TTL_SECONDS, head, tail, *(b.member for b in boxes)]
        if pipeline is not None:
            self._fanout(keys=keys, args=args, client=pipeline)
            return Queued(identity, 0, boxes)
        sequence = int(self._fanout(keys=keys, args=args))
        if not sequence:
            return None
        self.kick(boxes)
        return Queued(identity, sequence, boxes)

    def kick(self, boxes: tuple[Chat, ...]) -> None:
        """Queue a drain of each box (a box left unkicked is found by the workers' sweepers)."""
        for box in boxes:
            try:
                enqueue_drain(self.rq_redis, box)
            except redis.RedisError as exc:
                log.warning("could not queue a webhook drain", agentId=box.agent_id, error=str(exc))


def _entry_parts(
    identity: str, event: EventType, agent_id: str, at: datetime, data: dict[str, Any]
) -> tuple[str, str]:
    """Return the entry's JSON before and after the sequence number the script fills in."""
    head = (
        f'{{"queuedAt":{time.time()!r},"event":{{"id":{json.dumps(identity)},"type":{json.dumps(event.value)},'
        f'"agentId":{json.dumps(agent_id)},"timestamp":{json.dumps(iso(at))},"sequence":'
    )
    tail = f',"data":{json.dumps(data, separators=(",", ":"), ensure_ascii=False)}}}}}'
    return head, tail


def enqueue_drain(rq_redis: redis.Redis, box: Chat) -> None:
    """Queue a job delivering a box's pending events."""
    queue = Queue(jobs.WEBHOOKS_QUEUE, connection=rq_redis, serializer=jobs.SERIALIZER)
    queue.enqueue_call(
        DRAIN_JOB,
        args=({"agentId": box.agent_id, "receiverId": box.chat_id},),
        job_id=jobs.new_job_id(DRAIN_JOB, "webhooks"),
        timeout=DRAIN_JOB_TIMEOUT,
        result_ttl=60,
        failure_ttl=7 * 86400,
        description=f"webhooks {box.agent_id} {box.chat_id}",
        meta={"agentId": box.agent_id},
    )


def get_emitter(app: Flask) -> Emitter:
    """Return the app's emitter (created on first use)."""
    emitter = app.extensions.get("webhook_emitter")
    if emitter is None:
        settings: Settings = app.config["SETTINGS"]
        client = app.extensions["redis"]
        emitter = Emitter(client, app.extensions["redis_rq"], WebhookRegistry(client, settings))
        app.extensions["webhook_emitter"] = emitter
    return emitter

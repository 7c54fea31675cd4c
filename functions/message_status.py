"""Status of every message sent through the gateway or received by it, kept in Redis.

A status only moves forward — pending < sent < delivered < read < played, failed terminal —
checked and written in one Lua script, so a late or duplicated ack never moves it back
however many processes apply acks at once. Sends are recorded under their job id while
pending (WhatsApp has not given the message an id yet); once sent, the record lives under
the message id and the job's record points to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import redis

from contract import keys
from contract.wire import iso, utcnow

KEY_PREFIX = keys.MESSAGE_PREFIX


class MessageStatus(StrEnum):
    """Where a message is on its way; the order of members is the order of progress."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"


class Direction(StrEnum):
    """Whether the agent sent the message or received it."""

    OUT = "out"
    IN = "in"


_STATUSES = {status.value for status in MessageStatus}

# WhatsApp's ack levels (wa-js `ACK`): 1 server, 2 device, 3 read, 4 played; below 1 says nothing new.
STATUS_OF_ACK = {
    1: MessageStatus.SENT,
    2: MessageStatus.DELIVERED,
    3: MessageStatus.READ,
    4: MessageStatus.PLAYED,
}

# KEYS[1] record. ARGV: status, at, ttl, then field/value pairs set only where absent.
# A forward move sets status and its timestamp; a backward one only fills in a missing
# timestamp (read before delivered still learns when it was delivered). Failed is
# reached only from pending and left never. Returns {changed, previous status}.
_ADVANCE = """
local rank = {pending=0, sent=1, delivered=2, read=3, played=4, failed=5}
if redis.call('HEXISTS', KEYS[1], 'linkedTo') == 1 then return {0, 'linked'} end
local current = redis.call('HGET', KEYS[1], 'status')
for i = 4, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
local target = ARGV[1]
local forward
if not current then forward = true
elseif current == 'failed' then forward = false
elseif target == 'failed' then forward = current == 'pending'
else forward = rank[target] > rank[current] end
if forward then
  redis.call('HSET', KEYS[1], 'status', target, 'at:' .. target, ARGV[2])
elseif target ~= 'failed' and current ~= 'failed' then
  redis.call('HSETNX', KEYS[1], 'at:' .. target, ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
if forward then return {1, current or ''} end
return {0, current or ''}
"""
# KEYS[1] job record, KEYS[2] message record. Copies what the job knew to the message's
# record (fields it lacks), then leaves a pointer (`linkedTo`) behind. ARGV: message id, ttl.
_LINK = """
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local name = fields[i]
  if name ~= 'status' and name ~= 'linkedTo' then redis.call('HSETNX', KEYS[2], name, fields[i + 1]) end
end
local status = redis.call('HGET', KEYS[1], 'status')
if status and not redis.call('HGET', KEYS[2], 'status') then redis.call('HSET', KEYS[2], 'status', status) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'linkedTo', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""


def record_key(agent_id: str, message_id: str) -> str:
    """Return the hash of one message's status."""
    return keys.message(agent_id, message_id)


def job_key(agent_id: str, job_id: str) -> str:
    """Return the hash of a send not yet given a message id (then a pointer to it)."""
    return keys.message_job(agent_id, job_id)


@dataclass(frozen=True)
class Transition:
    """The outcome of one status report: whether it moved the status, and from where."""

    changed: bool
    previous: MessageStatus | None


class StatusStore:
    """Message status records in one Redis (client must decode responses)."""

    def __init__(self, client: redis.Redis, ttl_seconds: int):
        self.client = client
        self.ttl = ttl_seconds
        self._advance = client.register_script(_ADVANCE)
        self._link = client.register_script(_LINK)

    def advance(
        self, key: str, status: MessageStatus, at: datetime | None = None, **fields: str | None
    ) -> Transition:
        """Report a status for a record; fields given are stored where the record lacks them."""
        pairs: list[str] = []
        for name, value in fields.items():
            if value is not None:
                pairs += [name, str(value)]
        args = [status.value, iso(at or utcnow()), self.ttl, *pairs]
        changed, previous = self._advance(keys=[key], args=args)
        return Transition(bool(changed), MessageStatus(previous) if previous in _STATUSES else None)

    def pending(self, agent_id: str, job_id: str, *, chat_id: str, kind: str) -> None:
        """Record a send the moment it is queued."""
        self.advance(
            job_key(agent_id, job_id),
            MessageStatus.PENDING,
            agentId=agent_id,
            chatId=chat_id,
            direction=Direction.OUT,
            type=kind,
            jobId=job_id,
        )

    def sent(
        self,
        agent_id: str,
        job_id: str | None,
        message_id: str,
        at: datetime | None = None,
        **fields: str | None,
    ) -> Transition:
        """Record that WhatsApp took a send; return whether this report moved it to `sent`."""
        key = record_key(agent_id, message_id)
        if job_id:
            self._link(keys=[job_key(agent_id, job_id), key], args=[message_id, self.ttl])
        return self.advance(
            key,
            MessageStatus.SENT,
            at,
            messageId=message_id,
            agentId=agent_id,
            direction=Direction.OUT,
            jobId=job_id,
            **fields,
        )

    def failed(self, agent_id: str, job_id: str, reason: str) -> Transition:
        """Record that a queued send failed for good."""
        return self.advance(job_key(agent_id, job_id), MessageStatus.FAILED, error=reason)

    def ack(
        self,
        agent_id: str,
        message_id: str,
        status: MessageStatus,
        at: datetime | None = None,
        *,
        chat_id: str | None = None,
    ) -> Transition:
        """Apply an ack to one of the agent's messages.

        An ack for a message not yet recorded (it overtook the report of our send, or the
        message was sent from the phone) starts its record; the send's report fills in the rest.
        """
        return self.advance(
            record_key(agent_id, message_id),
            status,
            at,
            messageId=message_id,
            agentId=agent_id,
            chatId=chat_id or None,
            direction=Direction.OUT,
        )

    def received(
        self, agent_id: str, message_id: str, *, chat_id: str, kind: str, at: datetime | None
    ) -> None:
        """Record an inbound message (it reached the agent: delivered)."""
        self.advance(
            record_key(agent_id, message_id),
            MessageStatus.DELIVERED,
            at,
            messageId=message_id,
            agentId=agent_id,
            chatId=chat_id,
            direction=Direction.IN,
            type=kind,
        )

    def mark(self, agent_id: str, message_id: str, field: str, at: datetime) -> bool:
        """Note when a known message was edited or revoked (`editedAt`, `revokedAt`)."""
        key = record_key(agent_id, message_id)
        if not self.client.exists(key):
            return False
        self.client.hset(key, field, iso(at) or "")
        return True

    def get(self, agent_id: str, message_id: str) -> dict[str, Any] | None:
        """Return a message's record by message id (or by the job id of its send)."""
        raw = self.client.hgetall(record_key(agent_id, message_id))
        if not raw:
            raw = self.client.hgetall(job_key(agent_id, message_id))
            if raw.get("linkedTo"):
                raw = self.client.hgetall(record_key(agent_id, raw["linkedTo"]))
        if not raw or "status" not in raw:
            return None
        timestamps = {
            status.value: raw[f"at:{status.value}"] for status in MessageStatus if f"at:{status.value}" in raw
        }
        return {
            "messageId": raw.get("messageId"),
            "agentId": raw.get("agentId", agent_id),
            "chatId": raw.get("chatId"),
            "direction": raw.get("direction"),
            "type": raw.get("type"),
            "status": raw["status"],
            "timestamps": timestamps,
            "jobId": raw.get("jobId"),
            "error": raw.get("error"),
            "editedAt": raw.get("editedAt"),
            "revokedAt": raw.get("revokedAt"),
        }

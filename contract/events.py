"""Events the session host POSTs to the functions' `/internal/events`, HMAC-signed.

Signature: hex HMAC-SHA256 over `<unix timestamp>.` + the raw body, sent with the
timestamp in two headers. A timestamp more than five minutes away from now is refused,
so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from contract.live import SessionState
from contract.wire import WireModel, utcnow

EVENTS_PATH = "/internal/events"
SIGNATURE_HEADER = "X-WAGW-Signature"
TIMESTAMP_HEADER = "X-WAGW-Timestamp"
MAX_SKEW_SECONDS = 300


class EventType(StrEnum):
    """What happened in a session."""

    QR = "qr"
    READY = "ready"
    AUTH_FAILURE = "auth_failure"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    STOPPED = "stopped"
    MESSAGE = "message"
    # What happened to messages already in a chat (`update` says which and how).
    SENT = "sent"
    ACK = "ack"
    REACTION = "reaction"
    REVOKE = "revoke"
    EDIT = "edit"


class Location(WireModel):
    """A shared location pin."""

    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class InboundMessage(WireModel):
    """A WhatsApp message as received by the agent's linked device."""

    id: str
    chat_id: str
    sender: str
    from_me: bool = False
    type: str = "chat"
    body: str = ""
    timestamp: int = 0
    is_group: bool = False
    is_status: bool = False
    is_broadcast: bool = False
    is_newsletter: bool = False
    mentioned_ids: list[str] = Field(default_factory=list)
    notify_name: str | None = None
    chat_name: str | None = None
    bot_id: str | None = None
    # WhatsApp also addresses the bot by a linked-identity id (`…@lid`) in group mentions.
    bot_lid: str | None = None
    # The serialized id of the message this one replies to (quotes), if any.
    quoted_message_id: str | None = None
    # Media messages: what the file is (its bytes stay in WhatsApp until downloaded).
    mimetype: str | None = None
    filename: str | None = None
    size: int | None = None
    # Location messages.
    location: Location | None = None


class MessageUpdate(WireModel):
    """Something that happened to a message: our send taken, an ack, a reaction, a revoke, an edit.

    `message_id` is the message it concerns (the reacted-to, revoked or edited one);
    `event_key` tells two updates of one message apart (the reaction's own id, the ack
    level, the edit's text hash) so a repeat is recognised as one.
    """

    message_id: str
    chat_id: str = ""
    sender: str | None = None
    from_me: bool | None = None
    # SENT: the job that sent it and what it was; ACK: WhatsApp's ack level (1..4).
    job_id: str | None = None
    kind: str | None = None
    ack: int | None = None
    # REACTION: the emoji ("" when removed); EDIT: the new text; REVOKE: who revoked.
    reaction: str | None = None
    body: str | None = None
    revoke_type: str | None = None
    event_key: str = ""
    timestamp: int = 0


class SessionEvent(WireModel):
    """One event from a host about one agent."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    type: EventType
    agent_id: str
    host_id: str
    at: datetime = Field(default_factory=utcnow)
    trace_id: str | None = None
    state: SessionState | None = None
    reason: str | None = None
    phone: str | None = None
    message: InboundMessage | None = None
    update: MessageUpdate | None = None


class InvalidSignature(ValueError):
    """Raised when an event's signature or timestamp does not check out."""


def _digest(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, now: float) -> dict[str, str]:
    """Return the headers that authenticate `body`."""
    timestamp = str(int(now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: _digest(secret, timestamp, body)}


def verify(body: bytes, timestamp: str | None, signature: str | None, secret: str, now: float) -> None:
    """Check an event's signature and freshness; raise InvalidSignature when wrong."""
    if not timestamp or not signature:
        raise InvalidSignature("missing signature headers")
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise InvalidSignature("malformed timestamp") from exc
    if abs(now - sent) > MAX_SKEW_SECONDS:
        raise InvalidSignature("timestamp outside the allowed window")
    if not hmac.compare_digest(_digest(secret, timestamp, body), signature):
        raise InvalidSignature("signature mismatch")

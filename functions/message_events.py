"""What the functions make of session and message events: message status, then webhooks.

Every host event ends here once (`functions.events` de-duplicates by event id): inbound
messages, our sends taken by WhatsApp, acks, reactions, revokes, edits and session status
changes. Each updates the message status store where it concerns a message and is queued
for the agent's webhooks under an id derived from the happening (not from the host's
event), so the same happening reported twice is delivered once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from contract import logs
from contract.events import EventType, InboundMessage, MessageUpdate, SessionEvent
from contract.wire import iso
from functions.message_status import STATUS_OF_ACK, MessageStatus, StatusStore, Transition, record_key
from functions.webhooks.fanout import Emitter, get_emitter
from functions.webhooks.schema import EventType as Hook

log = logs.get_logger(__name__)

# The session events a `session.status` webhook reports, and the status it names.
SESSION_STATUS = {
    EventType.QR: "qr",
    EventType.READY: "connected",
    EventType.DISCONNECTED: "disconnected",
    EventType.AUTH_FAILURE: "auth_failed",
    EventType.FAILED: "failed",
}
UPDATES = {EventType.SENT, EventType.ACK, EventType.REACTION, EventType.REVOKE, EventType.EDIT}


@dataclass(frozen=True)
class MessageEvents:
    """The status store and the webhook emitter of one app."""

    store: StatusStore
    emitter: Emitter

    @classmethod
    def of(cls, app: Flask) -> MessageEvents:
        """Return the app's instance (created on first use)."""
        found = app.extensions.get("message_events")
        if found is None:
            settings = app.config["SETTINGS"]
            store = StatusStore(app.extensions["redis"], settings.message_status_ttl_seconds)
            found = cls(store, get_emitter(app))
            app.extensions["message_events"] = found
        return found

    # -- inbound messages ----------------------------------------------------------------
    def message(self, event: SessionEvent, ignored: str | None) -> None:
        """Record an inbound (or phone-sent) message and tell the webhooks about it."""
        message = event.message
        if message is None:
            return
        at = _at(message.timestamp) or event.at
        if message.from_me:
            self.store.advance(
                record_key(event.agent_id, message.id),
                MessageStatus.SENT,
                at,
                messageId=message.id,
                agentId=event.agent_id,
                chatId=message.chat_id,
                direction="out",
                type=message.type,
            )
        else:
            self.store.received(event.agent_id, message.id, chat_id=message.chat_id, kind=message.type, at=at)
        self.emitter.emit(event.agent_id, Hook.MESSAGE, message.id, message_data(message, ignored), at)

    # -- what happened to messages ------------------------------------------------------
    def update(self, event: SessionEvent) -> None:
        """Apply a sent, ack, reaction, revoke or edit event."""
        update = event.update
        if update is None:
            log.warning("message update event without an update", eventId=event.id, type=event.type)
            return
        at = event.at
        agent_id = event.agent_id
        if event.type is EventType.SENT:
            self.store.sent(
                agent_id, update.job_id, update.message_id, at, chatId=update.chat_id, type=update.kind
            )
            data = {
                "messageId": update.message_id,
                "chatId": update.chat_id,
                "type": update.kind,
                "jobId": update.job_id,
                "status": MessageStatus.SENT.value,
            }
            self.emitter.emit(agent_id, Hook.MESSAGE_SENT, update.message_id, data, at)
        elif event.type is EventType.ACK:
            self._ack(agent_id, update, at)
        elif event.type is EventType.REACTION:
            data = {
                **_about(update),
                "reaction": update.reaction or "",
                "removed": not update.reaction,
            }
            key = update.event_key or f"{update.message_id}:{update.sender}:{update.reaction}"
            self.emitter.emit(agent_id, Hook.MESSAGE_REACTION, key, data, at)
        elif event.type is EventType.REVOKE:
            self.store.mark(agent_id, update.message_id, "revokedAt", at)
            data = {**_about(update), "revokeType": update.revoke_type}
            self.emitter.emit(agent_id, Hook.MESSAGE_REVOKED, update.message_id, data, at)
        elif event.type is EventType.EDIT:
            self.store.mark(agent_id, update.message_id, "editedAt", at)
            data = {**_about(update), "body": update.body or ""}
            digest = hashlib.sha256((update.body or "").encode()).hexdigest()[:16]
            key = f"{update.message_id}:{update.event_key or digest}"
            self.emitter.emit(agent_id, Hook.MESSAGE_EDITED, key, data, at)

    def _ack(self, agent_id: str, update: MessageUpdate, at: datetime) -> None:
        status = STATUS_OF_ACK.get(update.ack or 0)
        if status is None or update.from_me is False:
            return  # an ack below "sent", or one about a message we received: nothing to tell
        transition: Transition = self.store.ack(
            agent_id, update.message_id, status, at, chat_id=update.chat_id
        )
        if not transition.changed:
            return  # late, repeated or out of order: the status never moves back
        data = {
            "messageId": update.message_id,
            "chatId": update.chat_id,
            "status": status.value,
            "previous": transition.previous.value if transition.previous else None,
            "ack": update.ack,
        }
        self.emitter.emit(agent_id, Hook.MESSAGE_ACK, f"{update.message_id}:{status.value}", data, at)

    # -- sessions and the AI round ------------------------------------------------------
    def session(self, event: SessionEvent) -> None:
        """Tell the webhooks about a session status change."""
        status = SESSION_STATUS.get(event.type)
        if status is None:
            return
        data = {"status": status, "reason": event.reason, "phone": event.phone, "hostId": event.host_id}
        self.emitter.emit(event.agent_id, Hook.SESSION_STATUS, event.id, data, event.at)

    def ai_reply(self, agent_id: str, message: InboundMessage, reply: str | None) -> None:
        """Tell the webhooks what the AI answered to an inbound message (None: nothing)."""
        data = {"messageId": message.id, "chatId": message.chat_id, "reply": reply, "replied": bool(reply)}
        self.emitter.emit(agent_id, Hook.AI_REPLY, message.id, data)

    def ai_failed(self, agent_id: str, message: InboundMessage, code: str, reason: str) -> None:
        """Tell the webhooks that the AI round of an inbound message failed."""
        data = {"messageId": message.id, "chatId": message.chat_id, "code": code, "reason": reason}
        self.emitter.emit(agent_id, Hook.AI_FAILED, message.id, data)


def message_data(message: InboundMessage, ignored: str | None) -> dict[str, Any]:
    """Return the `message` webhook's data for an inbound message."""
    return {
        "id": message.id,
        "chatId": message.chat_id,
        "from": message.sender,
        "fromMe": message.from_me,
        "type": message.type,
        "body": message.body,
        "timestamp": iso(_at(message.timestamp)) if message.timestamp else None,
        "isGroup": message.is_group,
        "isStatus": message.is_status,
        "isBroadcast": message.is_broadcast,
        "isNewsletter": message.is_newsletter,
        "mentions": list(message.mentioned_ids),
        "quotedMessageId": message.quoted_message_id,
        "notifyName": message.notify_name,
        "chatName": message.chat_name,
        # Why the AI does not answer it (None: it goes to the AI).
        "aiIgnored": ignored,
    }


def _about(update: MessageUpdate) -> dict[str, Any]:
    return {
        "messageId": update.message_id,
        "chatId": update.chat_id,
        "from": update.sender,
        "fromMe": update.from_me,
    }


def _at(timestamp: int) -> datetime | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC)

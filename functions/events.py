"""Apply events posted by session hosts: database status, and hand-off of inbound messages."""

from __future__ import annotations

from flask import current_app

from contract import keys, logs
from contract.events import EventType, SessionEvent
from functions import inbound, linked, message_events, repository
from functions.db import get_engine
from functions.redis_client import get_redis

log = logs.get_logger(__name__)

DEDUPE_TTL_SECONDS = 86400
_STATUS_OF = {
    EventType.QR: repository.RecordStatus.AWAITING_QR,
    EventType.READY: repository.RecordStatus.CONNECTED,
    EventType.AUTH_FAILURE: repository.RecordStatus.AUTH_FAILED,
    EventType.DISCONNECTED: repository.RecordStatus.DISCONNECTED,
}


def first_delivery(event: SessionEvent) -> bool:
    """Return True the first time an event id is seen (hosts retry, so duplicates happen)."""
    return bool(get_redis().set(_dedupe_key(event), "1", nx=True, ex=DEDUPE_TTL_SECONDS))


def _dedupe_key(event: SessionEvent) -> str:
    return keys.event_seen(event.id)


def apply(event: SessionEvent) -> None:
    """Update the record's status for session events; queue inbound messages."""
    try:
        _apply(event)
    except Exception:
        # Let the host's retry of this event id through instead of dropping it as a duplicate.
        get_redis().delete(_dedupe_key(event))
        raise


def _apply(event: SessionEvent) -> None:
    app = current_app._get_current_object()
    status = _STATUS_OF.get(event.type)
    if status is not None:
        repository.set_status(get_engine(), event.agent_id, status, at=event.at)
        if event.type is EventType.READY:
            linked.remember(event.agent_id, event.phone)
        log.info("session status", status=status, host=event.host_id, reason=event.reason)
    if event.type in message_events.SESSION_STATUS:
        message_events.MessageEvents.of(app).session(event)
    elif event.type is EventType.MESSAGE:
        deps = inbound.Deps.of(app)
        reason = inbound.reason_for(deps, event.agent_id, event.message) if event.message else None
        # Webhooks first: queueing there is idempotent, so a retry after a crash repeats nothing.
        if event.message is not None:
            message_events.MessageEvents.of(app).message(event, reason.value if reason else None)
        inbound.accept(deps, event, reason)
    elif event.type in message_events.UPDATES:
        message_events.MessageEvents.of(app).update(event)

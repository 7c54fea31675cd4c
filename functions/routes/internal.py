"""`/internal/events`: HMAC-signed events from session hosts."""

from __future__ import annotations

import json
import time

from flask import Blueprint, current_app, jsonify, request
from pydantic import ValidationError

from contract import events as wire
from contract import logs
from functions import events, secrets
from functions.errors import InvalidPayload, Unauthorized
from functions.validation import describe

bp = Blueprint("internal", __name__)


@bp.post(wire.EVENTS_PATH)
def receive_event():
    """Verify, de-duplicate and apply one host event."""
    body = request.get_data(cache=True)
    try:
        wire.verify(
            body,
            request.headers.get(wire.TIMESTAMP_HEADER),
            request.headers.get(wire.SIGNATURE_HEADER),
            secrets.current(current_app, "events_secret"),
            time.time(),
        )
    except wire.InvalidSignature as exc:
        raise Unauthorized(f"event rejected: {exc}") from exc
    try:
        event = wire.SessionEvent.from_wire(json.loads(body))
    except (ValueError, ValidationError) as exc:
        reason = describe(exc) if isinstance(exc, ValidationError) else "body is not JSON"
        raise InvalidPayload(f"malformed event: {reason}") from exc
    logs.bind(agent_id=event.agent_id, trace_id=event.trace_id)
    duplicate = not events.first_delivery(event)
    if not duplicate:
        events.apply(event)
    return jsonify(accepted=True, duplicate=duplicate, id=event.id), 202

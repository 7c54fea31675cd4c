"""`/sessions` endpoints: create, status, delete, reconnect, QR and pairing code."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request

from contract import logs
from functions import sessions
from functions.admin import require_admin
from functions.errors import InvalidPayload
from functions.schemas import (
    AGENT_ID_PATTERN,
    CreateSessionRequest,
    DeleteSessionRequest,
    PairingCodeRequest,
)
from functions.validation import parse_body

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
_AGENT_ID = re.compile(AGENT_ID_PATTERN)


@bp.before_request
def _guard() -> None:
    require_admin(page=False)
    check_agent_id()


def check_agent_id() -> None:
    """Refuse an odd agent id in the path early: it names Redis keys, queues and a profile directory."""
    agent_id = (request.view_args or {}).get("agent_id")
    if agent_id is not None and not _AGENT_ID.fullmatch(agent_id):
        raise InvalidPayload(
            "agentId must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )


def _wait() -> float:
    return sessions.wait_seconds(request.args.get("wait"))


@bp.post("")
def create_session():
    """Create or update an agent's session and wait for its QR when not ready."""
    body = parse_body(CreateSessionRequest)
    logs.bind(agent_id=body.agentId)
    view, created = sessions.create(body, _wait())
    return jsonify(view), 201 if created else 200


@bp.get("/<agent_id>")
def get_session(agent_id: str):
    """Return an agent's record and live state."""
    return jsonify(sessions.status(agent_id))


@bp.delete("/<agent_id>")
def delete_session(agent_id: str):
    """Stop an agent's session and delete its record."""
    body = parse_body(DeleteSessionRequest, allow_empty=True)
    flag = request.args.get("deleteAuth")
    if flag is not None and flag.lower() not in ("true", "false", "1", "0"):
        raise InvalidPayload("deleteAuth must be true or false")
    delete_auth = body.deleteAuth or (flag or "").lower() in ("true", "1")
    return jsonify(sessions.delete(agent_id, delete_auth))


@bp.post("/<agent_id>/reconnect")
def reconnect_session(agent_id: str):
    """Restart an agent's session from a fresh login."""
    return jsonify(sessions.reconnect(agent_id, _wait()))


@bp.post("/<agent_id>/qr")
def session_qr(agent_id: str):
    """Return the QR code to scan, as a PNG in base64."""
    return jsonify(sessions.qr(agent_id, _wait()))


@bp.post("/<agent_id>/pairing-code")
def session_pairing_code(agent_id: str):
    """Return an 8-character code for linking by phone number."""
    body = parse_body(PairingCodeRequest)
    return jsonify(sessions.pairing_code(agent_id, body.phoneNumber, _wait()))

"""`/sessions` endpoints: create, status, delete, reconnect, QR and pairing code."""

from __future__ import annotations

import re

from flask import Blueprint, request

from contract import logs
from functions import errors, sessions
from functions.admin import require_admin
from functions.errors import InvalidPayload
from functions.openapi import ADMIN, operation
from functions.responses import reply
from functions.schemas import (
    AGENT_ID_PATTERN,
    CreateSessionRequest,
    DeleteSessionQuery,
    DeleteSessionRequest,
    DeleteSessionResponse,
    PairingCodeRequest,
    PairingCodeResponse,
    QrResponse,
    SessionResponse,
    WaitQuery,
)
from functions.validation import parse_body

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
_AGENT_ID = re.compile(AGENT_ID_PATTERN)
# Every /sessions/{agentId} call: the admin check, then the agent id's form.
_GUARDED = (errors.Unauthorized, errors.InvalidPayload)
_SESSION = (*_GUARDED, errors.SessionNotFound)
_PLACED = (errors.NoSessionHost, errors.BadGateway)


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
@operation(
    ADMIN,
    {200: (SessionResponse, "Updated."), 201: (SessionResponse, "Created.")},
    body=CreateSessionRequest,
    query=WaitQuery,
    raises=(*_GUARDED, errors.AgentIdTaken, *_PLACED),
)
def create_session():
    """Create or update an agent's session; wait for its QR when not ready"""
    body = parse_body(CreateSessionRequest)
    logs.bind(agent_id=body.agentId)
    view, created = sessions.create(body, _wait())
    return reply(SessionResponse, view, 201 if created else 200)


@bp.get("/<agent_id>")
@operation(ADMIN, {200: (SessionResponse, "The record and its live state.")}, raises=_SESSION)
def get_session(agent_id: str):
    """Session record and live state"""
    return reply(SessionResponse, sessions.status(agent_id))


@bp.delete("/<agent_id>")
@operation(
    ADMIN,
    {200: (DeleteSessionResponse, "What was stopped and deleted.")},
    body=DeleteSessionRequest,
    body_required=False,
    query=DeleteSessionQuery,
    raises=(*_GUARDED, errors.BadGateway),
)
def delete_session(agent_id: str):
    """Stop a session and delete its record (the body is optional)"""
    body = parse_body(DeleteSessionRequest, allow_empty=True)
    flag = request.args.get("deleteAuth")
    if flag is not None and flag.lower() not in ("true", "false", "1", "0"):
        raise InvalidPayload("deleteAuth must be true or false")
    delete_auth = body.deleteAuth or (flag or "").lower() in ("true", "1")
    return reply(DeleteSessionResponse, sessions.delete(agent_id, delete_auth))


@bp.post("/<agent_id>/reconnect")
@operation(
    ADMIN,
    {200: (SessionResponse, "The session, restarted; its new QR when one appeared in time.")},
    query=WaitQuery,
    raises=(*_SESSION, *_PLACED),
)
def reconnect_session(agent_id: str):
    """Restart a session from a fresh login"""
    return reply(SessionResponse, sessions.reconnect(agent_id, _wait()))


@bp.post("/<agent_id>/qr")
@operation(
    ADMIN,
    {200: (QrResponse, "The QR code to scan.")},
    query=WaitQuery,
    raises=(*_SESSION, *_PLACED, errors.AlreadyConnected, errors.QrTimeout),
)
def session_qr(agent_id: str):
    """QR code to scan, as a PNG (base64)"""
    return reply(QrResponse, sessions.qr(agent_id, _wait()))


@bp.post("/<agent_id>/pairing-code")
@operation(
    ADMIN,
    {200: (PairingCodeResponse, "The code to type on the phone.")},
    body=PairingCodeRequest,
    query=WaitQuery,
    raises=(*_SESSION, *_PLACED, errors.QrTimeout),
)
def session_pairing_code(agent_id: str):
    """8-character code to link by phone number instead of a QR"""
    body = parse_body(PairingCodeRequest)
    return reply(PairingCodeResponse, sessions.pairing_code(agent_id, body.phoneNumber, _wait()))

"""Session life cycle: record upsert, placement on a host, start/stop jobs, QR waits."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import current_app
from sqlalchemy.engine import RowMapping

from contract import jobs
from contract.hosts import HostInfo, HostsReasserting, NoLiveHost
from contract.live import LiveState, SessionState, timestamps
from contract.wire import iso
from functions import admission, dispatch, linked, repository
from functions.config import Settings
from functions.db import get_engine
from functions.errors import (
    AgentIdTaken,
    AlreadyConnected,
    BadGateway,
    InvalidPayload,
    NoSessionHost,
    QrTimeout,
    ServiceUnavailable,
    SessionNotFound,
)
from functions.qr import qr_image
from functions.redis_client import get_host_registry, get_live_state, get_redis
from functions.schemas import WAIT_PATTERN, CreateSessionRequest
from functions.tracing import current_trace_id
from functions.webhooks.registry import WebhookRegistry, check_destination

_FINAL = {SessionState.CONNECTED, SessionState.AUTH_FAILED, SessionState.FAILED}


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def default_endpoint(agent_id: str) -> str:
    """Return `${AI_BACKEND_URL}/agents/{agentId}/execute`."""
    return f"{_settings().ai_backend_url.rstrip('/')}/agents/{agent_id}/execute"


def record_view(row: RowMapping) -> dict[str, Any]:
    """Render a `whatsapp_user` row with the API's keys (the API key itself is never echoed)."""
    return {
        "userId": row["user_id"],
        "agentId": row["agent_id"],
        "agentName": row["agent_name"],
        "status": row["status"],
        "endpointUrlRun": row["endpoint_url_run"],
        "hasApiKey": bool(row["api_key"]),
        "inboundMedia": row.get("inbound_media"),
        "lastConnectedAt": iso(row["last_connected_at"]),
        "lastDisconnectedAt": iso(row["last_disconnected_at"]),
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }


def live_view(state: LiveState | None) -> dict[str, Any]:
    """Render the `liveState` object."""
    running = state is not None and state.state is not SessionState.STOPPED
    return {
        "isReady": bool(state and state.is_ready),
        "hasClient": running,
        "sessionState": state.state.value if state else None,
        "qr": state.qr if state else None,
        "pairingCode": state.pairing_code if state else None,
        "reason": state.reason if state else None,
        "host": state.host if state else None,
        "timestamps": timestamps(state),
    }


def linked_phone(state: LiveState | None) -> str | None:
    """Return the number a connected session is linked as (digits), else None."""
    if state is None or not state.is_ready:
        return None
    return linked.phone_of(state.agent_id) or state.phone


def session_view(row: RowMapping, state: LiveState | None) -> dict[str, Any]:
    """Render record + live state (+ the QR as a PNG when one is waiting to be scanned)."""
    body = record_view(row)
    body["liveState"] = live_view(state)
    body["linkedPhone"] = linked_phone(state)
    body["qr"] = qr_image(state.qr) if state and state.qr else None
    return body


def require_record(agent_id: str) -> RowMapping:
    """Return an agent's record or raise SESSION_NOT_FOUND."""
    row = repository.get_agent(get_engine(), agent_id)
    if row is None:
        raise SessionNotFound(f"no session for agent {agent_id!r}")
    return row


def place(agent_id: str) -> HostInfo:
    """Return the live host owning the agent, placing it if needed."""
    try:
        return get_host_registry().ensure_owner(agent_id, time.time())
    except HostsReasserting as exc:
        raise ServiceUnavailable(f"{exc}; retry shortly", retry_after=admission.RETRY_AFTER_SECONDS) from exc
    except NoLiveHost as exc:
        raise NoSessionHost(f"{exc}; start a session host with `python -m session_host`") from exc


def start(agent_id: str) -> HostInfo:
    """Ask the owning host to run the agent's session (idempotent)."""
    host = place(agent_id)
    payload = jobs.EnsureSession(agent_id=agent_id, trace_id=current_trace_id())
    dispatch.enqueue(jobs.JobName.ENSURE, payload, host_id=host.host_id)
    return host


def stop(agent_id: str, delete_auth: bool) -> bool:
    """Ask the owner to stop the agent's browser; return whether it confirmed in time."""
    registry = get_host_registry()
    owner = registry.owner_of(agent_id)
    if owner is None:
        return True
    try:
        # A dead owner's agents are taken over by a live host, so that host gets the stop.
        host = registry.ensure_owner(agent_id, time.time())
    except NoLiveHost:
        # Nobody can be running the session; waiting on a dead host's queue would only time out.
        registry.release(agent_id, owner)
        return False
    payload = jobs.DestroySession(agent_id=agent_id, delete_auth=delete_auth, trace_id=current_trace_id())
    job = dispatch.enqueue(jobs.JobName.DESTROY, payload, host_id=host.host_id)
    outcome = dispatch.wait(job, _settings().stop_wait_seconds)
    if outcome.status == "failed":
        raise BadGateway(f"the session host could not stop the session: {outcome.reason}")
    return outcome.status == "finished"


def _qr_or_final(state: LiveState) -> bool:
    return bool(state.qr) or state.state in _FINAL


def wait_for_qr_or_ready(agent_id: str, timeout: float) -> LiveState | None:
    """Block until the session shows a QR, is ready or has failed; None on timeout."""
    return get_live_state().wait_for(agent_id, _qr_or_final, timeout)


def wait_seconds(requested: str | None) -> float:
    """Return how long to wait: the `wait` query parameter, capped by QR_WAIT_SECONDS."""
    limit = _settings().qr_wait_seconds
    if requested is None:
        return limit
    if not re.fullmatch(WAIT_PATTERN, requested):
        raise InvalidPayload("wait must be a number of seconds")
    return min(float(requested), limit)


def create(body: CreateSessionRequest, wait: float) -> tuple[dict[str, Any], bool]:
    """Upsert the record, make sure the session runs, and wait for a QR when not ready."""
    engine = get_engine()
    api_key = repository.active_api_key(engine, body.userId) or body.apikey
    hooks = WebhookRegistry(get_redis(), current_app.config["SETTINGS"])
    if body.webhooks is not None:
        # Refuse a bad destination before anything is created.
        for spec in body.webhooks:
            check_destination(spec.url, hooks.allowlist())
    try:
        row, created = repository.upsert_agent(
            engine,
            user_id=body.userId,
            agent_id=body.agentId,
            agent_name=body.agentName,
            api_key=api_key,
            endpoint_url_run=default_endpoint(body.agentId),
            inbound_media=body.inboundMedia,
        )
    except repository.AgentOwnedByAnotherUser as exc:
        raise AgentIdTaken(f"agent {body.agentId!r} belongs to another user") from exc
    # Only now that the agent is known to be this user's may its webhooks change.
    shown = hooks.put(body.agentId, body.webhooks) if body.webhooks is not None else None
    start(body.agentId)
    view = session_view(row, _current_or_waited(body.agentId, wait))
    if shown is not None:
        view["webhooks"] = shown
    return view, created


def _current_or_waited(agent_id: str, wait: float) -> LiveState | None:
    state = get_live_state().get(agent_id)
    if state is not None and (state.is_ready or state.qr):
        return state
    return wait_for_qr_or_ready(agent_id, wait) or get_live_state().get(agent_id)


def status(agent_id: str) -> dict[str, Any]:
    """Return record + live state of an agent."""
    row = require_record(agent_id)
    return session_view(row, get_live_state().get(agent_id))


def delete(agent_id: str, delete_auth: bool) -> dict[str, Any]:
    """Stop the browser (if any), then delete the record."""
    stopped = stop(agent_id, delete_auth)
    deleted = repository.delete_agent(get_engine(), agent_id)
    linked.forget(agent_id)
    return {
        "deleted": deleted,
        "agentId": agent_id,
        "sessionStopped": stopped,
        "authDeleted": delete_auth and stopped,
    }


def reconnect(agent_id: str, wait: float) -> dict[str, Any]:
    """Stop the session, clear its login, start it again and wait for the new QR."""
    require_record(agent_id)
    place(agent_id)
    if not stop(agent_id, delete_auth=True):
        raise BadGateway("the session host did not stop the session in time; try again")
    repository.set_status(get_engine(), agent_id, repository.RecordStatus.AWAITING_QR)
    linked.forget(agent_id)
    start(agent_id)
    row = require_record(agent_id)
    return session_view(row, _current_or_waited(agent_id, wait))


def qr(agent_id: str, wait: float) -> dict[str, Any]:
    """Make sure the session runs and return its current QR as a PNG."""
    require_record(agent_id)
    start(agent_id)
    state = _current_or_waited(agent_id, wait)
    if state is not None and state.is_ready:
        raise AlreadyConnected("the session is already connected; no QR is needed")
    if state is None or not state.qr:
        reason = f" ({state.state.value}: {state.reason})" if state and state.reason else ""
        raise QrTimeout(f"no QR code appeared within {wait:g} seconds{reason}")
    return {"qr": qr_image(state.qr), "qrUpdatedAt": iso(state.qr_updated_at)}


def pairing_code(agent_id: str, phone_number: str, wait: float) -> dict[str, Any]:
    """Ask WhatsApp for a code to link the device by phone number instead of a QR."""
    require_record(agent_id)
    start(agent_id)
    digits = re.sub(r"\D", "", phone_number)
    payload = jobs.RequestPairingCode(agent_id=agent_id, phone_number=digits, trace_id=current_trace_id())
    job = dispatch.enqueue(jobs.JobName.PAIRING_CODE, payload, timeout=int(wait) + 30)
    outcome = dispatch.wait(job, wait)
    if outcome.status == "pending":
        raise QrTimeout(f"no pairing code within {wait:g} seconds")
    if outcome.status == "failed":
        raise BadGateway(f"could not get a pairing code: {outcome.reason}")
    result = jobs.PairingCodeResult.from_wire(outcome.value)
    return {"code": result.code, "phoneNumber": digits}

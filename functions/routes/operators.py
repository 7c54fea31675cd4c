"""Admin JSON endpoints for operators: the sessions list and the jobs of an agent."""

from __future__ import annotations

from flask import Blueprint, request

from functions import errors, joblist, linked, listing
from functions.admin import require_admin
from functions.openapi import ADMIN, operation
from functions.responses import reply
from functions.routes.sessions import check_agent_id
from functions.schemas import (
    JobListQuery,
    JobListResponse,
    LogoutResponse,
    RequeueResponse,
    SessionListQuery,
    SessionListResponse,
)
from functions.sessions import require_record

bp = Blueprint("operators", __name__)
_SESSION = (errors.Unauthorized, errors.InvalidPayload, errors.SessionNotFound)


@bp.before_request
def _guard() -> None:
    require_admin(page=False)
    check_agent_id()


@bp.get("/sessions")
@operation(
    ADMIN,
    {200: (SessionListResponse, "One page of sessions.")},
    query=SessionListQuery,
    raises=(errors.Unauthorized, errors.InvalidPayload),
)
def list_sessions():
    """List sessions with their live state, by agent id, optionally filtered by status and host"""
    page = listing.list_sessions(
        status=request.args.get("status"),
        host=request.args.get("host"),
        limit=listing.parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
    )
    return reply(SessionListResponse, {"sessions": page.items, "nextCursor": page.next_cursor})


@bp.get("/sessions/<agent_id>/jobs")
@operation(ADMIN, {200: (JobListResponse, "The agent's jobs.")}, query=JobListQuery, raises=_SESSION)
def agent_jobs(agent_id: str):
    """List an agent's jobs, newest first within each state (`status=failed` for failed sends)"""
    require_record(agent_id)
    limit = listing.parse_limit(request.args.get("limit"))
    found = joblist.agent_jobs(agent_id, request.args.get("status"), limit)
    return reply(JobListResponse, {"jobs": found})


@bp.post("/sessions/<agent_id>/logout")
@operation(
    ADMIN,
    {200: (LogoutResponse, "Logged out, or the logout still running (loggedOut false).")},
    raises=(*_SESSION, errors.SessionNotReady, errors.BadGateway),
)
def logout_session(agent_id: str):
    """Log the agent's linked device out of WhatsApp (the record stays; a new QR follows)"""
    return reply(LogoutResponse, linked.logout(agent_id))


@bp.post("/jobs/<job_id>/requeue")
@operation(
    ADMIN,
    {200: (RequeueResponse, "Back on its queue.")},
    raises=(errors.Unauthorized, errors.JobNotFound, errors.JobNotFailed),
)
def requeue_job(job_id: str):
    """Put a failed job back on its queue"""
    return reply(RequeueResponse, {"job": joblist.requeue(job_id)})

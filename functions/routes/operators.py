"""Admin JSON endpoints for operators: the sessions list and the jobs of an agent."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from functions import joblist, linked, listing
from functions.admin import require_admin
from functions.routes.sessions import check_agent_id
from functions.sessions import require_record
from functions.tracing import current_trace_id

bp = Blueprint("operators", __name__)


@bp.before_request
def _guard() -> None:
    require_admin(page=False)
    check_agent_id()


@bp.get("/sessions")
def list_sessions():
    """List sessions with their live state, by agent id, optionally filtered by status and host."""
    page = listing.list_sessions(
        status=request.args.get("status"),
        host=request.args.get("host"),
        limit=listing.parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
    )
    return jsonify(sessions=page.items, nextCursor=page.next_cursor, traceId=current_trace_id())


@bp.get("/sessions/<agent_id>/jobs")
def agent_jobs(agent_id: str):
    """List an agent's jobs, newest first within each state (`status=failed` for failed sends)."""
    require_record(agent_id)
    limit = listing.parse_limit(request.args.get("limit"))
    found = joblist.agent_jobs(agent_id, request.args.get("status"), limit)
    return jsonify(jobs=found, traceId=current_trace_id())


@bp.post("/sessions/<agent_id>/logout")
def logout_session(agent_id: str):
    """Log the agent's linked device out of WhatsApp (the record stays; a new QR follows)."""
    return jsonify(linked.logout(agent_id))


@bp.post("/jobs/<job_id>/requeue")
def requeue_job(job_id: str):
    """Put a failed job back on its queue."""
    return jsonify(job=joblist.requeue(job_id), traceId=current_trace_id())

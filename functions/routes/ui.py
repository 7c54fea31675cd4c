"""`/ui`: server-rendered pages for operators — the sessions list and one session with its live QR.

The pages are plain Jinja templates (autoescaped) and one small hand-written script that polls
the JSON API; no build step, no third-party JavaScript, nothing from a CDN.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, redirect, render_template, request, url_for

from contract.live import SessionState
from functions import listing, repository
from functions.errors import ApiError, SessionNotFound
from functions.qr import qr_image
from functions.redis_client import get_live_state
from functions.routes.sessions import check_agent_id
from functions.sessions import require_record, session_view

_HERE = Path(__file__).resolve().parent.parent
bp = Blueprint(
    "ui",
    __name__,
    url_prefix="/ui",
    template_folder=str(_HERE / "templates"),
    static_folder=str(_HERE / "static" / "ui"),
    static_url_path="/static",
)
# The pages only load their own files; a name that slipped through escaping still could not run.
_CSP = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; frame-ancestors 'none'"


@bp.before_request
def _check() -> None:
    check_agent_id()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/")
def index():
    """Send operators to the sessions list."""
    return redirect(url_for("ui.sessions_page"))


def mebibytes(value: int | None) -> str:
    """Format a byte count as MiB, or an em dash when unknown."""
    return "—" if value is None else f"{value / 1048576:.0f} MiB"


@bp.get("/sessions")
def sessions_page():
    """List every agent with its record and live state."""
    status = request.args.get("status") or None
    host = request.args.get("host") or None
    try:
        page = listing.list_sessions(
            status=status, host=host, limit=listing.DEFAULT_LIMIT, cursor=request.args.get("cursor") or None
        )
    except ApiError as exc:
        return render_template("ui/error.html", error=exc), exc.status
    pss = listing.chrome_pss()
    rows = [{**item, "pss": mebibytes(pss.get(item["agentId"]))} for item in page.items]
    return render_template(
        "ui/sessions.html",
        rows=rows,
        status=status,
        host=host,
        statuses=repository.STATUSES,
        next_cursor=page.next_cursor,
        pss_known=bool(pss),
    )


@bp.get("/sessions/<agent_id>")
def session_page(agent_id: str):
    """Show one session: its QR while waiting, "connected as …" once linked, and its actions."""
    try:
        row = require_record(agent_id)
    except SessionNotFound as exc:
        return render_template("ui/error.html", error=exc), 404
    state = get_live_state().get(agent_id)
    view = session_view(row, state)
    waiting = state is not None and state.state is SessionState.AWAITING_QR and state.qr
    return render_template(
        "ui/session.html",
        session=view,
        qr=qr_image(state.qr) if waiting and state else None,
        api_root=request.script_root,
    )

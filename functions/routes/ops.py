"""Operational endpoints: health (and metrics)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

from contract.wire import iso, utcnow
from functions.tracing import current_trace_id

bp = Blueprint("ops", __name__)


@bp.get("/health")
def health():
    """Report that this process is serving."""
    started = current_app.config["STARTED_AT"]
    return jsonify(
        status="ok",
        uptime=round(time.time() - started, 3),
        timestamp=iso(utcnow()),
        traceId=current_trace_id(),
    )

"""Operational endpoints: health, deployment-wide metrics, the OpenAPI document and Swagger UI."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, send_file, send_from_directory
from flask.blueprints import BlueprintSetupState

from contract import logs
from contract.wire import iso, utcnow
from functions import errors, media_links, metrics, openapi
from functions.openapi import OPS, operation
from functions.redis_client import get_redis
from functions.responses import reply
from functions.schemas import HealthResponse

log = logs.get_logger(__name__)

bp = Blueprint("ops", __name__)

# Served from the pip-packaged Swagger UI (flask-swagger-ui's copy of swagger-ui-dist 5, which
# renders OpenAPI 3.1; only its files are used): /docs works offline, no CDN.
SWAGGER_UI_DIST = Path(importlib.util.find_spec("flask_swagger_ui").origin).parent / "dist"
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WhatsApp Agent Gateway API</title>
<link rel="stylesheet" href="{base}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: "{spec}", dom_id: "#swagger-ui"}});</script>
</body></html>
"""


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    metrics.init_app(state.app)


@bp.after_app_request
def _count_errors(response: Response) -> Response:
    if response.status_code >= 400 and response.is_json:
        body = response.get_json(silent=True) or {}
        code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
        if code:
            try:
                metrics.count_error(get_redis(), code)
            except Exception as exc:  # a metric must never replace the real answer
                log.warning("could not count error", error=str(exc))
    return response


@bp.get("/health")
@operation(OPS, {200: (HealthResponse, "Serving.")})
def health():
    """Liveness of this process"""
    started = current_app.config["STARTED_AT"]
    return reply(
        HealthResponse,
        {"status": "ok", "uptime": round(time.time() - started, 3), "timestamp": iso(utcnow())},
    )


@bp.get("/metrics")
@operation(OPS, {200: (None, "Prometheus text format.")})
def prometheus_metrics():
    """Prometheus metrics of the whole deployment"""
    return metrics.render(current_app, get_redis())


@bp.get("/openapi.json")
def openapi_document():
    """Return the OpenAPI document."""
    return jsonify(openapi.document(request.script_root or None))


@bp.get("/docs")
def docs():
    """Serve Swagger UI for the OpenAPI document."""
    root = request.script_root
    page = _DOCS_PAGE.format(base=f"{root}/docs", spec=f"{root}/openapi.json")
    return Response(page, mimetype="text/html")


@bp.get("/docs/<path:filename>")
def docs_asset(filename: str):
    """Serve Swagger UI's static files."""
    return send_from_directory(SWAGGER_UI_DIST, filename, max_age=3600)


@bp.get("/media/<token>")
@operation(
    OPS,
    {200: (None, "The file, with its content type.")},
    raises=(errors.NotFound, errors.MediaLinkExpired),
)
def inbound_media(token: str):
    """An inbound media file, for the AI backend (the link comes in its request's metadata)"""
    found = media_links.resolve(current_app.config["SETTINGS"], token)
    # Whole, not streamed: spectree reads every answer it checks (and files are ≤ MEDIA_MAX_BYTES).
    response = send_file(found.path, mimetype=found.mime_type, download_name=found.filename, max_age=0)
    response.direct_passthrough = False
    return response

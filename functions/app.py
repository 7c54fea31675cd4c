"""Application factory: settings, connections, blueprints and the one error handler."""

from __future__ import annotations

import time

import redis
import sqlalchemy.exc
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from contract import logs
from functions import admin, dashboard, db, errors, redis_client, secrets, tracing
from functions.config import Settings, get_settings
from functions.errors import ApiError, PayloadTooLarge, ServiceUnavailable
from functions.routes import agents, internal, operators, ops, sessions, ui

log = logs.get_logger(__name__)

# Seconds a client is told to wait after a Redis or database outage answer.
_OUTAGE_RETRY_AFTER = 2


def error_body(code: str, message: str, status: int):
    """Render the standard error envelope."""
    body = {"error": {"code": code, "message": message, "traceId": tracing.current_trace_id()}}
    return jsonify(body), status


def _register_error_handlers(app: Flask) -> None:
    def _render(exc: ApiError):
        response, status = error_body(exc.code, exc.message, exc.status)
        if (retry_after := getattr(exc, "retry_after", None)) is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response, status

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if exc.status >= 500:
            log.warning("request failed", code=exc.code, reason=exc.message)
        return _render(exc)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc: RequestEntityTooLarge):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return _api_error(PayloadTooLarge(f"request body is larger than {limit} bytes"))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        response, status = _api_error(errors.for_http_status(exc.code or 500, exc.description or exc.name))
        if "Allow" in (framework := dict(exc.get_headers())):  # 405 says which methods the path has
            response.headers["Allow"] = framework["Allow"]
        return response, status

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.InterfaceError)
    def _outage(exc: Exception):
        """Redis and database outages: one 503 `SERVICE_UNAVAILABLE` answer, logged once."""
        if isinstance(exc, redis.exceptions.RedisError):
            what, event = "Redis", "redis unavailable"
        else:
            what, event = "the database", "database unavailable"
        log.error(event, error=str(exc).splitlines()[0])
        return _render(
            ServiceUnavailable(f"{what} is unavailable; try again shortly", retry_after=_OUTAGE_RETRY_AFTER)
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_body("INTERNAL_ERROR", "internal error", 500)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app (once per process; the Lambda entry reuses it across invocations)."""
    settings = settings or get_settings()
    logs.configure_logging(settings.log_level, service="functions")
    settings, runtime_secrets = secrets.apply(settings)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    if runtime_secrets is not None:
        app.extensions["runtime_secrets"] = runtime_secrets
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["STARTED_AT"] = time.time()
    app.json.sort_keys = False
    db.init_app(app, settings.database_url, settings.db_pool_size, iam_auth=settings.database_iam_auth)
    redis_client.init_app(app, settings.redis_url, settings.host_ttl_seconds)
    tracing.init_app(app)
    admin.init_app(app)
    _register_error_handlers(app)
    for module in (ops, sessions, operators, agents, internal, ui):
        app.register_blueprint(module.bp)
    dashboard.init_app(app, settings.redis_url)
    return app

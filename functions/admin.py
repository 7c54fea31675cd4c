"""The admin guard shared by `/sessions*`, `/jobs*`, the `/ui` pages and the `/rq` dashboard.

With ADMIN_TOKEN set, a request needs the token either as `Authorization: Bearer <token>`
(API clients, the CLI) or as the password of HTTP Basic (browsers: any user name), compared
in constant time. Without it (development) the JSON API stays open as it always was, and the
pages are served only to loopback clients: they can link phones and requeue jobs.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Flask, Response, current_app, request

from contract import logs
from functions import secrets
from functions.auth import bearer_token
from functions.errors import Forbidden, Unauthorized

log = logs.get_logger(__name__)

REALM = "WhatsApp Agent Gateway admin"
# Blueprints whose pages a browser opens (Basic challenge, loopback-only without a token).
PAGE_BLUEPRINTS = frozenset({"ui", "rq_dashboard"})


def _given_token() -> str | None:
    token = bearer_token()
    if token is not None:
        return token
    basic = request.authorization
    if basic is not None and basic.type == "basic" and basic.password:
        return basic.password
    return None


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def require_admin(*, page: bool) -> None:
    """Refuse the request unless it carries the admin token (or, without one, comes from loopback)."""
    token = secrets.current(current_app, "admin_token")
    if token:
        given = _given_token()
        if given is None or not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("the admin token is required (Bearer, or HTTP Basic with it as password)")
        return
    # X-Forwarded-For is ignored on purpose: any client can write it.
    if page and not _is_loopback(request.remote_addr):
        log.warning("admin page refused: ADMIN_TOKEN is unset and the client is not local", path=request.path)
        raise Forbidden("set ADMIN_TOKEN to serve this page to clients other than this machine")


def _challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


def init_app(app: Flask) -> None:
    """Guard the page blueprints and answer every admin 401 with a Basic challenge."""
    if not app.config["SETTINGS"].admin_token:
        log.warning("ADMIN_TOKEN is unset: /ui and /rq are served to loopback clients only")

    @app.before_request
    def _guard_pages() -> None:
        if request.blueprint in PAGE_BLUEPRINTS:
            require_admin(page=True)

    @app.after_request
    def _challenge_admin(response: Response) -> Response:
        if request.blueprint in PAGE_BLUEPRINTS or request.path.startswith(("/sessions", "/jobs")):
            return _challenge(response)
        return response

"""HTTP face of the simulator: the WhatsApp Web page, its page API and the control API."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_from_directory
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from simulator.messages import Inbound, InvalidInput
from simulator.world import Conflict, NotFound, World

STATIC = Path(__file__).parent / "static"
KEEPALIVE_SECONDS = 5  # a closed page is noticed on the next write, so write now and then

page = Blueprint("page", __name__)
control = Blueprint("control", __name__, url_prefix="/control")


def world() -> World:
    """Return the simulated world this app serves."""
    return current_app.extensions["simulator.world"]


def body() -> dict[str, Any]:
    """Return the JSON object of the request, or raise InvalidInput."""
    data = request.get_json(silent=True)
    if data is None and not request.data:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object")
    return data


def error(status: int, code: str, message: str) -> tuple[Response, int]:
    """Answer an error in the gateway's envelope shape."""
    return jsonify({"error": {"code": code, "message": message}}), status


# --- the page ---------------------------------------------------------------------------


@page.get("/")
def index() -> Response:
    """Serve WhatsApp Web."""
    return send_from_directory(STATIC, "index.html", max_age=0)


@page.get("/wpp.js")
def wpp_js() -> Response:
    """Serve the simulated wa-js."""
    return send_from_directory(STATIC, "wpp.js", max_age=0)


@page.get("/api/devices/<device_id>/stream")
def stream(device_id: str) -> Response:
    """Push the device's state changes and messages to its page (server-sent events)."""
    after = max(request.args.get("after", 0, type=int), request.headers.get("Last-Event-ID", 0, type=int))
    the_world = world()

    def events() -> Iterator[str]:
        # Subscribe only once the response is written, so an unread response leaks nothing.
        subscription = the_world.subscribe(device_id, after)
        try:
            yield "retry: 500\n\n"
            while True:
                try:
                    kind, data = subscription.get(timeout=KEEPALIVE_SECONDS)
                except queue.Empty:
                    yield ": keepalive\n\n"
                    continue
                # Only inbox events (messages, acks, reactions, …) carry an id, so a
                # reconnecting EventSource resumes after them.
                event_id = f"id: {data['seq']}\n" if "seq" in data else ""
                yield f"{event_id}event: {kind}\ndata: {json.dumps(data)}\n\n"
        finally:
            the_world.unsubscribe(device_id, subscription)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(events(), mimetype="text/event-stream", headers=headers)


@page.post("/api/devices/<device_id>/send")
def send(device_id: str) -> Response:
    """Record a text or media message sent by the page."""
    return jsonify(world().record_send(device_id, body()))


@page.post("/api/devices/<device_id>/typing")
def typing(device_id: str) -> Response:
    """Record a composing/paused change sent by the page."""
    data = body()
    world().record_typing(device_id, str(data.get("chatId") or ""), str(data.get("state") or ""))
    return jsonify({"ok": True})


@page.post("/api/devices/<device_id>/message")
def message_info(device_id: str) -> Response:
    """Look a message up by serialized id (the page's `getMessageById`)."""
    return jsonify(world().message_info(device_id, str(body().get("id") or "")))


@page.get("/api/devices/<device_id>/media")
def media(device_id: str) -> Response:
    """Serve an inbound message's media bytes (the page's `downloadMedia`)."""
    data, mimetype = world().media_of(device_id, request.args.get("id", ""))
    return Response(data, mimetype=mimetype)


@page.post("/api/devices/<device_id>/actions/<kind>")
def action(device_id: str, kind: str) -> Response:
    """Record a reaction, a chat marked read, an edit or a delete by the page."""
    return jsonify(world().record_action(device_id, kind, body()))


@page.post("/api/devices/<device_id>/signals")
def signals(device_id: str) -> Response:
    """Record the browser's detection signals for one page load."""
    world().record_signals(device_id, body())
    return jsonify({"ok": True})


@page.post("/api/devices/<device_id>/pairing-code")
def pairing_code(device_id: str) -> Response:
    """Issue a pairing code for the device."""
    return jsonify({"code": world().request_pairing_code(device_id, str(body().get("phone") or ""))})


@page.post("/api/devices/<device_id>/refresh-qr")
def refresh_qr(device_id: str) -> Response:
    """Rotate the device's QR now."""
    return jsonify({"qr": world().refresh_qr(device_id)})


@page.post("/api/devices/<device_id>/logout")
def page_logout(device_id: str) -> Response:
    """Log the device out at the page's request."""
    world().page_logout(device_id)
    return jsonify({"ok": True})


# --- the control API ----------------------------------------------------------------------


@control.get("/health")
def health() -> Response:
    """Tell that the simulator runs."""
    return jsonify({"status": "ok"})


@control.get("/devices")
def devices() -> Response:
    """List devices with their state, QR and pairing code."""
    return jsonify(world().devices())


@control.get("/stats")
def stats() -> Response:
    """Return totals: sends, duplicate sends, inbound messages, pages."""
    return jsonify(world().stats())


@control.post("/scan")
def scan() -> Response:
    """Scan a QR with a phone."""
    data = body()
    qr = str(data.get("qr") or "")
    phone = data.get("phone")
    return jsonify(world().scan(qr, str(phone) if phone else None, data.get("pushname")))


@control.post("/pair")
def pair() -> Response:
    """Confirm a pairing code on a phone."""
    return jsonify(world().pair(str(body().get("code") or "")))


@control.post("/accounts/<phone>/inbound")
def inbound(phone: str) -> Response:
    """Deliver a message to the account's linked device."""
    return jsonify(world().inbound(phone, Inbound.model_validate(body())))


@control.post("/accounts/<phone>/auth-failure")
def auth_failure(phone: str) -> Response:
    """Make the account's session (or its next login) fail authentication."""
    return jsonify(world().auth_failure(phone, body().get("reason")))


@control.post("/accounts/<phone>/logout")
def logout(phone: str) -> Response:
    """Log the account's device out from the phone."""
    return jsonify(world().logout(phone))


ACK_LEVELS = {"sent": 1, "delivered": 2, "read": 3, "played": 4}


def _only(data: dict[str, Any], *allowed: str) -> dict[str, Any]:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}")
    return data


@control.post("/accounts/<phone>/messages/<path:message_id>/ack")
def ack(phone: str, message_id: str) -> Response:
    """The peer's phone acknowledges a message the account sent (delivered, read, played)."""
    data = _only(body(), "status")
    level = ACK_LEVELS.get(str(data.get("status") or ""))
    if level is None:
        raise InvalidInput(f"status must be one of {', '.join(ACK_LEVELS)}")
    return jsonify(world().ack(phone, message_id, level))


@control.post("/accounts/<phone>/messages/<path:message_id>/reaction")
def reaction(phone: str, message_id: str) -> Response:
    """A user reacts to a message with an emoji ("" takes the reaction back)."""
    data = _only(body(), "from", "emoji")
    sender = str(data.get("from") or "")
    if not sender:
        raise InvalidInput("from is required")
    return jsonify(world().react(phone, message_id, sender, str(data.get("emoji") or "")))


@control.post("/accounts/<phone>/messages/<path:message_id>/revoke")
def revoke(phone: str, message_id: str) -> Response:
    """The message's author deletes it for everyone."""
    _only(body())
    return jsonify(world().revoke(phone, message_id))


@control.post("/accounts/<phone>/messages/<path:message_id>/edit")
def edit(phone: str, message_id: str) -> Response:
    """The message's author edits its text."""
    data = _only(body(), "body")
    if not isinstance(data.get("body"), str) or not data["body"]:
        raise InvalidInput("body (the new text) is required")
    return jsonify(world().edit(phone, message_id, data["body"]))


@control.post("/peers")
def peers() -> Response:
    """Change how the peers' phones acknowledge sends: `{ackDelay, readDelay}` (null: never)."""
    data = _only(body(), "ackDelay", "readDelay")
    the_world = world()
    for name, attribute in (("ackDelay", "ack_delay"), ("readDelay", "read_delay")):
        if name in data:
            value = data[name]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or value < 0
            ):
                raise InvalidInput(f"{name} must be a number of seconds ≥ 0, or null")
            setattr(the_world, attribute, value)
    return jsonify({"ackDelay": the_world.ack_delay, "readDelay": the_world.read_delay})


@control.get("/accounts/<phone>/actions")
def actions(phone: str) -> Response:
    """List the account's reactions, chats marked read, edits and deletes, in order."""
    return jsonify(world().actions(phone))


@control.get("/accounts/<phone>/acks")
def acks(phone: str) -> Response:
    """Return the highest ack the simulator reported per message the account sent."""
    return jsonify(world().acks_of(phone))


@control.get("/accounts/<phone>")
def account(phone: str) -> Response:
    """Summarise an account."""
    return jsonify(world().account(phone))


@control.get("/accounts/<phone>/sent")
def sent(phone: str) -> Response:
    """List what the account's device sent, from index `since`."""
    return jsonify(world().sent(phone, request.args.get("since", 0, type=int)))


@control.get("/accounts/<phone>/typing")
def typing_log(phone: str) -> Response:
    """List the account's typing changes."""
    return jsonify(world().typing(phone))


def create_app(the_world: World | None = None) -> Flask:
    """Build the simulator app around `the_world` (a new one by default)."""
    app = Flask(__name__, static_folder=None)
    app.extensions["simulator.world"] = the_world or World()
    app.register_blueprint(page)
    app.register_blueprint(control)

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> tuple[Response, int]:
        return error(404, "NOT_FOUND", str(exc))

    @app.errorhandler(Conflict)
    def conflict(exc: Conflict) -> tuple[Response, int]:
        return error(409, "CONFLICT", str(exc))

    @app.errorhandler(InvalidInput)
    def invalid(exc: InvalidInput) -> tuple[Response, int]:
        return error(400, "INVALID_PAYLOAD", str(exc))

    @app.errorhandler(ValidationError)
    def invalid_model(exc: ValidationError) -> tuple[Response, int]:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return error(400, "INVALID_PAYLOAD", problems)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").upper().replace(" ", "_")
        return error(exc.code or 500, code, exc.description or code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        app.logger.exception("unexpected error")
        return error(500, "INTERNAL", f"simulator error: {exc.__class__.__name__}")

    return app

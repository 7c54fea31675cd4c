"""Agent endpoints: run (AI proxy), messages, media and job status — Bearer-authenticated."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, g, request

from contract import jobs
from contract.wire import utcnow
from functions import ai, auth, dispatch, errors, media, sending
from functions.config import Settings
from functions.errors import ApiError, InvalidPayload
from functions.message_events import MessageEvents
from functions.openapi import AGENT, operation
from functions.redis_client import get_redis
from functions.responses import reply
from functions.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    MESSAGE_ID_PATTERN,
    ApiModel,
    EditMessageRequest,
    IdempotencyHeaders,
    JobResponse,
    MediaResponse,
    MessageStatusResponse,
    ReactionRequest,
    RunRequest,
    RunResponse,
    SeenRequest,
    SendContactsRequest,
    SendLocationRequest,
    SendMediaRequest,
    SendMessageRequest,
    SendPollRequest,
    SendResponse,
)
from functions.tracing import current_trace_id
from functions.validation import parse_body
from functions.webhooks.registry import WebhookRegistry
from functions.webhooks.schema import WebhooksRequest, WebhooksResponse

bp = Blueprint("agents", __name__, url_prefix="/agents")

IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
# Who may call: the agent's key (401), for an agent that exists (404).
_AGENT = (errors.Unauthorized, errors.SessionNotFound)
_SEND = (
    *_AGENT,
    errors.SessionNotReady,
    errors.IdempotencyInProgress,
    errors.IdempotencyKeyReused,
    errors.RateLimited,
    errors.BadGateway,
)


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


@bp.before_request
def _authenticate() -> None:
    agent_id = (request.view_args or {}).get("agent_id")
    if agent_id is not None:
        g.agent = auth.authenticate(agent_id)


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise InvalidPayload(f"{IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters")
    return key


def _answer(model: type[SendResponse], outcome: sending.SendOutcome):
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return reply(model, outcome.body, outcome.status, headers)


@bp.post("/<agent_id>/run")
@operation(
    AGENT,
    {200: (RunResponse, "The AI's reply and whether it was sent.")},
    body=RunRequest,
    raises=(*_AGENT, errors.AiDownstreamError, errors.AiTimeout),
)
def run(agent_id: str):
    """Ask the agent's AI and send its reply (if any) to the chat"""
    body = parse_body(RunRequest)
    chat = sending.recipient(body.session_id)
    payload = {
        "input": body.text,
        "parameters": body.parameters,
        "session_id": chat,
        "metadata": {**(body.metadata or {}), "agentId": agent_id, "traceId": current_trace_id()},
    }
    result = ai.ask(g.agent, agent_id, payload, _settings(), get_redis())
    answer: dict[str, Any] = {"reply": result.reply, "replySent": False}
    if result.reply:
        answer.update(_send_reply(agent_id, chat, result.reply))
    return reply(RunResponse, answer)


def _send_reply(agent_id: str, chat: str, text: str) -> dict[str, Any]:
    # The AI already answered: a reply that cannot be sent is reported, not turned into an error.
    reply = jobs.SendText(agent_id=agent_id, to=chat, text=text, trace_id=current_trace_id())
    try:
        outcome = sending.send(agent_id, reply)
    except ApiError as exc:
        return {"replySent": False, "replyError": {"code": exc.code, "message": exc.message}}
    return {"replySent": outcome.body["delivered"], "replyJobId": outcome.body["jobId"]}


_SENT = "WhatsApp accepted the message."
_QUEUED = "Queued behind the rate limit or a slow host; poll the job (delivered: false)."


@bp.post("/<agent_id>/messages")
@operation(
    AGENT,
    {200: (SendResponse, _SENT), 202: (SendResponse, _QUEUED)},
    body=SendMessageRequest,
    headers=IdempotencyHeaders,
    raises=_SEND,
)
def send_message(agent_id: str):
    """Send a text message (optionally quoting one) from the agent's WhatsApp"""
    body = parse_body(SendMessageRequest)
    message = jobs.SendText(
        agent_id=agent_id,
        to=sending.recipient(body.to),
        text=body.message,
        quoted_message_id=body.quotedMessageId,
        trace_id=current_trace_id(),
    )
    return _answer(
        SendResponse,
        sending.send(
            agent_id,
            message,
            idempotency_key=_idempotency_key(),
            request_fingerprint=sending.fingerprint(body.model_dump()),
        ),
    )


@bp.post("/<agent_id>/media")
@operation(
    AGENT,
    {200: (MediaResponse, _SENT), 202: (MediaResponse, _QUEUED)},
    body=SendMediaRequest,
    headers=IdempotencyHeaders,
    raises=(*_SEND, errors.MediaTooLarge),
)
def send_media(agent_id: str):
    """Send an image, document or other file (at most 10 MB) from base64 data or a URL"""
    body = parse_body(SendMediaRequest)
    to = sending.recipient(body.to)

    def prepare() -> sending.Prepared:
        # Fetched and stored only when the send is admitted and not a retry.
        stored = media.upload(body, agent_id=agent_id, settings=_settings())
        payload = jobs.SendMedia(
            agent_id=agent_id, to=to, media=stored.ref, caption=body.caption, trace_id=current_trace_id()
        )
        return sending.Prepared(payload, stored.details)

    fingerprint_source = body.model_dump(exclude={"data"})
    fingerprint_source["data"] = sending.fingerprint({"data": body.data}) if body.data else None
    return _answer(
        MediaResponse,
        sending.send(
            agent_id,
            prepare,
            name=jobs.JobName.SEND_MEDIA,
            idempotency_key=_idempotency_key(),
            request_fingerprint=sending.fingerprint(fingerprint_source),
        ),
    )


@bp.get("/<agent_id>/jobs/<job_id>")
@operation(AGENT, {200: (JobResponse, "The job.")}, raises=(*_AGENT, errors.JobNotFound))
def job_status(agent_id: str, job_id: str):
    """State of a send job of this agent (for sends answered 202)"""
    return reply(JobResponse, sending.job_view(agent_id, job_id))


def _registry() -> WebhookRegistry:
    return WebhookRegistry(get_redis(), _settings())


_WEBHOOKS = "The agent's webhooks; a secret appears only in the answer of the request that set it."


@bp.put("/<agent_id>/webhooks")
@operation(AGENT, {200: (WebhooksResponse, _WEBHOOKS)}, body=WebhooksRequest, raises=_AGENT)
def put_webhooks(agent_id: str):
    """Replace the agent's webhooks (at most 10; an empty list removes them)"""
    body = parse_body(WebhooksRequest)
    return reply(WebhooksResponse, {"webhooks": _registry().put(agent_id, body.webhooks)})


@bp.get("/<agent_id>/webhooks")
@operation(AGENT, {200: (WebhooksResponse, _WEBHOOKS)}, raises=_AGENT)
def get_webhooks(agent_id: str):
    """The agent's webhooks (without their secrets)"""
    views = [receiver.view() for receiver in _registry().agent_receivers(agent_id)]
    return reply(WebhooksResponse, {"webhooks": views})


@bp.delete("/<agent_id>/webhooks")
@operation(AGENT, {200: (WebhooksResponse, "No webhooks are left.")}, raises=_AGENT)
def delete_webhooks(agent_id: str):
    """Remove the agent's webhooks (events not yet delivered to them are dropped)"""
    _registry().delete(agent_id)
    return reply(WebhooksResponse, {"webhooks": []})


@bp.get("/<agent_id>/messages/<message_id>")
@operation(
    AGENT,
    {200: (MessageStatusResponse, "The message's status and when it reached each.")},
    raises=(*_AGENT, errors.MessageNotFound, errors.MessageRevoked),
)
def message_status(agent_id: str, message_id: str):
    """Status of a message sent or received by the agent, by message id or send job id"""
    found = message_view(agent_id, message_id)
    if found.get("revokedAt"):
        raise errors.MessageRevoked(
            f"message {message_id!r} was deleted for everyone at {found['revokedAt']}"
        )
    return reply(MessageStatusResponse, found)


def message_view(agent_id: str, message_id: str) -> dict[str, Any]:
    """Return a message's status record; a pending send whose job failed reads as failed."""
    store = MessageEvents.of(current_app._get_current_object()).store
    found = store.get(agent_id, message_id)
    if found is None:
        raise errors.MessageNotFound(f"no message {message_id!r} for agent {agent_id!r}")
    if found["status"] == "pending" and found.get("jobId"):
        job = dispatch.fetch(found["jobId"])
        if job is not None and job.get_status(refresh=True) == "failed":
            reason = dispatch.failure(job, job.latest_result()).message
            store.failed(agent_id, found["jobId"], reason)
            found = store.get(agent_id, message_id) or found
    return found


def _send_payload(agent_id: str, body: ApiModel, payload: jobs.JobPayload):
    """Send a job the way texts go: session checks, limiter, Idempotency-Key, bounded wait."""
    return _answer(
        SendResponse,
        sending.send(
            agent_id,
            payload,
            idempotency_key=_idempotency_key(),
            request_fingerprint=sending.fingerprint({"path": request.path, **body.model_dump()}),
        ),
    )


@bp.post("/<agent_id>/location")
@operation(
    AGENT,
    {200: (SendResponse, _SENT), 202: (SendResponse, _QUEUED)},
    body=SendLocationRequest,
    headers=IdempotencyHeaders,
    raises=_SEND,
)
def send_location(agent_id: str):
    """Share a location pin (optionally named, with an address, as a reply)"""
    body = parse_body(SendLocationRequest)
    payload = jobs.SendLocation(
        agent_id=agent_id,
        to=sending.recipient(body.to),
        latitude=body.latitude,
        longitude=body.longitude,
        name=body.name,
        address=body.address,
        quoted_message_id=body.quotedMessageId,
        trace_id=current_trace_id(),
    )
    return _send_payload(agent_id, body, payload)


@bp.post("/<agent_id>/contact")
@operation(
    AGENT,
    {200: (SendResponse, _SENT), 202: (SendResponse, _QUEUED)},
    body=SendContactsRequest,
    headers=IdempotencyHeaders,
    raises=_SEND,
)
def send_contacts(agent_id: str):
    """Share one or more contacts as vCards"""
    body = parse_body(SendContactsRequest)
    contacts = [
        jobs.Contact(name=c.name, phone="".join(ch for ch in c.phone if ch.isdigit())) for c in body.contacts
    ]
    payload = jobs.SendContacts(
        agent_id=agent_id, to=sending.recipient(body.to), contacts=contacts, trace_id=current_trace_id()
    )
    return _send_payload(agent_id, body, payload)


@bp.post("/<agent_id>/poll")
@operation(
    AGENT,
    {200: (SendResponse, _SENT), 202: (SendResponse, _QUEUED)},
    body=SendPollRequest,
    headers=IdempotencyHeaders,
    raises=_SEND,
)
def send_poll(agent_id: str):
    """Send a poll (2-12 distinct options)"""
    body = parse_body(SendPollRequest)
    payload = jobs.SendPoll(
        agent_id=agent_id,
        to=sending.recipient(body.to),
        name=body.name,
        options=body.options,
        selectable_count=body.selectableCount,
        trace_id=current_trace_id(),
    )
    return _send_payload(agent_id, body, payload)


_DONE = "WhatsApp took it (messageId: the message acted on)."
_ACT = (*_SEND, errors.MessageNotFound)


@bp.post("/<agent_id>/reaction")
@operation(
    AGENT,
    {200: (SendResponse, _DONE), 202: (SendResponse, _QUEUED)},
    body=ReactionRequest,
    headers=IdempotencyHeaders,
    raises=_ACT,
)
def react(agent_id: str):
    """React to a message with an emoji (an empty emoji takes the reaction back)"""
    body = parse_body(ReactionRequest)
    payload = jobs.React(
        agent_id=agent_id, message_id=body.messageId, emoji=body.emoji, trace_id=current_trace_id()
    )
    return _send_payload(agent_id, body, payload)


@bp.post("/<agent_id>/seen")
@operation(
    AGENT,
    {200: (SendResponse, _DONE), 202: (SendResponse, _QUEUED)},
    body=SeenRequest,
    headers=IdempotencyHeaders,
    raises=_SEND,
)
def mark_seen(agent_id: str):
    """Mark a chat read, as a person opening it does"""
    body = parse_body(SeenRequest)
    payload = jobs.MarkSeen(
        agent_id=agent_id, chat_id=sending.recipient(body.chatId), trace_id=current_trace_id()
    )
    return _send_payload(agent_id, body, payload)


_MESSAGE_ID = re.compile(MESSAGE_ID_PATTERN)
EDIT_WINDOW = timedelta(minutes=15)
REVOKE_WINDOW = timedelta(days=2)


def _own_recent(agent_id: str, message_id: str, window: timedelta, what: str) -> None:
    """Refuse at once what WhatsApp would refuse: not a message id, not ours, known to be too old."""
    _idempotency_key()  # a malformed key is refused first, as on every other send
    if not _MESSAGE_ID.fullmatch(message_id):
        raise InvalidPayload("messageId must be a WhatsApp serialized id, e.g. true_62812…@c.us_3EB0…")
    if message_id.startswith("false_"):
        raise errors.MessageNotEditable(f"only the agent's own messages can be {what}")
    known = MessageEvents.of(current_app._get_current_object()).store.get(agent_id, message_id)
    if (known or {}).get("revokedAt"):
        raise errors.MessageRevoked(f"the message was deleted for everyone at {known['revokedAt']}")
    sent_at = (known or {}).get("timestamps", {}).get("sent")
    if sent_at and utcnow() - datetime.fromisoformat(sent_at.replace("Z", "+00:00")) > window:
        raise errors.MessageNotEditable(f"the message is too old to be {what}")


@bp.patch("/<agent_id>/messages/<message_id>")
@operation(
    AGENT,
    {200: (SendResponse, _DONE), 202: (SendResponse, _QUEUED)},
    body=EditMessageRequest,
    headers=IdempotencyHeaders,
    raises=(*_ACT, errors.MessageNotEditable, errors.MessageRevoked),
)
def edit_message(agent_id: str, message_id: str):
    """Edit the text of one of the agent's messages (WhatsApp allows 15 minutes)"""
    body = parse_body(EditMessageRequest)
    _own_recent(agent_id, message_id, EDIT_WINDOW, "edited")
    payload = jobs.EditMessage(
        agent_id=agent_id, message_id=message_id, text=body.message, trace_id=current_trace_id()
    )
    return _send_payload(agent_id, body, payload)


@bp.delete("/<agent_id>/messages/<message_id>")
@operation(
    AGENT,
    {200: (SendResponse, _DONE), 202: (SendResponse, _QUEUED)},
    headers=IdempotencyHeaders,
    raises=(*_ACT, errors.MessageNotEditable, errors.MessageRevoked, errors.InvalidPayload),
)
def delete_message(agent_id: str, message_id: str):
    """Delete one of the agent's messages for everyone (WhatsApp allows about two days)"""
    _own_recent(agent_id, message_id, REVOKE_WINDOW, "deleted for everyone")
    payload = jobs.DeleteMessage(agent_id=agent_id, message_id=message_id, trace_id=current_trace_id())
    answer = _send_payload(agent_id, ApiModel(), payload)
    if answer.status_code == 200:
        # WhatsApp took it: the message is gone now (its revoke event confirms it a moment later).
        MessageEvents.of(current_app._get_current_object()).store.mark(
            agent_id, message_id, "revokedAt", utcnow()
        )
    return answer

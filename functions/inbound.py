"""Inbound WhatsApp messages: which reach the AI, the AI payload, and the hand-off to workers.

A message event from a host is filtered here (in the API process, so ignored messages
cost no queue round trip), de-duplicated by WhatsApp message id, appended to its chat's
mailbox, and a drain job is queued on the inbound RQ queue for `python -m functions.worker`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import redis
from flask import Flask
from rq import Queue
from sqlalchemy.engine import Engine

from contract import jobs, keys, logs, metrics
from contract.events import InboundMessage, SessionEvent
from contract.jid import is_group, jid_user
from contract.wire import utcnow
from functions import ai, alerts, dispatch, media_links, repository
from functions.config import Settings
from functions.errors import AiDownstreamError, AiTimeout, RateLimited
from functions.mailbox import Chat, Mailboxes
from functions.message_events import MessageEvents
from functions.ratelimit import RateLimiter, get_limiter

log = logs.get_logger(__name__)

IGNORED = "messages_ignored_total"
DEFAULT_PARAMETERS = {"max_steps": 5}
DRAIN_JOB = jobs.WorkerJob.INBOUND_DRAIN
# One drain may handle many messages, each waiting up to a limiter slot plus the AI timeout.
DRAIN_JOB_TIMEOUT = 1800
DONE_TTL_SECONDS = 2 * 86400
# How long the worker waits for the host to download an inbound media file.
DOWNLOAD_WAIT_SECONDS = 90.0
_DIGIT_RUN = re.compile(r"\+?\d[\d\s\-().]{3,}\d")


class Ignore(StrEnum):
    """Why an inbound message does not reach the AI (the metric's `reason` label)."""

    STATUS = "status"
    BROADCAST = "broadcast"
    NEWSLETTER = "newsletter"
    FROM_ME = "from_me"
    GROUP_WITHOUT_MENTION = "group_without_mention"
    NOT_TEXT = "not_text"
    EMPTY = "empty_text"
    UNKNOWN_AGENT = "unknown_agent"


@dataclass(frozen=True)
class Deps:
    """What inbound handling needs, built once per process."""

    settings: Settings
    redis: redis.Redis
    rq_redis: redis.Redis
    engine: Engine
    mailboxes: Mailboxes
    limiter: RateLimiter
    events: MessageEvents

    @classmethod
    def of(cls, app: Flask) -> Deps:
        """Return the app's inbound dependencies (created on first use)."""
        deps = app.extensions.get("inbound_deps")
        if deps is None:
            settings: Settings = app.config["SETTINGS"]
            client = app.extensions["redis"]
            deps = cls(
                settings=settings,
                redis=client,
                rq_redis=app.extensions["redis_rq"],
                engine=app.extensions["db_engine"],
                mailboxes=Mailboxes(client),
                limiter=get_limiter(app),
                events=MessageEvents.of(app),
            )
            app.extensions["inbound_deps"] = deps
        return deps


def bot_number(message: InboundMessage) -> str | None:
    """Return the digits of the bot's own number, when the host told us its JID."""
    if not message.bot_id:
        return None
    return jid_user(message.bot_id).split(":", 1)[0] or None


def mentions_bot(message: InboundMessage) -> bool:
    """Tell whether a group message mentions the bot or contains its number."""
    if message.bot_lid and any(
        jid_user(m).split(":", 1)[0] == jid_user(message.bot_lid).split(":", 1)[0]
        for m in message.mentioned_ids
        if m.endswith("@lid")
    ):
        return True
    number = bot_number(message)
    if number is None:
        return False
    if any(jid_user(m).split(":", 1)[0] == number for m in message.mentioned_ids):
        return True
    if number in message.body:
        return True
    return any(re.sub(r"\D", "", run) == number for run in _DIGIT_RUN.findall(message.body))


# What reaches the AI when inbound media is on (stickers, reactions and system messages never do).
MEDIA_FOR_AI = frozenset({"image", "audio", "ptt", "video", "document", "location"})


def ignore_reason(message: InboundMessage, media_ok: bool = False) -> Ignore | None:
    """Return why a message must not reach the AI, or None when it must (the seed's filters)."""
    chat = message.chat_id
    if message.is_status or chat == "status@broadcast":
        return Ignore.STATUS
    if message.is_newsletter or chat.endswith("@newsletter"):
        return Ignore.NEWSLETTER
    if message.is_broadcast or chat.endswith("@broadcast"):
        return Ignore.BROADCAST
    if message.from_me:
        return Ignore.FROM_ME
    if (message.is_group or is_group(chat)) and not mentions_bot(message):
        return Ignore.GROUP_WITHOUT_MENTION
    if message.type != "chat":
        return None if media_ok and message.type in MEDIA_FOR_AI else Ignore.NOT_TEXT
    if not message.body.strip():
        return Ignore.EMPTY
    return None


def media_allowed(deps: Deps, agent_id: str) -> bool:
    """Tell whether the agent's inbound media goes to its AI (its own choice, else INBOUND_MEDIA)."""
    record = repository.get_agent(deps.engine, agent_id)
    choice = record.get("inbound_media") if record is not None else None
    return deps.settings.inbound_media if choice is None else bool(choice)


def reason_for(deps: Deps, agent_id: str, message: InboundMessage) -> Ignore | None:
    """Return why the AI will not see a message, asking the agent's media choice only for media."""
    reason = ignore_reason(message)
    if reason is Ignore.NOT_TEXT and message.type in MEDIA_FOR_AI and media_allowed(deps, agent_id):
        return None
    return reason


def ai_payload(
    message: InboundMessage, agent_id: str, trace_id: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Build the AI request: the text, the sender as session, and who/where it came from.

    `extra` adds metadata (`media`, `location`) for the media messages an agent opted into.
    """
    payload = {
        "input": message.body,
        "parameters": dict(DEFAULT_PARAMETERS),
        "session_id": message.sender,
        "metadata": {
            "source": "whatsapp",
            "agentId": agent_id,
            "messageId": message.id,
            "from": message.sender,
            "whatsappName": message.notify_name,
            "chatId": message.chat_id,
            "chatName": message.chat_name,
            "isGroup": message.is_group or is_group(message.chat_id),
            "timestamp": message.timestamp,
            "traceId": trace_id,
        },
    }
    payload["metadata"].update(extra or {})
    return payload


def media_metadata(deps: Deps, entry: Entry) -> dict[str, Any]:
    """Return what the AI gets besides the caption: the location, or the media with its link.

    The host downloads the media through WhatsApp Web (at most MEDIA_MAX_BYTES) and stores
    it like outgoing media; past the cap, or when the download fails, only what WhatsApp said
    about the file is passed on, flagged.
    """
    message = entry.message
    if message.type == "location":
        return {"location": message.location.to_wire() if message.location else None}
    if message.type not in MEDIA_FOR_AI:
        return {}
    described = {"type": message.type, "mimetype": message.mimetype, "filename": message.filename}
    payload = jobs.DownloadMedia(
        agent_id=entry.agent_id,
        trace_id=entry.trace_id,
        message_id=message.id,
        max_bytes=deps.settings.media_max_bytes,
    )
    name = jobs.JobName.DOWNLOAD_MEDIA
    job = jobs.enqueue(
        deps.rq_redis, name, payload, job_id=jobs.new_job_id(name), timeout=150, result_ttl=600
    )
    outcome = dispatch.wait(job, DOWNLOAD_WAIT_SECONDS)
    if outcome.status != "finished":
        reason = outcome.reason or "the download did not finish in time"
        log.warning("inbound media not downloaded", messageId=message.id, reason=reason)
        return {"media": {**described, "size": message.size, "unavailable": True, "error": reason}}
    result = jobs.DownloadResult.from_wire(outcome.value)
    media: dict[str, Any] = {
        **described,
        "mimetype": result.mime_type,
        "filename": result.filename or message.filename,
        "size": result.size,
        "sha256": result.sha256,
        "url": media_links.link(deps.settings, result.media) if result.media else None,
        "tooLarge": result.too_large,
    }
    return {"media": media}


def entry_for(message: InboundMessage, agent_id: str, trace_id: str) -> str:
    """Serialise one mailbox entry."""
    return json.dumps(
        {"agentId": agent_id, "traceId": trace_id, "queuedAt": time.time(), "message": message.to_wire()}
    )


def count_ignored(client: redis.Redis, reason: Ignore) -> None:
    """Count an ignored message by reason."""
    metrics.incr(client, IGNORED, {"reason": reason.value})


def accept(deps: Deps, event: SessionEvent, reason: Ignore | None) -> bool:
    """Hand a message event to the workers; return False for an ignored or repeated message.

    `reason` is `reason_for` the message (the caller asked already, for the webhooks).
    """
    message = event.message
    if message is None:
        log.warning("message event without a message", eventId=event.id)
        return False
    trace_id = event.trace_id or uuid.uuid4().hex
    logs.bind(trace_id=trace_id, agent_id=event.agent_id)
    chat = Chat(event.agent_id, message.chat_id)
    entry = None if reason else entry_for(message, event.agent_id, trace_id)
    if not deps.mailboxes.accept(chat, message.id, entry):
        log.info("inbound message already accepted", messageId=message.id)
        return False
    metrics.incr(deps.redis, metrics.MESSAGES_RECEIVED)
    if reason is not None:
        count_ignored(deps.redis, reason)
        log.info("inbound message ignored", messageId=message.id, reason=reason.value)
        return False
    try:
        enqueue_drain(deps.rq_redis, chat, trace_id=trace_id, message_id=message.id)
    except redis.RedisError as exc:
        # The message is already in its mailbox: a worker's sweeper drains it a little later.
        log.warning("could not queue the inbound drain", messageId=message.id, error=str(exc))
    delay_ms = round((time.time() - event.at.timestamp()) * 1000, 1)
    log.info("inbound message queued", messageId=message.id, chatId=message.chat_id, sinceEventMs=delay_ms)
    return True


def enqueue_drain(rq_redis: redis.Redis, chat: Chat, *, trace_id: str | None, message_id: str | None) -> None:
    """Queue a job that handles a chat's pending messages."""
    queue = Queue(jobs.INBOUND_QUEUE, connection=rq_redis, serializer=jobs.SERIALIZER)
    queue.enqueue_call(
        DRAIN_JOB,
        args=(
            {"agentId": chat.agent_id, "chatId": chat.chat_id, "messageId": message_id, "traceId": trace_id},
        ),
        job_id=jobs.new_job_id(DRAIN_JOB, "inbound"),
        timeout=DRAIN_JOB_TIMEOUT,
        result_ttl=600,
        failure_ttl=7 * 86400,
        description=f"inbound {chat.agent_id} {chat.chat_id}",
        meta={"agentId": chat.agent_id, "traceId": trace_id},
    )


def done_key(agent_id: str, message_id: str) -> str:
    """Return the key marking a message as answered (or given up on): its outcome."""
    return keys.inbound_done(agent_id, message_id)


@dataclass(frozen=True)
class Entry:
    """One mailbox entry, parsed."""

    raw: str
    agent_id: str
    trace_id: str
    message: InboundMessage
    queued_at: float = 0.0

    @classmethod
    def parse(cls, raw: str) -> Entry:
        """Parse a mailbox entry."""
        data = json.loads(raw)
        message = InboundMessage.from_wire(data["message"])
        return cls(raw, data["agentId"], data["traceId"], message, float(data.get("queuedAt") or 0))

    @property
    def reply_chat(self) -> str:
        """Return where the answer goes: the chat the message came from."""
        return self.message.chat_id


def handle(deps: Deps, entry: Entry) -> str:
    """Answer one message: typing on, AI through the limiter, reply or alert, typing off."""
    message, agent_id = entry.message, entry.agent_id
    logs.bind(trace_id=entry.trace_id, agent_id=agent_id)
    done = done_key(agent_id, message.id)
    if deps.redis.exists(done):
        return "already_done"
    record = repository.get_agent(deps.engine, agent_id)
    if record is None:
        if _commit(deps, done, "unknown_agent", []):
            count_ignored(deps.redis, Ignore.UNKNOWN_AGENT)
            log.warning("inbound message for an agent without a record", messageId=message.id)
        return "unknown_agent"
    waited_ms = round((time.time() - entry.queued_at) * 1000, 1)
    if deps.settings.mark_seen_on_reply:
        # As a person would: open the chat (read), then start typing. Same queue, so in order.
        _enqueue(deps, jobs.MarkSeen(agent_id=agent_id, trace_id=entry.trace_id, chat_id=entry.reply_chat))
    _enqueue(deps, _typing(entry, True))
    try:
        reply = _ask_ai(deps, entry, record)
        outgoing: list[jobs.JobPayload] = []
        if reply:
            outgoing.append(
                jobs.SendText(
                    agent_id=agent_id,
                    trace_id=entry.trace_id,
                    to=entry.reply_chat,
                    text=reply,
                    quoted_message_id=message.id if is_group(message.chat_id) else None,
                    not_before=_slot(deps, agent_id),
                )
            )
    except (AiTimeout, AiDownstreamError, RateLimited) as exc:
        return fail(deps, entry, exc.code, exc.message)
    except Exception:
        # Retried by the drain; "typing…" must not hang on meanwhile.
        _enqueue(deps, _typing(entry, False))
        raise
    outcome = "replied" if reply else "no_reply"
    if _commit(deps, done, outcome, [*outgoing, _typing(entry, False)]):
        _tell(deps.events.ai_reply, agent_id, message, reply)
    log.info("inbound message answered", messageId=message.id, outcome=outcome, queuedMs=waited_ms)
    return outcome


def fail(deps: Deps, entry: Entry, code: str, reason: str) -> str:
    """Give up on a message: count the error, clear typing, alert the developer (throttled)."""
    message = entry.message
    metrics.incr(deps.redis, metrics.ERRORS, {"code": code})
    log.warning("inbound message not answered", messageId=message.id, code=code, reason=reason)
    outgoing: list[jobs.JobPayload] = [_typing(entry, False)]
    target = alerts.developer_jid(deps.settings.developer_jid)
    if target and alerts.claim_window(deps.redis, entry.agent_id, deps.settings.alert_throttle_seconds):
        text = alerts.alert_text(
            agent_id=entry.agent_id,
            sender=message.sender,
            reason=f"{code}: {reason}",
            trace_id=entry.trace_id,
        )
        try:
            slot = _slot(deps, entry.agent_id)
        except RateLimited:
            log.warning("developer alert dropped: the agent's send queue is full")
        else:
            outgoing.append(
                jobs.SendText(
                    agent_id=entry.agent_id, trace_id=entry.trace_id, to=target, text=text, not_before=slot
                )
            )
    if _commit(deps, done_key(entry.agent_id, message.id), f"failed:{code}", outgoing):
        _tell(deps.events.ai_failed, entry.agent_id, message, code, reason)
    return "failed"


def _tell(hook: Any, *args: Any) -> None:
    """Queue an AI-round webhook; the answer is committed already, so a failure is only logged."""
    try:
        hook(*args)
    except redis.RedisError as exc:
        log.error("could not queue an AI webhook event", error=str(exc), event=hook.__name__)


def _ask_ai(deps: Deps, entry: Entry, record: Any) -> str | None:
    extra = media_metadata(deps, entry)
    wait = deps.limiter.acquire(entry.agent_id)
    if wait > 0:
        time.sleep(wait)  # the limiter's slot for this agent: waiting is the point
    payload = ai_payload(entry.message, entry.agent_id, entry.trace_id, extra)
    return ai.ask(record, entry.agent_id, payload, deps.settings, deps.redis).reply


def _slot(deps: Deps, agent_id: str) -> datetime | None:
    wait = deps.limiter.acquire(agent_id)
    return utcnow() + timedelta(seconds=wait) if wait > 0 else None


def _typing(entry: Entry, on: bool) -> jobs.SetTyping:
    return jobs.SetTyping(
        agent_id=entry.agent_id, trace_id=entry.trace_id, chat_id=entry.reply_chat, typing=on
    )


def _job_options(payload: jobs.JobPayload) -> tuple[jobs.JobName, dict[str, Any]]:
    if isinstance(payload, jobs.SetTyping):
        # A "typing…" older than a few minutes means nothing any more: let it expire unsent.
        return jobs.JobName.TYPING, {"ttl": 300, "result_ttl": 600}
    if isinstance(payload, jobs.MarkSeen):
        return jobs.JobName.MARK_SEEN, {"ttl": 300, "result_ttl": 600}
    return jobs.JobName.SEND_TEXT, {"result_ttl": 86400}


def _enqueue(deps: Deps, payload: jobs.JobPayload) -> None:
    name, options = _job_options(payload)
    jobs.enqueue(deps.rq_redis, name, payload, job_id=jobs.new_job_id(name), timeout=120, **options)


def _commit(deps: Deps, done: str, outcome: str, outgoing: list[jobs.JobPayload]) -> bool:
    """Queue the outgoing jobs and mark the message done, atomically and at most once."""
    with deps.rq_redis.pipeline() as pipe:
        try:
            pipe.watch(done)
            if pipe.exists(done):
                return False
            pipe.multi()
            for payload in outgoing:
                name, options = _job_options(payload)
                queue = jobs.queue_for(deps.rq_redis, name, payload, None)
                queue.enqueue_call(
                    str(name),
                    args=(payload.to_wire(),),
                    job_id=jobs.new_job_id(name),
                    timeout=120,
                    failure_ttl=7 * 86400,
                    meta={"agentId": payload.agent_id, "traceId": payload.trace_id},
                    pipeline=pipe,
                    **options,
                )
            pipe.set(done, outcome, ex=DONE_TTL_SECONDS)
            pipe.execute()
        except redis.WatchError:
            return False
    return True

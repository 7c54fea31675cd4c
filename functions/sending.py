"""Sends as host jobs: session checks, rate-limit slot, Idempotency-Key, and waiting for delivery.

A send becomes one RQ job on the agent's queue (`contract.jobs`), carrying the limiter's
slot as `not_before`. The request waits up to SEND_WAIT_SECONDS for the host's result and
otherwise answers 202 with the job id, which `GET /agents/{id}/jobs/{jobId}` reports on.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis
from flask import current_app
from rq.job import Job

from contract import jobs, keys, logs
from contract.failures import FailureCode
from contract.jid import InvalidJid, normalize_jid
from contract.wire import iso, utcnow
from functions import admission, dispatch
from functions.config import Settings
from functions.errors import (
    BadGateway,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidPayload,
    JobNotFound,
    MessageNotEditable,
    MessageNotFound,
)
from functions.message_events import MessageEvents
from functions.ratelimit import get_limiter
from functions.redis_client import get_redis

log = logs.get_logger(__name__)

_REPLAY_APPEAR_SECONDS = 5.0


_IN_PROGRESS = "a request with this Idempotency-Key is still being prepared; retry shortly"


@dataclass(frozen=True)
class Prepared:
    """A send ready to enqueue: its payload (without a slot yet) and extra response fields."""

    payload: jobs.JobPayload
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendOutcome:
    """The response body and status of a send, and whether it replays an earlier request."""

    body: dict[str, Any]
    status: int
    replayed: bool = False


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def recipient(value: str) -> str:
    """Normalise a phone number or JID, or raise INVALID_PAYLOAD."""
    try:
        return normalize_jid(value)
    except InvalidJid as exc:
        raise InvalidPayload(str(exc)) from exc


def fingerprint(body: dict[str, Any]) -> str:
    """Return a stable hash of a request body, to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _idem_key(agent_id: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return keys.idempotency(agent_id, digest)


def send(
    agent_id: str,
    job: jobs.JobPayload | Callable[[], Prepared],
    *,
    name: jobs.JobName | None = None,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
) -> SendOutcome:
    """Enqueue one send the session admits (`functions.admission`); wait (bounded) for its result.

    `job` is the job's payload, or, when preparing it costs something (fetching and storing
    media), a function returning it: it runs only once the session admits the send and the
    Idempotency-Key is not a retry; `name` then says which job it will be (the job id, taken
    before, carries it). The limiter's slot is set on the payload here.
    """
    if callable(job):
        if name is None:
            raise TypeError("a deferred send needs the job name")
        prepare = job
    else:
        name = jobs.job_name(job)
        prepared_now = Prepared(job)
        prepare = lambda: prepared_now  # noqa: E731
    record_key = _idem_key(agent_id, idempotency_key) if idempotency_key else None
    # A retry answers the first result even if the session has changed state since.
    if record_key and (replay := _replay(agent_id, record_key, request_fingerprint)):
        return replay
    admission.admit(agent_id)
    job_id = jobs.new_job_id(name)
    if record_key:
        record = {"jobId": job_id, "fingerprint": request_fingerprint, "extra": {}}
        ttl = _settings().idempotency_ttl_seconds
        if not get_redis().set(record_key, json.dumps(record), nx=True, ex=ttl):
            replay = _replay(agent_id, record_key, request_fingerprint)
            if replay is None:
                raise IdempotencyInProgress(_IN_PROGRESS)
            return replay
    try:
        prepared = prepare()
        wait = get_limiter(current_app).acquire(agent_id)
        if record_key:
            record = {"jobId": job_id, "fingerprint": request_fingerprint, "extra": prepared.extra}
            get_redis().set(record_key, json.dumps(record), xx=True, keepttl=True)
        not_before = utcnow() + timedelta(seconds=wait) if wait > 0 else None
        payload = prepared.payload.model_copy(update={"not_before": not_before})
        job = dispatch.enqueue(name, payload, job_id=job_id, timeout=int(wait) + 120)
        _record_pending(agent_id, job_id, payload)
    except BaseException:
        # Nothing was enqueued under this key: a retry must be free to try again.
        if record_key:
            get_redis().delete(record_key)
        raise
    patience = _settings().send_wait_seconds
    return SendOutcome(*_respond(job, prepared.extra, patience if wait < patience else 0))


# What WhatsApp calls the message each send makes (its status record's `type`).
_KIND_OF: dict[type[jobs.JobPayload], str] = {
    jobs.SendText: "chat",
    jobs.SendLocation: "location",
    jobs.SendContacts: "vcard",
    jobs.SendPoll: "poll_creation",
}


def _record_pending(agent_id: str, job_id: str, payload: jobs.JobPayload) -> None:
    """Start the message's status record (`GET /agents/{id}/messages/{jobId}` answers pending)."""
    if isinstance(payload, jobs.SendMedia):
        kind = jobs.media_kind(payload.media.mime_type)
    else:
        kind = _KIND_OF.get(type(payload))
    if kind is None:
        return
    to = getattr(payload, "to", "")
    try:
        MessageEvents.of(current_app._get_current_object()).store.pending(
            agent_id, job_id, chat_id=to, kind=kind
        )
    except redis.RedisError as exc:
        # The job is queued already; its status record starts when the host reports the send.
        log.warning("could not record a pending send", jobId=job_id, error=str(exc))


def _replay(agent_id: str, record_key: str, request_fingerprint: str) -> SendOutcome | None:
    """Answer a retry from the first request's job; None when the key is unused (or expired)."""
    raw = get_redis().get(record_key)
    if raw is None:
        return None
    record = json.loads(raw)
    if record.get("fingerprint") != request_fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
    deadline = time.monotonic() + _REPLAY_APPEAR_SECONDS
    job = dispatch.fetch(record["jobId"])
    # The first request may still be preparing its job (e.g. downloading media).
    while job is None and time.monotonic() < deadline:
        time.sleep(0.05)
        job = dispatch.fetch(record["jobId"])
    if job is None or job.meta.get("agentId") != agent_id:
        raise IdempotencyInProgress(_IN_PROGRESS)
    record = json.loads(get_redis().get(record_key) or raw)
    body, status = _respond(job, record.get("extra") or {}, _settings().send_wait_seconds)
    return SendOutcome(body, status, replayed=True)


def _respond(job: Job, extra: dict[str, Any], timeout: float) -> tuple[dict[str, Any], int]:
    outcome = dispatch.wait(job, timeout)
    if outcome.status == "failed":
        if outcome.code is FailureCode.MESSAGE_NOT_FOUND:
            raise MessageNotFound(f"WhatsApp does not know the message: {outcome.reason}")
        if outcome.code is FailureCode.MESSAGE_NOT_EDITABLE:
            raise MessageNotEditable(f"WhatsApp refused: {outcome.reason}")
        raise BadGateway(f"WhatsApp did not take the message: {outcome.reason}")
    if outcome.status == "finished":
        value = outcome.value if isinstance(outcome.value, dict) else {}
        body = {"delivered": True, "messageId": value.get("messageId"), "jobId": job.id, **extra}
        return body, 200
    body = {
        "delivered": False,
        "jobId": job.id,
        "status": job.get_status(refresh=True),
        "notBefore": _payload(job).get("notBefore"),
        **extra,
    }
    return body, 202


def _payload(job: Job) -> dict[str, Any]:
    args = job.args or ()
    return args[0] if args and isinstance(args[0], dict) else {}


def job_view(agent_id: str, job_id: str) -> dict[str, Any]:
    """Report a job of this agent: status, delivery, message id or failure reason."""
    job = dispatch.fetch(job_id)
    if job is None or job.meta.get("agentId") != agent_id:
        raise JobNotFound(f"no job {job_id!r} for agent {agent_id!r}")
    status = job.get_status(refresh=True)
    result = job.latest_result()
    value = result.return_value if result is not None and result.type == result.Type.SUCCESSFUL else None
    error = None
    if result is not None and result.type != result.Type.SUCCESSFUL:
        error = dispatch.failure(job, result).message
    payload = _payload(job)
    return {
        "jobId": job.id,
        "type": (job.func_name or "").rsplit(".", 1)[-1],
        "status": status,
        "delivered": status == "finished",
        "messageId": value.get("messageId") if isinstance(value, dict) else None,
        "error": error,
        "to": payload.get("to"),
        "notBefore": payload.get("notBefore"),
        "enqueuedAt": iso(job.enqueued_at),
        "endedAt": iso(job.ended_at),
    }

"""RQ entry points at the dotted names of `contract.jobs.JobName`: validate, then delegate.

They run inside the session host process, on the lane thread of the agent they concern,
so they reach the live browser through the host this module is bound to at start-up.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Any

from rq import get_current_job

from contract import jobs
from contract import metrics as shared_metrics
from contract.events import EventType, MessageUpdate
from contract.failures import FailureCode
from contract.jid import normalize_jid
from contract.live import SessionState
from contract.wire import utcnow
from session_host import media_store
from session_host.failures import CodedError
from session_host.host import SessionHost
from session_host.lanes import AgentLane

_host: SessionHost | None = None
_LIVE = {SessionState.AWAITING_QR, SessionState.CONNECTED}


class JobRefused(CodedError):
    """Raised when a job cannot be performed on this host (the message says why)."""


def bind_host(host: SessionHost | None) -> None:
    """Make `host` the one jobs act on (set once at start-up)."""
    global _host
    _host = host


def _lane(agent_id: str) -> AgentLane:
    if _host is None:
        raise JobRefused("jobs run only inside `python -m session_host`", FailureCode.SESSION_NOT_RUNNING)
    try:
        return _host.lane(agent_id)
    except KeyError:
        raise JobRefused(
            f"agent {agent_id!r} has no session on host {_host.host_id}", FailureCode.SESSION_NOT_RUNNING
        ) from None


def _wait_for_slot(payload: jobs.JobPayload) -> None:
    """Honour the rate limiter's slot: never act before `not_before`."""
    if payload.not_before is not None:
        delay = (payload.not_before - utcnow()).total_seconds()
        if delay > 0 and _host is not None:
            _host.stopping.wait(delay)


def ensure(data: dict[str, Any]) -> dict[str, Any]:
    """Start the agent's session unless it runs."""
    payload = jobs.EnsureSession.from_wire(data)
    return _lane(payload.agent_id).ensure()


def destroy(data: dict[str, Any]) -> dict[str, Any]:
    """Stop the agent's browser, optionally deleting its saved login."""
    payload = jobs.DestroySession.from_wire(data)
    return _lane(payload.agent_id).destroy(payload.delete_auth)


def _connected_lane(payload: jobs.JobPayload) -> AgentLane:
    """Wait for the job's rate-limit slot, then return its agent's lane once connected."""
    _wait_for_slot(payload)
    lane = _lane(payload.agent_id)
    lane.require({SessionState.CONNECTED}, lane.ctx.settings.send_ready_wait_seconds)
    return lane


def _sent(agent_id: str, reply: Any, *, chat_id: str, kind: str) -> dict[str, Any]:
    if not isinstance(reply, dict) or not reply.get("id"):
        raise JobRefused(f"the page did not confirm the send: {reply!r}", FailureCode.SEND_FAILED)
    assert _host is not None
    shared_metrics.incr(_host.redis, shared_metrics.MESSAGES_SENT)
    job = get_current_job()
    stamp_now = reply.get("timestamp")
    update = MessageUpdate(
        message_id=str(reply["id"]),
        chat_id=chat_id,
        from_me=True,
        job_id=job.id if job is not None else None,
        kind=kind,
        timestamp=int(stamp_now) if isinstance(stamp_now, int | float) else int(time.time()),
    )
    # Through the durable outbox: the message's status and `message.sent` webhooks follow.
    _host.push_event(EventType.SENT, agent_id, update=update)
    stamp = reply.get("timestamp")
    sent_at = (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)) if isinstance(stamp, int | float) else None
    )
    return jobs.SendResult.model_validate({"message_id": str(reply["id"]), "timestamp": sent_at}).to_wire()


def send_text(data: dict[str, Any]) -> dict[str, Any]:
    """Send a text message (optionally quoting another one)."""
    payload = jobs.SendText.from_wire(data)
    lane = _connected_lane(payload)
    reply = lane.session.command(
        "sendText", normalize_jid(payload.to), payload.text, payload.quoted_message_id
    )
    return _sent(payload.agent_id, reply, chat_id=normalize_jid(payload.to), kind="chat")


def _media_bytes(ref: jobs.MediaRef) -> bytes:
    if ref.kind == "file":
        if not ref.path or not Path(ref.path).is_file():
            raise JobRefused(f"media file {ref.path!r} is missing", FailureCode.MEDIA_UNREADABLE)
        return Path(ref.path).read_bytes()
    if not ref.bucket or not ref.key:
        raise JobRefused("an S3 media reference needs a bucket and a key", FailureCode.MEDIA_UNREADABLE)
    import boto3

    return boto3.client("s3").get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read()


def send_media(data: dict[str, Any]) -> dict[str, Any]:
    """Send a media file the functions stored, with its caption."""
    payload = jobs.SendMedia.from_wire(data)
    lane = _connected_lane(payload)
    ref = payload.media
    data_url = f"data:{ref.mime_type};base64,{base64.b64encode(_media_bytes(ref)).decode()}"
    options = {"filename": ref.filename, "mimetype": ref.mime_type, "caption": payload.caption}
    reply = lane.session.command("sendMedia", normalize_jid(payload.to), data_url, options, timeout=120)
    return _sent(
        payload.agent_id, reply, chat_id=normalize_jid(payload.to), kind=jobs.media_kind(ref.mime_type)
    )


def send_location(data: dict[str, Any]) -> dict[str, Any]:
    """Send a location pin."""
    payload = jobs.SendLocation.from_wire(data)
    lane = _connected_lane(payload)
    to = normalize_jid(payload.to)
    location = {
        "latitude": payload.latitude,
        "longitude": payload.longitude,
        "name": payload.name,
        "address": payload.address,
    }
    reply = lane.session.command("sendLocation", to, location, payload.quoted_message_id)
    return _sent(payload.agent_id, reply, chat_id=to, kind="location")


def send_contacts(data: dict[str, Any]) -> dict[str, Any]:
    """Send contact cards."""
    payload = jobs.SendContacts.from_wire(data)
    lane = _connected_lane(payload)
    to = normalize_jid(payload.to)
    contacts = [{"name": c.name, "phone": c.phone} for c in payload.contacts]
    reply = lane.session.command("sendContacts", to, contacts)
    return _sent(payload.agent_id, reply, chat_id=to, kind="vcard" if len(contacts) == 1 else "multi_vcard")


def send_poll(data: dict[str, Any]) -> dict[str, Any]:
    """Send a poll."""
    payload = jobs.SendPoll.from_wire(data)
    lane = _connected_lane(payload)
    to = normalize_jid(payload.to)
    reply = lane.session.command("sendPoll", to, payload.name, payload.options, payload.selectable_count)
    return _sent(payload.agent_id, reply, chat_id=to, kind="poll_creation")


def _acted(reply: Any, message_id: str | None) -> dict[str, Any]:
    if not isinstance(reply, dict) or not reply.get("done"):
        raise JobRefused(f"the page did not confirm the action: {reply!r}", FailureCode.SEND_FAILED)
    return jobs.ActionResult(message_id=message_id).to_wire()


def react(data: dict[str, Any]) -> dict[str, Any]:
    """React to a message ("" removes our reaction)."""
    payload = jobs.React.from_wire(data)
    lane = _connected_lane(payload)
    return _acted(lane.session.command("react", payload.message_id, payload.emoji), payload.message_id)


def mark_seen(data: dict[str, Any]) -> dict[str, Any]:
    """Mark a chat read."""
    payload = jobs.MarkSeen.from_wire(data)
    lane = _connected_lane(payload)
    return _acted(lane.session.command("markSeen", normalize_jid(payload.chat_id)), None)


def edit_message(data: dict[str, Any]) -> dict[str, Any]:
    """Edit one of our own recent text messages."""
    payload = jobs.EditMessage.from_wire(data)
    lane = _connected_lane(payload)
    return _acted(lane.session.command("editMessage", payload.message_id, payload.text), payload.message_id)


def delete_message(data: dict[str, Any]) -> dict[str, Any]:
    """Delete one of our own messages for everyone."""
    payload = jobs.DeleteMessage.from_wire(data)
    lane = _connected_lane(payload)
    return _acted(lane.session.command("deleteMessage", payload.message_id), payload.message_id)


def download_media(data: dict[str, Any]) -> dict[str, Any]:
    """Fetch a received message's media through the page and store it next to outgoing media."""
    payload = jobs.DownloadMedia.from_wire(data)
    lane = _connected_lane(payload)
    info = lane.session.command("downloadMedia", payload.message_id, payload.max_bytes, timeout=120)
    if not isinstance(info, dict):
        raise JobRefused(f"the page did not return the media: {info!r}", FailureCode.SEND_FAILED)
    mime_type = str(info.get("mimetype") or "application/octet-stream")
    filename = info.get("filename") or None
    if info.get("tooLarge") or not info.get("data"):
        size = int(info.get("size") or 0)
        return jobs.DownloadResult(
            mime_type=mime_type, filename=filename, size=size, too_large=True
        ).to_wire()
    content = base64.b64decode(str(info["data"]))
    ref = media_store.store_inbound(lane.ctx.settings, payload.agent_id, content, mime_type, filename)
    return jobs.DownloadResult(
        media=ref,
        mime_type=mime_type,
        filename=filename,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    ).to_wire()


def typing(data: dict[str, Any]) -> bool:
    """Show or clear "typing…" in a chat."""
    payload = jobs.SetTyping.from_wire(data)
    lane = _connected_lane(payload)
    return bool(lane.session.command("setTyping", normalize_jid(payload.chat_id), payload.typing))


def logout(data: dict[str, Any]) -> bool:
    """Log the linked device out of WhatsApp."""
    payload = jobs.Logout.from_wire(data)
    lane = _lane(payload.agent_id)
    lane.require(_LIVE, lane.ctx.settings.send_ready_wait_seconds)
    return bool(lane.session.command("logout"))


def pairing_code(data: dict[str, Any]) -> dict[str, Any]:
    """Ask WhatsApp for an 8-character code to link by phone number."""
    payload = jobs.RequestPairingCode.from_wire(data)
    lane = _lane(payload.agent_id)
    lane.require(_LIVE, lane.ctx.settings.load_timeout_seconds)
    if lane.state is SessionState.CONNECTED:
        raise JobRefused(
            "the session is already connected; no pairing code is needed", FailureCode.ALREADY_CONNECTED
        )
    code = lane.session.command("requestPairingCode", "".join(c for c in payload.phone_number if c.isdigit()))
    return jobs.PairingCodeResult(code=str(code)).to_wire()

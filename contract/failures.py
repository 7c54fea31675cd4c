"""Why a host job failed, as a code plus a message the functions read from the job's meta.

The host stores `{"code", "message"}` under `job.meta["failure"]` before RQ records the
failure, so the stateless side never parses traceback text (and never imports the host).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

META_KEY = "failure"


class FailureCode(StrEnum):
    """Reasons a host job can fail."""

    SESSION_NOT_READY = "SESSION_NOT_READY"  # no connected session came in time
    SESSION_NOT_RUNNING = "SESSION_NOT_RUNNING"  # this host runs no session for the agent
    ALREADY_CONNECTED = "ALREADY_CONNECTED"  # a pairing code for a linked session
    SEND_FAILED = "SEND_FAILED"  # the page refused or did not confirm the command
    MEDIA_UNREADABLE = "MEDIA_UNREADABLE"  # the stored media file or object is missing
    INVALID_JOB = "INVALID_JOB"  # payload or chat id the host cannot accept
    HOST_FULL = "HOST_FULL"  # the host already runs MAX_SESSIONS sessions
    LOAD_FAILED = "LOAD_FAILED"  # WhatsApp Web could not be loaded
    TIMEOUT = "TIMEOUT"  # the job ran past its timeout
    HOST_LOST = "HOST_LOST"  # the host running the job died mid-way (taken over elsewhere)
    MESSAGE_NOT_FOUND = "MESSAGE_NOT_FOUND"  # WhatsApp Web does not know the message acted on
    MESSAGE_NOT_EDITABLE = "MESSAGE_NOT_EDITABLE"  # not ours, not text, or too old to edit or delete
    HOST_ERROR = "HOST_ERROR"  # anything else (the message says what)
    UNKNOWN = "UNKNOWN"  # the job failed without a typed reason (e.g. killed)


@dataclass(frozen=True)
class JobFailure:
    """A typed failure: a code and a human message."""

    code: FailureCode
    message: str

    def to_meta(self) -> dict[str, str]:
        """Return the form stored in `job.meta[META_KEY]`."""
        return {"code": self.code.value, "message": self.message}

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> JobFailure | None:
        """Read a failure stored by the host, or None when there is none (or it is unreadable)."""
        raw = (meta or {}).get(META_KEY)
        if not isinstance(raw, dict):
            return None
        try:
            return cls(FailureCode(raw.get("code")), str(raw.get("message") or ""))
        except ValueError:
            return None

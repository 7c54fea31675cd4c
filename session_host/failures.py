"""Turn an exception raised by a host job into a typed failure (contract.failures)."""

from __future__ import annotations

import re

from pydantic import ValidationError
from rq.timeouts import JobTimeoutException

from contract.failures import FailureCode, JobFailure
from contract.jid import InvalidJid
from session_host.browser.base import BridgeError, LoadFailed, SessionError


class CodedError(RuntimeError):
    """A host error that knows its failure code."""

    code = FailureCode.HOST_ERROR

    def __init__(self, message: str, code: FailureCode | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


_BY_TYPE: tuple[tuple[type[BaseException], FailureCode], ...] = (
    (JobTimeoutException, FailureCode.TIMEOUT),
    (ValidationError, FailureCode.INVALID_JOB),
    (InvalidJid, FailureCode.INVALID_JOB),
    (LoadFailed, FailureCode.LOAD_FAILED),
    (BridgeError, FailureCode.SEND_FAILED),
    (SessionError, FailureCode.SESSION_NOT_RUNNING),
    (ValueError, FailureCode.INVALID_JOB),
)


# The bridge names these in its error messages ("CODE: why"), see bridge.js `coded`.
_BRIDGE_CODES = re.compile(r"\b(MESSAGE_NOT_FOUND|MESSAGE_NOT_EDITABLE):")


def classify(exc: BaseException) -> JobFailure:
    """Return the failure code and message of an exception (the message as RQ would show it)."""
    message = f"{type(exc).__name__}: {exc}"
    code = getattr(exc, "code", None)
    if not isinstance(code, FailureCode):
        named = _BRIDGE_CODES.search(str(exc)) if isinstance(exc, BridgeError) else None
        if named is not None:
            code = FailureCode(named.group(1))
        else:
            code = next((c for kind, c in _BY_TYPE if isinstance(exc, kind)), FailureCode.HOST_ERROR)
    return JobFailure(code, message)

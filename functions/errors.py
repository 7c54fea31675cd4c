"""The error catalogue: every code the API answers, its HTTP status and meaning.

Each code is one `ApiError` subclass; its docstring is the meaning shown in the README's error
table and the OpenAPI document. One handler in `functions.app` renders them all as
`{"error": {"code", "message", "traceId"}}`.
"""

from __future__ import annotations

from dataclasses import dataclass


class ApiError(Exception):
    """An unexpected error; the details are in the logs under the traceId."""

    status = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class InvalidPayload(ApiError):
    """The body, a header, the path or a query parameter is malformed; the message names the field."""

    status, code = 400, "INVALID_PAYLOAD"


class Unauthorized(ApiError):
    """The agent's API key (or the admin token) is missing or wrong."""

    status, code = 401, "UNAUTHORIZED"


class Forbidden(ApiError):
    """An operator page asked from another machine while `ADMIN_TOKEN` is unset."""

    status, code = 403, "FORBIDDEN"


class NotFound(ApiError):
    """No such path."""

    status, code = 404, "NOT_FOUND"


class SessionNotFound(ApiError):
    """No agent with this id."""

    status, code = 404, "SESSION_NOT_FOUND"


class JobNotFound(NotFound):
    """No job with this id (for this agent)."""

    code = "JOB_NOT_FOUND"


class MessageNotFound(NotFound):
    """No message with this id (or send job id) for this agent, or its status has expired."""

    code = "MESSAGE_NOT_FOUND"


class MessageRevoked(ApiError):
    """The message was deleted for everyone; the error says when."""

    status, code = 410, "MESSAGE_REVOKED"


class MessageNotEditable(ApiError):
    """The message is not ours, not a text (for edits), or too old to edit or delete for everyone."""

    status, code = 409, "MESSAGE_NOT_EDITABLE"


class MediaLinkExpired(ApiError):
    """An inbound media link is older than `INBOUND_MEDIA_URL_TTL_SECONDS`."""

    status, code = 410, "MEDIA_LINK_EXPIRED"


class MethodNotAllowed(ApiError):
    """The path exists but not with this HTTP method."""

    status, code = 405, "METHOD_NOT_ALLOWED"


class SessionNotReady(ApiError):
    """The agent's WhatsApp session cannot send now (waiting for a QR scan, logged out or failed)."""

    status, code = 409, "SESSION_NOT_READY"


class AgentIdTaken(ApiError):
    """Another agent already uses this id."""

    status, code = 409, "AGENT_ID_TAKEN"


class AlreadyConnected(ApiError):
    """The session is connected; there is no QR code to show."""

    status, code = 409, "ALREADY_CONNECTED"


class IdempotencyInProgress(ApiError):
    """A request with this `Idempotency-Key` is still being prepared; retry shortly."""

    status, code = 409, "IDEMPOTENCY_IN_PROGRESS"


class JobNotFailed(ApiError):
    """Only failed jobs can be requeued."""

    status, code = 409, "JOB_NOT_FAILED"


class PayloadTooLarge(ApiError):
    """The request body is larger than `MAX_BODY_BYTES`."""

    status, code = 413, "PAYLOAD_TOO_LARGE"


class MediaTooLarge(ApiError):
    """The media (base64 or fetched from its URL) is larger than `MEDIA_MAX_BYTES`."""

    status, code = 413, "MEDIA_TOO_LARGE"


class IdempotencyKeyReused(ApiError):
    """This `Idempotency-Key` was already used for a different request."""

    status, code = 422, "IDEMPOTENCY_KEY_REUSED"


class RateLimited(ApiError):
    """Too many sends are already waiting for this agent's rate limit."""

    status, code = 429, "RATE_LIMITED"


class BadGateway(ApiError):
    """The session host or WhatsApp refused or failed the request; the message says why."""

    status, code = 502, "BAD_GATEWAY"


class AiDownstreamError(ApiError):
    """The agent's AI backend answered with an error or an unreadable body."""

    status, code = 502, "AI_DOWNSTREAM_ERROR"


class ServiceUnavailable(ApiError):
    """Redis or the database is down or still recovering; retry after `Retry-After` seconds."""

    status, code = 503, "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NoSessionHost(ApiError):
    """No live session host has room for a new session."""

    status, code = 503, "NO_SESSION_HOST"


class HttpError(ApiError):
    """Another HTTP-level refusal by the web framework; the status says which (for example 415)."""

    status, code = 400, "HTTP_ERROR"
    status_label = "4xx"


class AiTimeout(ApiError):
    """The agent's AI backend did not answer within `AI_TIMEOUT_SECONDS`."""

    status, code = 504, "AI_TIMEOUT"


class QrTimeout(ApiError):
    """No QR (or pairing) code appeared within the wait."""

    status, code = 504, "QR_TIMEOUT"


@dataclass(frozen=True)
class ErrorSpec:
    """One row of the catalogue."""

    code: str
    status: int
    meaning: str
    error: type[ApiError]

    @property
    def label(self) -> str:
        """The status as the README shows it ("4xx" where the framework chooses)."""
        return str(getattr(self.error, "status_label", self.status))


def _subclasses(cls: type[ApiError]) -> list[type[ApiError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


def catalogue() -> list[ErrorSpec]:
    """Every code the API answers, ordered by status then code."""
    specs = {}
    for error in _subclasses(ApiError):
        if error.__module__ != __name__:
            raise TypeError(f"{error.__qualname__} belongs in {__name__}, the one error catalogue")
        if error.code in specs:
            raise TypeError(f"error code {error.code} is defined twice")
        meaning = " ".join((error.__doc__ or "").split())
        specs[error.code] = ErrorSpec(error.code, error.status, meaning, error)
    return sorted(specs.values(), key=lambda spec: (spec.status, spec.code))


# The catalogue's generic errors for statuses Flask/Werkzeug answer on their own.
_GENERIC = {400: InvalidPayload, 404: NotFound, 405: MethodNotAllowed, 413: PayloadTooLarge}


def for_http_status(status: int, message: str) -> ApiError:
    """The catalogue's error for an HTTP status the web framework raised."""
    generic = _GENERIC.get(status)
    return generic(message) if generic is not None else HttpError(message, status=status)


def markdown_table() -> str:
    """The README's error table, generated from the catalogue."""
    rows = ["| Status | Code | Meaning |", "| --- | --- | --- |"]
    rows += [f"| {spec.label} | `{spec.code}` | {spec.meaning} |" for spec in catalogue()]
    return "\n".join(rows)


if __name__ == "__main__":  # `python -m functions.errors` prints the README table
    print(markdown_table())

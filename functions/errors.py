"""One exception hierarchy carrying HTTP status and error code; one handler renders it."""

from __future__ import annotations


class ApiError(Exception):
    """An error the API answers as `{"error": {"code", "message", "traceId"}}`."""

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
    status, code = 400, "INVALID_PAYLOAD"


class Unauthorized(ApiError):
    status, code = 401, "UNAUTHORIZED"


class NotFound(ApiError):
    status, code = 404, "NOT_FOUND"


class SessionNotFound(ApiError):
    status, code = 404, "SESSION_NOT_FOUND"


class SessionNotReady(ApiError):
    status, code = 409, "SESSION_NOT_READY"


class AgentIdTaken(ApiError):
    status, code = 409, "AGENT_ID_TAKEN"


class PayloadTooLarge(ApiError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class MediaTooLarge(ApiError):
    status, code = 413, "MEDIA_TOO_LARGE"


class RateLimited(ApiError):
    status, code = 429, "RATE_LIMITED"


class BadGateway(ApiError):
    status, code = 502, "BAD_GATEWAY"


class AiDownstreamError(ApiError):
    status, code = 502, "AI_DOWNSTREAM_ERROR"


class ServiceUnavailable(ApiError):
    """A dependency is down or still recovering; `retry_after` (seconds) becomes Retry-After."""

    status, code = 503, "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NoSessionHost(ApiError):
    status, code = 503, "NO_SESSION_HOST"


class AiTimeout(ApiError):
    status, code = 504, "AI_TIMEOUT"


class QrTimeout(ApiError):
    status, code = 504, "QR_TIMEOUT"

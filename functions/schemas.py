"""Request models of the public API (they also feed the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

AGENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"


class ApiModel(BaseModel):
    """Strict-enough request model: trims strings, ignores unknown keys."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class CreateSessionRequest(ApiModel):
    """Body of `POST /sessions`."""

    userId: str = Field(min_length=1, max_length=128)
    # The agent id names a browser profile directory and Redis keys, so it is kept path-safe.
    agentId: str = Field(pattern=AGENT_ID_PATTERN)
    agentName: str = Field(min_length=1, max_length=256)
    apikey: str | None = Field(default=None, max_length=4096)


class DeleteSessionRequest(ApiModel):
    """Optional body of `DELETE /sessions/{agentId}`."""

    deleteAuth: bool = False


class PairingCodeRequest(ApiModel):
    """Body of `POST /sessions/{agentId}/pairing-code`."""

    phoneNumber: str = Field(pattern=r"^\+?[0-9 ()\-]{6,24}$")


# --- Agent endpoints (`/agents/{agentId}/…`) ---------------------------------------------

JID_EXAMPLE = "6281234567890"


class RunRequest(ApiModel):
    """Body of `POST /agents/{agentId}/run`: `input` (or `message`) for the AI, and the chat."""

    input: str | None = Field(default=None, max_length=65536)
    message: str | None = Field(default=None, max_length=65536)
    session_id: str = Field(min_length=1, max_length=128, examples=[JID_EXAMPLE])
    parameters: dict[str, Any] = Field(default_factory=lambda: {"max_steps": 5})
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _needs_text(self) -> RunRequest:
        if not (self.input or self.message):
            raise ValueError("input (or message) is required")
        return self

    @property
    def text(self) -> str:
        """Return the text for the AI (`input`, else `message`)."""
        return self.input or self.message or ""


class SendMessageRequest(ApiModel):
    """Body of `POST /agents/{agentId}/messages`."""

    to: str = Field(min_length=1, max_length=128, examples=[JID_EXAMPLE])
    message: str = Field(min_length=1, max_length=65536)
    quotedMessageId: str | None = Field(default=None, max_length=256)


class SendMediaRequest(ApiModel):
    """Body of `POST /agents/{agentId}/media`: exactly one of `data` (base64) or `url`."""

    to: str = Field(min_length=1, max_length=128, examples=[JID_EXAMPLE])
    data: str | None = Field(default=None, description="Base64 (or a data: URL), at most 10 MB decoded.")
    url: str | None = Field(default=None, max_length=4096, description="http(s) URL of the file.")
    caption: str | None = Field(default=None, max_length=4096)
    filename: str | None = Field(default=None, max_length=255)
    mimeType: str | None = Field(default=None, pattern=r"^[\w.+\-]+/[\w.+\-]+$")
    save_to_temp: bool = Field(default=True, description="Keep a preview for 24 h (previewPath).")

    @model_validator(mode="after")
    def _one_source(self) -> SendMediaRequest:
        if bool(self.data) == bool(self.url):
            raise ValueError("give exactly one of data (base64) or url")
        return self


class ErrorDetail(BaseModel):
    """The error object."""

    code: str
    message: str
    traceId: str


class ErrorResponse(BaseModel):
    """Every error: `{"error": {code, message, traceId}}`."""

    error: ErrorDetail


class ReplyError(BaseModel):
    """Why the AI's reply was not sent into the chat."""

    code: str
    message: str


class RunResponse(BaseModel):
    """Answer of `/run`: the AI's reply and whether it reached the chat."""

    reply: str | None
    replySent: bool
    replyJobId: str | None = None
    replyError: ReplyError | None = None
    traceId: str


class SendResponse(BaseModel):
    """A send WhatsApp accepted (200) or one still queued when the wait ended (202)."""

    delivered: bool
    messageId: str | None = None
    jobId: str
    status: str | None = Field(default=None, description="Job status when delivered is false (202).")
    notBefore: str | None = Field(default=None, description="Rate-limit slot of a queued send.")
    traceId: str


class MediaResponse(SendResponse):
    """A media send: also where the preview was kept, and the settled type and name."""

    previewPath: str | None = None
    mimeType: str
    filename: str
    size: int


class JobResponse(BaseModel):
    """State of one job of an agent."""

    jobId: str
    type: str
    status: str
    delivered: bool
    messageId: str | None = None
    error: str | None = None
    to: str | None = None
    notBefore: str | None = None
    enqueuedAt: str | None = None
    endedAt: str | None = None
    traceId: str


class HealthResponse(BaseModel):
    """Answer of `/health`."""

    status: str
    uptime: float
    timestamp: str
    traceId: str

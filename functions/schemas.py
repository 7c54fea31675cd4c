"""Request and response models of the public API; the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from contract.jid import RECIPIENT_PATTERN
from contract.live import SessionState
from functions.repository import RecordStatus
from functions.webhooks.schema import MAX_WEBHOOKS, WebhookSpec, WebhooksRequest, WebhookView

AGENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
MIME_TYPE_PATTERN = r"^[A-Za-z0-9_.+\-]+/[A-Za-z0-9_.+\-]+$"
# Request strings are trimmed before they are checked, so the document says what a client may
# send: surrounding whitespace is fine, and a required text needs something besides whitespace.
NOT_BLANK = {"pattern": r"\S"}
# Text stored in the database: PostgreSQL refuses NUL characters in text, so the API does first.
NO_NUL = r"^[^\x00]*$"
STORED_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"  # not blank, no NUL (the same trimmed or not)


def trimmed(pattern: str) -> dict[str, str]:
    """The schema of a `^…$` pattern checked after trimming: whitespace may surround it."""
    return {"pattern": r"^\s*" + pattern.removeprefix("^").removesuffix("$") + r"\s*$"}


def _filled(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"type": "string", "pattern": r"\S"}}}


class ApiModel(BaseModel):
    """Strict-enough request model: trims strings, ignores unknown keys."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class CreateSessionRequest(ApiModel):
    """Body of `POST /sessions`."""

    userId: str = Field(min_length=1, max_length=128, pattern=STORED_TEXT)
    # The agent id names a browser profile directory and Redis keys, so it is kept path-safe.
    agentId: str = Field(pattern=AGENT_ID_PATTERN, json_schema_extra=trimmed(AGENT_ID_PATTERN))
    agentName: str = Field(min_length=1, max_length=256, pattern=STORED_TEXT)
    apikey: Annotated[str, Field(max_length=4096, pattern=NO_NUL)] | None = None
    inboundMedia: bool | None = Field(
        default=None,
        strict=True,
        description="Send this agent's inbound images, audio, video, documents and locations to its AI.",
    )
    webhooks: list[WebhookSpec] | None = Field(
        default=None,
        max_length=MAX_WEBHOOKS,
        description="Replaces the agent's webhooks, as PUT /agents/{agentId}/webhooks does.",
    )

    @field_validator("webhooks")
    @classmethod
    def _distinct_webhook_urls(cls, value: list[WebhookSpec] | None) -> list[WebhookSpec] | None:
        return None if value is None else WebhooksRequest.model_validate({"webhooks": value}).webhooks


class DeleteSessionRequest(ApiModel):
    """Optional body of `DELETE /sessions/{agentId}`."""

    deleteAuth: bool = Field(default=False, strict=True)  # JSON true or false, as documented


PAIRING_PHONE = r"^\+?[0-9 ()\-]{6,24}$"
# The same, as sent: trimming must leave 6-24 such characters (so the ends are not spaces).
PAIRING_PHONE_SENT = r"^\s*(?:\+[0-9 ()\-]{5,23}[0-9()\-]|[0-9()\-][0-9 ()\-]{4,22}[0-9()\-])\s*$"


class PairingCodeRequest(ApiModel):
    """Body of `POST /sessions/{agentId}/pairing-code`."""

    phoneNumber: str = Field(pattern=PAIRING_PHONE, json_schema_extra={"pattern": PAIRING_PHONE_SENT})


# Query strings and headers: documented here, read by the routes (they keep their own messages).
# A parameter is left out rather than sent empty, so `None` stays out of their schemas.
Absent = SkipJsonSchema[None]
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII
WAIT_PATTERN = r"^[0-9]{1,4}(\.[0-9]+)?$"
Limit = Annotated[int, Field(ge=1, le=200)]
JOB_STATES = ("queued", "started", "scheduled", "deferred", "failed", "finished", "canceled")
JobState = Literal["queued", "started", "scheduled", "deferred", "failed", "finished", "canceled"]


class WaitQuery(BaseModel):
    """`?wait=` on the calls that wait for a QR or pairing code."""

    wait: Annotated[str, Field(pattern=WAIT_PATTERN)] | Absent = Field(
        default=None,
        description="Seconds to wait, for example 5 or 2.5 (capped by QR_WAIT_SECONDS).",
    )


class DeleteSessionQuery(BaseModel):
    """`?deleteAuth=` of `DELETE /sessions/{agentId}` (the body may say the same)."""

    deleteAuth: Annotated[str, Field(pattern=r"^(?:[tT][rR][uU][eE]|[fF][aA][lL][sS][eE]|1|0)$")] | Absent = (
        Field(default=None, description="true or false (any case), 1 or 0: also delete the browser profile.")
    )


class SessionListQuery(BaseModel):
    """Filters and paging of `GET /sessions`."""

    status: RecordStatus | Absent = Field(default=None, description="Only records with this status.")
    host: str | Absent = Field(default=None, description="Only agents owned by this session host.")
    limit: Limit | Absent = Field(default=None, description="Page size (default 50).")
    cursor: str | Absent = Field(default=None, description="nextCursor of the previous page.")


class JobListQuery(BaseModel):
    """Filter of `GET /sessions/{agentId}/jobs`."""

    status: JobState | Absent = Field(default=None, description="Only jobs in this state.")
    limit: Limit | Absent = Field(default=None, description="At most this many (default 50).")


class IdempotencyHeaders(BaseModel):
    """Headers of the send endpoints."""

    idempotency_key: Annotated[str, Field(pattern=IDEMPOTENCY_KEY_PATTERN)] | Absent = Field(
        default=None,
        alias="Idempotency-Key",
        description="Retrying with the same key returns the first result instead of sending twice.",
    )


# --- Agent endpoints (`/agents/{agentId}/…`) ---------------------------------------------

JID_EXAMPLE = "6281234567890"


RECIPIENT = {"pattern": RECIPIENT_PATTERN}
# Base64 as `functions.media.decode_base64` takes it: whitespace anywhere, padded, after an
# optional `data:[type][;params];base64,` prefix (prefix in any case).
_B64 = r"(?:[A-Za-z0-9+/]\s*)"
_DATA_PREFIX = "[dD][aA][tT][aA]:(?:{t}/{t})?(?:;[^,]*)?;[bB][aA][sS][eE]64,".format(t=r"[A-Za-z0-9_.+\-]+")
BASE64_SENT = rf"^\s*(?:{_DATA_PREFIX})?\s*(?:{_B64}{{4}})*(?:{_B64}{{2}}=\s*=|{_B64}{{3}}=|{_B64}{{4}})\s*$"


class RunRequest(ApiModel):
    """Body of `POST /agents/{agentId}/run`: `input` (or `message`) for the AI, and the chat."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [_filled("input"), _filled("message")]})

    input: str | None = Field(default=None, max_length=65536)
    message: str | None = Field(default=None, max_length=65536)
    session_id: str = Field(min_length=1, max_length=128, examples=[JID_EXAMPLE], json_schema_extra=RECIPIENT)
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

    to: str = Field(min_length=1, max_length=128, examples=[JID_EXAMPLE], json_schema_extra=RECIPIENT)
    message: str = Field(min_length=1, max_length=65536, json_schema_extra=NOT_BLANK)
    quotedMessageId: str | None = Field(default=None, max_length=256)


class SendMediaRequest(ApiModel):
    """Body of `POST /agents/{agentId}/media`: exactly one of `data` (base64) or `url`."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [_filled("data"), _filled("url")]})

    to: str = Field(min_length=1, max_length=128, examples=[JID_EXAMPLE], json_schema_extra=RECIPIENT)
    data: str | None = Field(
        default=None,
        description="Base64 (or a data: URL), at most 10 MB decoded; line breaks are fine.",
        json_schema_extra={"pattern": BASE64_SENT},
    )
    url: str | None = Field(default=None, max_length=4096, description="http(s) URL of the file.")
    caption: str | None = Field(default=None, max_length=4096)
    filename: str | None = Field(default=None, max_length=255)
    mimeType: (
        Annotated[str, Field(pattern=MIME_TYPE_PATTERN, json_schema_extra=trimmed(MIME_TYPE_PATTERN))] | None
    ) = None
    save_to_temp: bool = Field(
        default=True, strict=True, description="Keep a preview for 24 h (previewPath)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> SendMediaRequest:
        if bool(self.data) == bool(self.url):
            raise ValueError("give exactly one of data (base64) or url")
        return self


# A WhatsApp serialized message id: `<fromMe>_<chat>_<key>[_<participant>]`.
MESSAGE_ID_PATTERN = r"^(true|false)_[\w.:\-]+@[a-z.]+_[A-Za-z0-9]{4,64}(_[\w.:\-]+@[a-z.]+)?$"
MessageId = Annotated[
    str,
    Field(
        max_length=256,
        pattern=MESSAGE_ID_PATTERN,
        json_schema_extra=trimmed(MESSAGE_ID_PATTERN),
        examples=["true_6281234567890@c.us_3EB0C767D26A1D4A8C6B"],
    ),
]
Recipient = Annotated[
    str, Field(min_length=1, max_length=128, examples=[JID_EXAMPLE], json_schema_extra=RECIPIENT)
]
CONTACT_PHONE = r"^\+?[0-9][0-9 ()\-]{4,22}[0-9]$"


class SendLocationRequest(ApiModel):
    """Body of `POST /agents/{agentId}/location`."""

    to: Recipient
    latitude: float = Field(ge=-90, le=90, strict=True, examples=[-6.1754])
    longitude: float = Field(ge=-180, le=180, strict=True, examples=[106.8272])
    name: str | None = Field(default=None, max_length=256, pattern=NO_NUL)
    address: str | None = Field(default=None, max_length=1024, pattern=NO_NUL)
    quotedMessageId: MessageId | None = None


class ReactionRequest(ApiModel):
    """Body of `POST /agents/{agentId}/reaction`: one emoji, or "" to take ours back."""

    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore")

    messageId: MessageId
    emoji: str = Field(max_length=32, description="A single emoji; empty removes the reaction.")

    @field_validator("messageId")
    @classmethod
    def _trim(cls, value: str) -> str:
        return value.strip()

    @field_validator("emoji")
    @classmethod
    def _one_emoji(cls, value: str) -> str:
        import emoji  # its tables take 50 ms to load: a cold start pays that only for reactions

        if value and not emoji.is_emoji(value):
            raise ValueError("must be a single emoji, or empty to remove the reaction")
        return value


class SeenRequest(ApiModel):
    """Body of `POST /agents/{agentId}/seen`."""

    chatId: Recipient


class EditMessageRequest(ApiModel):
    """Body of `PATCH /agents/{agentId}/messages/{messageId}`: the new text."""

    message: str = Field(min_length=1, max_length=65536, json_schema_extra=NOT_BLANK)


class ContactCard(ApiModel):
    """One contact to share."""

    name: str = Field(min_length=1, max_length=256, pattern=STORED_TEXT)
    phone: str = Field(
        pattern=CONTACT_PHONE, json_schema_extra=trimmed(CONTACT_PHONE), examples=["+62 812-3456-7890"]
    )


class SendContactsRequest(ApiModel):
    """Body of `POST /agents/{agentId}/contact`."""

    to: Recipient
    contacts: list[ContactCard] = Field(min_length=1, max_length=10)


POLL_OPTIONS_MAX = 12


class SendPollRequest(ApiModel):
    """Body of `POST /agents/{agentId}/poll`."""

    to: Recipient
    name: str = Field(min_length=1, max_length=255, json_schema_extra=NOT_BLANK)
    options: list[Annotated[str, Field(min_length=1, max_length=100, json_schema_extra=NOT_BLANK)]] = Field(
        min_length=2, max_length=POLL_OPTIONS_MAX, json_schema_extra={"uniqueItems": True}
    )
    selectableCount: int = Field(
        default=1,
        ge=0,
        le=POLL_OPTIONS_MAX,
        strict=True,
        description="How many one may pick; 0 = any number.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SendPollRequest:
        if len(set(self.options)) != len(self.options):
            raise ValueError("options must be distinct")
        if self.selectableCount > len(self.options):
            raise ValueError("selectableCount cannot exceed the number of options")
        return self


# --- Responses --------------------------------------------------------------------------
# Routes answer with these through `functions.responses.reply`, which adds the traceId.


class ErrorDetail(BaseModel):
    """The error object."""

    code: str = Field(description="One of the codes in the README's error table.")
    message: str
    traceId: str


class ErrorResponse(BaseModel):
    """Every error: `{"error": {code, message, traceId}}`."""

    error: ErrorDetail


class Traced(BaseModel):
    """Every successful answer carries the request's traceId (X-Request-Id when given)."""

    traceId: str = Field(description="Id of this request in the logs.")


class ReplyError(BaseModel):
    """Why the AI's reply was not sent into the chat."""

    code: str
    message: str


class RunResponse(Traced):
    """Answer of `/run`: the AI's reply and whether it reached the chat."""

    reply: str | None
    replySent: bool
    replyJobId: str | None = None
    replyError: ReplyError | None = None


class SendResponse(Traced):
    """A send WhatsApp accepted (200) or one still queued when the wait ended (202)."""

    delivered: bool
    messageId: str | None = None
    jobId: str
    status: str | None = Field(default=None, description="Job status when delivered is false (202).")
    notBefore: str | None = Field(default=None, description="Rate-limit slot of a queued send.")


class MediaResponse(SendResponse):
    """A media send: also where the preview was kept, and the settled type and name."""

    previewPath: str | None = None
    mimeType: str
    filename: str
    size: int


class JobResponse(Traced):
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


class MessageStatusResponse(Traced):
    """Where one message is: pending < sent < delivered < read < played, or failed."""

    messageId: str | None = Field(description="WhatsApp's id; null while a send is still pending.")
    agentId: str
    chatId: str | None = None
    direction: Literal["in", "out"] | None = None
    type: str | None = None
    status: Literal["pending", "sent", "delivered", "read", "played", "failed"]
    timestamps: dict[str, str] = Field(description="When each status was reached (ISO 8601, UTC).")
    jobId: str | None = None
    error: str | None = None
    editedAt: str | None = Field(default=None, description="When its text was last edited.")
    revokedAt: str | None = Field(default=None, description="When it was deleted for everyone.")


class HealthResponse(Traced):
    """Answer of `/health`."""

    status: str
    uptime: float
    timestamp: str


class LiveTimestamps(BaseModel):
    """When the live state last changed."""

    qrUpdatedAt: str | None
    readyAt: str | None
    updatedAt: str | None


class LiveStateView(BaseModel):
    """What the session host reports about the agent's browser right now."""

    isReady: bool
    hasClient: bool
    sessionState: SessionState | None
    qr: str | None = Field(description="The raw QR payload while one waits to be scanned.")
    pairingCode: str | None
    reason: str | None
    host: str | None
    timestamps: LiveTimestamps


class SessionSummary(BaseModel):
    """An agent's record and live state."""

    userId: str
    agentId: str
    agentName: str
    status: RecordStatus
    endpointUrlRun: str
    hasApiKey: bool
    inboundMedia: bool | None = Field(
        default=None, description="Inbound media goes to the AI (null: the deployment's INBOUND_MEDIA)."
    )
    lastConnectedAt: str | None
    lastDisconnectedAt: str | None
    createdAt: str | None
    updatedAt: str | None
    liveState: LiveStateView
    linkedPhone: str | None = Field(description="The linked number (digits) while connected.")


class QrImage(BaseModel):
    """A QR code as an image."""

    contentType: Literal["image/png"]
    base64: str


class SessionResponse(SessionSummary, Traced):
    """An agent's session; `qr` is the QR as a PNG while one waits to be scanned."""

    qr: QrImage | None
    webhooks: list[WebhookView] | None = Field(
        default=None, description="Only when the request set them: the webhooks, with the secrets it set."
    )


class SessionListResponse(Traced):
    """One page of sessions, ordered by agent id."""

    sessions: list[SessionSummary]
    nextCursor: str | None


class DeleteSessionResponse(Traced):
    """What deleting a session did."""

    deleted: bool
    agentId: str
    sessionStopped: bool
    authDeleted: bool


class QrResponse(Traced):
    """The QR code to scan."""

    qr: QrImage
    qrUpdatedAt: str | None


class PairingCodeResponse(Traced):
    """The code to type on the phone (WhatsApp → Linked devices → Link with phone number)."""

    code: str
    phoneNumber: str


class LogoutResponse(Traced):
    """The logout job of a linked device."""

    agentId: str
    loggedOut: bool
    jobId: str


class JobEntry(BaseModel):
    """One job as operators see it."""

    jobId: str
    type: str
    queue: str | None
    status: str | None
    agentId: str | None
    to: str | None
    error: str | None
    enqueuedAt: str | None
    endedAt: str | None
    traceId: str | None = Field(description="The traceId of the request that queued the job.")


class JobListResponse(Traced):
    """An agent's jobs."""

    jobs: list[JobEntry]


class RequeueResponse(Traced):
    """The requeued job."""

    job: JobEntry

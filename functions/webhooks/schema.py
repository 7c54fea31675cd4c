"""Webhook event types, `whsec_` secrets and the models of a webhook's configuration."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
MAX_WEBHOOKS = 10
ALL = "*"


class EventType(StrEnum):
    """What a webhook can be told about."""

    MESSAGE = "message"
    MESSAGE_SENT = "message.sent"
    MESSAGE_ACK = "message.ack"
    MESSAGE_REACTION = "message.reaction"
    MESSAGE_REVOKED = "message.revoked"
    MESSAGE_EDITED = "message.edited"
    SESSION_STATUS = "session.status"
    AI_REPLY = "ai.reply"
    AI_FAILED = "ai.failed"


def parse_events(names: list[str]) -> frozenset[EventType]:
    """Return the event types named (`*` for all); raise ValueError on an unknown name."""
    chosen: set[EventType] = set()
    for name in names:
        if name == ALL:
            return frozenset(EventType)
        try:
            chosen.add(EventType(name))
        except ValueError:
            known = ", ".join(e.value for e in EventType)
            raise ValueError(f"unknown event {name!r}; known: {known} (or *)") from None
    return frozenset(chosen)


def new_secret() -> str:
    """Return a fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_secret(value: str) -> str:
    """Return a `whsec_<base64>` secret unchanged; raise ValueError when it is not one."""
    if not value.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret must look like {SECRET_PREFIX}<base64>")
    try:
        key = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the part after {SECRET_PREFIX} is not valid base64") from None
    if not key:
        raise ValueError(f"the part after {SECRET_PREFIX} is empty")
    return value


# What the API documents a webhook URL to look like (checked in full by `check_url_form`).
URL_PATTERN = r"^\s*https?://[^\s/?#]+(?:[/?#]\S*)?\s*$"


def check_url_form(value: str) -> str:
    """Return an http(s) URL with a host (and a valid port, if any) unchanged; raise ValueError otherwise."""
    if not re.fullmatch(URL_PATTERN, value):
        raise ValueError("must be an http or https URL")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise ValueError("must be an http or https URL with a valid host and port") from None
    if not parts.hostname:
        raise ValueError("must be an http or https URL with a host")
    return value


class WebhookSpec(BaseModel):
    """One receiver of an agent's events, as configured."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    url: str = Field(
        max_length=2048,
        examples=["https://example.com/whatsapp-events"],
        json_schema_extra={"pattern": URL_PATTERN},
    )
    events: list[str] = Field(
        min_length=1, max_length=len(EventType) + 1, examples=[["message", "message.ack"]]
    )
    secret: str | None = Field(
        default=None, max_length=200, description="whsec_<base64>; generated when absent."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_url_form(value)

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        parse_events(value)
        return list(dict.fromkeys(value))

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return None if value is None else check_secret(value)


class WebhooksRequest(BaseModel):
    """Body of `PUT /agents/{agentId}/webhooks`: the agent's whole list of receivers."""

    model_config = ConfigDict(extra="ignore")

    webhooks: list[WebhookSpec] = Field(max_length=MAX_WEBHOOKS)

    @field_validator("webhooks")
    @classmethod
    def _distinct_urls(cls, value: list[WebhookSpec]) -> list[WebhookSpec]:
        urls = [spec.url for spec in value]
        if len(set(urls)) != len(urls):
            raise ValueError("each webhook URL may appear once")
        return value


class WebhookView(BaseModel):
    """A configured receiver as the API shows it (the secret only in the answer that set it)."""

    id: str
    url: str
    events: list[str]
    secret: str | None = None
    createdAt: str


class WebhooksResponse(BaseModel):
    """The agent's receivers."""

    webhooks: list[WebhookView]
    traceId: str

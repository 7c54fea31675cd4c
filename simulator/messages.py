"""What the simulated WhatsApp servers hand to a page: QR strings, codes, ids and messages."""

from __future__ import annotations

import base64
import re
import secrets
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STATUS_JID = "status@broadcast"
PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTVWXYZ23456789"  # WhatsApp avoids look-alike characters
MEDIA_TYPES = {
    "image": ("image/jpeg", "photo.jpg"),
    "video": ("video/mp4", "clip.mp4"),
    "audio": ("audio/mpeg", "audio.mp3"),
    "ptt": ("audio/ogg; codecs=opus", "voice.ogg"),
    "document": ("application/pdf", "file.pdf"),
    "sticker": ("image/webp", "sticker.webp"),
}
# A few bytes of JPEG header: WhatsApp puts a base64 thumbnail in `body` for media.
FAKE_THUMBNAIL = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00thumbnail").decode()


class InvalidInput(ValueError):
    """Raised when a control request names something that cannot exist."""


def _b64(size: int) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode()


def new_qr() -> str:
    """Return a QR payload shaped like WhatsApp's: ref, noise key, identity key, secret."""
    ref = "2@" + _b64(45).replace("=", "")
    return ",".join([ref, _b64(32), _b64(32), _b64(32)])


def new_pairing_code() -> str:
    """Return an 8-character link-with-phone-number code."""
    return "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(8))


def new_message_key() -> str:
    """Return a message key id like WhatsApp Web's own (`3EB0` + hex)."""
    return "3EB0" + secrets.token_hex(10).upper()


def serialize_id(from_me: bool, remote: str, key: str, participant: str | None = None) -> str:
    """Serialize a message id the way `MsgKey._serialized` does."""
    text = f"{'true' if from_me else 'false'}_{remote}_{key}"
    return f"{text}_{participant}" if participant else text


def to_jid(value: str, server: str = "c.us") -> str:
    """Turn a phone number or JID into a JID on `server` (JIDs pass through)."""
    raw = (value or "").strip()
    if "@" in raw:
        return raw
    digits = re.sub(r"\D", "", raw)
    if not digits:
        raise InvalidInput(f"not a phone number or JID: {value!r}")
    return f"{digits}@{server}"


def phone_digits(value: str) -> str:
    """Return the digits of a phone number, refusing anything that has none."""
    digits = re.sub(r"\D", "", value or "")
    if not 5 <= len(digits) <= 20:
        raise InvalidInput(f"phone must have 5 to 20 digits: {value!r}")
    return digits


class Group(BaseModel):
    """A group chat named in an inbound request."""

    id: str
    name: str = "Group"


class InboundMedia(BaseModel):
    """The file of an inbound media message: base64 bytes, or a size to generate."""

    model_config = ConfigDict(extra="forbid")

    data: str | None = None
    size: int = Field(1024, ge=0, le=64 * 1024 * 1024)
    mimetype: str | None = None
    filename: str | None = None


class Location(BaseModel):
    """A shared location."""

    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = None
    address: str | None = None


class Inbound(BaseModel):
    """Body of `POST /control/accounts/{phone}/inbound`."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: str = Field(alias="from", min_length=1)
    body: str = ""
    type: str = "chat"
    from_me: bool = Field(False, alias="fromMe")
    notify_name: str | None = Field(None, alias="notifyName")
    group: Group | None = None
    mentions: list[str] = Field(default_factory=list)
    status: bool = False
    broadcast: bool = False
    newsletter: bool = False
    id: str | None = None
    encrypted: bool = False
    media: InboundMedia | None = None
    location: Location | None = None
    quoted_msg_id: str | None = Field(None, alias="quotedMsgId")
    age_seconds: float = Field(0, alias="ageSeconds", ge=0)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in ("chat", "location") and value not in MEDIA_TYPES:
            raise ValueError(f"type must be chat, location or one of {sorted(MEDIA_TYPES)}")
        return value

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> Inbound:
        if (self.type == "location") != (self.location is not None):
            raise ValueError("location is required for type location, and only for it")
        if self.media is not None and self.type not in MEDIA_TYPES:
            raise ValueError("media is only for a media type")
        return self

    def media_bytes(self) -> bytes:
        """Return the media's bytes: the given base64, else `size` random bytes."""
        media = self.media or InboundMedia()
        if media.data is not None:
            try:
                return base64.b64decode(media.data, validate=True)
            except ValueError as exc:
                raise InvalidInput("media.data is not valid base64") from exc
        return secrets.token_bytes(media.size)


def build_inbound(spec: Inbound, me: str) -> dict[str, Any]:
    """Build the JSON a page turns into a MsgModel-like object for `chat.new_message`."""
    other = to_jid(spec.from_)
    author = None
    chat_name = spec.notify_name
    if spec.group:
        remote, author, chat_name = to_jid(spec.group.id, "g.us"), other, spec.group.name
    elif spec.status:
        remote, author, chat_name = STATUS_JID, other, None
    elif spec.newsletter:
        remote, chat_name = to_jid(spec.from_, "newsletter"), spec.notify_name or "Channel"
    elif spec.broadcast:
        remote, author = f"{int(time.time() * 1000)}@broadcast", other
    else:
        remote = other
    if spec.from_me:
        author = me if author else None
    sender = author or (me if spec.from_me else remote)
    key = spec.id or new_message_key()
    message: dict[str, Any] = {
        "id": {
            "fromMe": spec.from_me,
            "remote": remote,
            "id": key,
            "participant": author,
            "_serialized": serialize_id(spec.from_me, remote, key, author),
        },
        "from": me if spec.from_me else remote,
        "to": remote if spec.from_me else me,
        "author": author,
        "type": spec.type,
        "body": spec.body,
        "t": int(time.time() - spec.age_seconds),
        "notifyName": None if spec.from_me else spec.notify_name or f"User {sender.split('@')[0][-4:]}",
        "mentionedJidList": [to_jid(jid) for jid in spec.mentions],
        "broadcast": spec.broadcast or spec.status,
        "chat": {"id": remote, "name": chat_name},
        "encrypted": spec.encrypted,
        "quotedMsgId": spec.quoted_msg_id,
    }
    if spec.type in MEDIA_TYPES:
        mimetype, filename = MEDIA_TYPES[spec.type]
        media = spec.media or InboundMedia()
        message.update(
            body=FAKE_THUMBNAIL,
            caption=spec.body,
            mimetype=media.mimetype or mimetype,
            filename=media.filename or filename,
        )
    if spec.location:
        where = spec.location
        message.update(lat=where.latitude, lng=where.longitude, loc=location_text(where.name, where.address))
    return message


def location_text(name: str | None, address: str | None) -> str:
    """Return WhatsApp's `loc` text of a location: the name, then the address on its own line."""
    return "\n".join(part for part in (name, address) if part)


def decode_media(data_url: str) -> tuple[str, int]:
    """Return the mimetype and decoded byte size of a `data:<mime>;base64,…` URL."""
    mimetype, data = decode_media_bytes(data_url)
    return mimetype, len(data)


def decode_media_bytes(data_url: str) -> tuple[str, bytes]:
    """Return the mimetype and decoded bytes of a `data:<mime>;base64,…` URL."""
    match = re.match(r"^data:([^;,]*)(?:;[^,]*)?;base64,(.*)$", data_url or "", re.S)
    if not match:
        raise InvalidInput("media must be a base64 data URL")
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except ValueError as exc:
        raise InvalidInput("media data URL is not valid base64") from exc
    return match.group(1), data

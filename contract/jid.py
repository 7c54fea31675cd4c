"""WhatsApp JID rules shared by the API (validation) and the host (addressing)."""

from __future__ import annotations

import re

USER_SUFFIX = "@c.us"
GROUP_SUFFIX = "@g.us"
# WhatsApp addresses some users by a "linked identity" instead of their number; replies go back to it.
LID_SUFFIX = "@lid"
_ACCEPTED_SUFFIXES = ("@c.us", "@g.us", "@s.whatsapp.net", LID_SUFFIX)
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-().]+$")
_LOCAL_PART = re.compile(r"^[\d\-]{5,40}$")


class InvalidJid(ValueError):
    """Raised when a string is neither a phone number nor a supported JID."""


def normalize_jid(value: str) -> str:
    """Turn a phone number or JID into the canonical JID (`digits@c.us`, `id@g.us` or `id@lid`)."""
    raw = (value or "").strip()
    if not raw:
        raise InvalidJid("recipient is empty")
    if "@" in raw:
        local, _, domain = raw.partition("@")
        suffix = "@" + domain.lower()
        if suffix not in _ACCEPTED_SUFFIXES or not _LOCAL_PART.match(local):
            raise InvalidJid(f"unsupported WhatsApp id: {raw!r}")
        if suffix == GROUP_SUFFIX:
            return f"{local}{GROUP_SUFFIX}"
        if "-" in local:
            raise InvalidJid(f"unsupported WhatsApp id: {raw!r}")
        return f"{local}{LID_SUFFIX if suffix == LID_SUFFIX else USER_SUFFIX}"
    if not _PHONE_CHARS.match(raw):
        raise InvalidJid(f"not a phone number or WhatsApp id: {raw!r}")
    digits = re.sub(r"\D", "", raw)
    if not 5 <= len(digits) <= 20:
        raise InvalidJid(f"phone number must have 5 to 20 digits: {raw!r}")
    return f"{digits}{USER_SUFFIX}"


def jid_user(jid: str) -> str:
    """Return the part of a JID before the `@` (the phone number for users)."""
    return jid.partition("@")[0]


def is_group(jid: str) -> bool:
    """Tell whether a JID names a group chat."""
    return jid.endswith(GROUP_SUFFIX)

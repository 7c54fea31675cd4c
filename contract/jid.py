"""WhatsApp JID rules shared by the API (validation) and the host (addressing)."""

from __future__ import annotations

import re

USER_SUFFIX = "@c.us"
GROUP_SUFFIX = "@g.us"
# WhatsApp addresses some users by a "linked identity" instead of their number; replies go back to it.
LID_SUFFIX = "@lid"
_ACCEPTED_SUFFIXES = ("@c.us", "@g.us", "@s.whatsapp.net", LID_SUFFIX)


def _any_case(text: str) -> str:
    """A regex for `text` in any letter case, without inline flags (JSON Schema has none)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in text)


_SEPARATORS = r"[ \-().]"
_PHONE = rf"\+?{_SEPARATORS}*(?:[0-9]{_SEPARATORS}*){{5,20}}"
_USER_DOMAINS = "|".join(_any_case(suffix[1:]) for suffix in ("@c.us", "@s.whatsapp.net", LID_SUFFIX))
_USER_JID = f"[0-9]{{5,40}}@(?:{_USER_DOMAINS})"
_GROUP_JID = "[0-9\\-]{5,40}@" + _any_case(GROUP_SUFFIX[1:])
# Every recipient the API accepts, as one regex (surrounding whitespace is ignored). The OpenAPI
# document publishes it, and `normalize_jid` accepts exactly what it matches.
RECIPIENT_PATTERN = rf"^\s*(?:{_PHONE}|{_USER_JID}|{_GROUP_JID})\s*$"
_RECIPIENT = re.compile(RECIPIENT_PATTERN)


class InvalidJid(ValueError):
    """Raised when a string is neither a phone number nor a supported JID."""


def normalize_jid(value: str) -> str:
    """Turn a phone number or JID into the canonical JID (`digits@c.us`, `id@g.us` or `id@lid`)."""
    raw = (value or "").strip()
    if not raw:
        raise InvalidJid("recipient is empty")
    if not _RECIPIENT.fullmatch(raw):
        if "@" in raw:
            raise InvalidJid(f"unsupported WhatsApp id: {raw!r}")
        raise InvalidJid(f"not a phone number (5 to 20 digits) or WhatsApp id: {raw!r}")
    if "@" in raw:
        local, _, domain = raw.partition("@")
        suffix = "@" + domain.lower()
        if suffix == GROUP_SUFFIX:
            return f"{local}{GROUP_SUFFIX}"
        return f"{local}{LID_SUFFIX if suffix == LID_SUFFIX else USER_SUFFIX}"
    return f"{re.sub(r'[^0-9]', '', raw)}{USER_SUFFIX}"


def jid_user(jid: str) -> str:
    """Return the part of a JID before the `@` (the phone number for users)."""
    return jid.partition("@")[0]


def is_group(jid: str) -> bool:
    """Tell whether a JID names a group chat."""
    return jid.endswith(GROUP_SUFFIX)

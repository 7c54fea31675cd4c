"""Where the host keeps media it downloaded from WhatsApp: TEMP_DIR (or MEDIA_BUCKET on S3).

The same places the functions store outgoing media, under `inbound/`; the 24 h clean-up
(or the bucket's lifecycle rule) removes them like the rest.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from contract.jobs import MediaRef
from session_host.config import HostSettings

INBOUND_DIR = "inbound"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str | None, mime_type: str) -> str:
    """Return a collision-free file name keeping only harmless characters of the original."""
    base = _UNSAFE.sub("_", (filename or "").strip())[-100:].lstrip(".") or "media"
    if "." not in base and "/" in mime_type:
        base += "." + _UNSAFE.sub("", mime_type.split("/", 1)[1].split(";", 1)[0])[:10]
    return f"{uuid.uuid4().hex}-{base}"


def store_inbound(
    settings: HostSettings, agent_id: str, content: bytes, mime_type: str, filename: str | None
) -> MediaRef:
    """Write a received file where the functions can read it and return its reference."""
    name = safe_name(filename, mime_type)
    common = {"filename": filename or name, "mime_type": mime_type, "size": len(content)}
    if settings.media_bucket:
        import boto3

        key = f"{INBOUND_DIR}/{agent_id}/{name}"
        boto3.client("s3").put_object(
            Bucket=settings.media_bucket, Key=key, Body=content, ContentType=mime_type
        )
        return MediaRef(kind="s3", bucket=settings.media_bucket, key=key, **common)
    directory = Path(settings.temp_dir).resolve() / INBOUND_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(content)
    return MediaRef(kind="file", path=str(path), **common)

"""Short-lived links the AI backend fetches inbound media with, without our credentials.

Files in TEMP_DIR get `{PUBLIC_URL}/media/{token}`: the token is signed (itsdangerous, keyed
by EVENTS_SECRET) and carries the file and when it was made, so it stops working after
INBOUND_MEDIA_URL_TTL_SECONDS. Files in MEDIA_BUCKET get an S3 presigned URL instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from contract.jobs import MediaRef
from functions.config import Settings
from functions.errors import MediaLinkExpired, NotFound

SALT = "wagw-inbound-media"


@dataclass(frozen=True)
class Linked:
    """The file a valid link names."""

    path: Path
    mime_type: str
    filename: str


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.events_secret, salt=SALT)


def base_url(settings: Settings) -> str:
    """Return where the AI backend reaches this API."""
    return (settings.public_url or f"http://127.0.0.1:{settings.port}").rstrip("/")


def link(settings: Settings, ref: MediaRef) -> str:
    """Return a URL that serves the stored file until the links' lifetime is over."""
    ttl = settings.inbound_media_url_ttl_seconds
    if ref.kind == "s3":
        import boto3

        return boto3.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": ref.bucket, "Key": ref.key}, ExpiresIn=ttl
        )
    token = _serializer(settings).dumps({"p": ref.path, "m": ref.mime_type, "f": ref.filename})
    return f"{base_url(settings)}/media/{token}"


def resolve(settings: Settings, token: str) -> Linked:
    """Return the file a token names; raise MediaLinkExpired or NotFound."""
    try:
        data = _serializer(settings).loads(token, max_age=settings.inbound_media_url_ttl_seconds)
    except SignatureExpired as exc:
        raise MediaLinkExpired("this media link has expired") from exc
    except BadSignature as exc:
        raise NotFound("no such media link") from exc
    root = Path(settings.temp_dir).resolve()
    path = Path(str(data.get("p") or "")).resolve()
    # Signed by us, but only ever a file under TEMP_DIR.
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("the media file is gone (files are kept 24 h)")
    return Linked(path, str(data.get("m") or "application/octet-stream"), str(data.get("f") or path.name))

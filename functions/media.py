"""Media for sends: base64 or URL in, size-checked bytes stored where the host can read them.

URL downloads refuse loopback, private, link-local (cloud metadata) and other non-public
addresses, checked on the resolved address, which is then the one connected to (so a DNS
answer cannot change between the check and the connection), and again on every redirect.
MEDIA_URL_ALLOWLIST names hosts or networks that are allowed anyway (tests, private sites).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import mimetypes
import re
import socket
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

import certifi
import urllib3

from contract.jobs import MediaRef
from functions.errors import BadGateway, InvalidPayload, MediaTooLarge

if TYPE_CHECKING:
    from functions.config import Settings
    from functions.schemas import SendMediaRequest

MAX_REDIRECTS = 5
DOWNLOAD_BUDGET = 3
PREVIEW_DIR = "previews"
OUTGOING_DIR = "outgoing"
_CHUNK = 64 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})")
_DATA_URL = re.compile(r"^data:(?P<mime>[A-Za-z0-9_.+\-]+/[A-Za-z0-9_.+\-]+)?(;[^,]*)?;base64,", re.I)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
)


@dataclass(frozen=True)
class Media:
    """Bytes to send with their type and file name."""

    data: bytes
    mime_type: str
    filename: str


@dataclass(frozen=True)
class Allowlist:
    """Hosts and networks a media URL may reach although they are not public."""

    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, raw: str) -> Allowlist:
        """Parse `host,10.0.0.0/8,127.0.0.1` (comma-separated)."""
        hosts, networks = set(), []
        for item in (part.strip() for part in (raw or "").split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower())
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, hostname: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Tell whether an explicitly allowed host or network covers this destination."""
        return hostname.lower() in self.hosts or any(address in net for net in self.networks)


def too_large(limit: int) -> MediaTooLarge:
    """Return the MEDIA_TOO_LARGE error for a limit in bytes."""
    return MediaTooLarge(f"media is larger than {limit // (1024 * 1024)} MB ({limit} bytes)")


def decode_base64(data: str, max_bytes: int) -> tuple[bytes, str | None]:
    """Decode base64 (optionally a data: URL) after checking its size; return bytes and the data: type."""
    mime = None
    match = _DATA_URL.match(data)
    if match:
        mime = match.group("mime")
        data = data[match.end() :]
    # Estimate the decoded size from the text length, before spending memory on decoding.
    if (len(data) * 3) // 4 - 2 > max_bytes:
        raise too_large(max_bytes)
    compact = "".join(data.split())
    if (len(compact) * 3) // 4 - compact[-2:].count("=") > max_bytes:
        raise too_large(max_bytes)
    if not _BASE64.fullmatch(compact):  # what the OpenAPI document promises, no more
        raise InvalidPayload("data is not valid base64")
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPayload("data is not valid base64") from exc
    if not raw:
        raise InvalidPayload("data is empty")
    return raw, mime


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve_checked(hostname: str, port: int, allowlist: Allowlist) -> str:
    """Resolve a host and return an address to connect to; refuse any non-public answer."""
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidPayload(f"media URL host {hostname!r} does not resolve") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for address in addresses:
        if not _is_public(address) and not allowlist.allows(hostname, address):
            raise InvalidPayload(
                f"media URL host {hostname!r} resolves to a non-public address ({address}); refused"
            )
    return str(addresses[0])


def _pool(scheme: str, hostname: str, address: str, port: int, timeout: float) -> urllib3.HTTPConnectionPool:
    common = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False, "maxsize": 1}
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=hostname,
            assert_hostname=hostname,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **common,
        )
    return urllib3.HTTPConnectionPool(address, port, **common)


def fetch_url(
    url: str, max_bytes: int, allowlist: Allowlist, timeout: float
) -> tuple[bytes, str | None, str | None]:
    """Download a media URL (≤ max_bytes); return the bytes, the server's type and a file name.

    `timeout` bounds each connect and read; the whole download gets DOWNLOAD_BUDGET times that.
    """
    deadline = time.monotonic() + timeout * DOWNLOAD_BUDGET
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidPayload("url must be an http or https URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve_checked(parts.hostname, port, allowlist)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        pool = _pool(parts.scheme, parts.hostname, address, port, timeout)
        try:
            response = pool.urlopen(
                "GET",
                target,
                headers={"Host": parts.netloc.rpartition("@")[2], "Accept-Encoding": "identity"},
                redirect=False,
                preload_content=False,
            )
            if response.status in _REDIRECTS and response.headers.get("Location"):
                response.drain_conn()
                url = urljoin(url, response.headers["Location"])
                continue
            if not 200 <= response.status < 300:
                raise BadGateway(f"the media URL answered HTTP {response.status}")
            data = _read_capped(response, max_bytes, deadline)
            mime = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower() or None
            name = _disposition_filename(response.headers.get("Content-Disposition"))
            name = name or unquote(PurePosixPath(parts.path).name) or None
            return data, mime, name
        except urllib3.exceptions.HTTPError as exc:
            raise BadGateway(f"could not download the media URL: {type(exc).__name__}") from exc
        finally:
            pool.close()
    raise InvalidPayload(f"the media URL redirected more than {MAX_REDIRECTS} times")


def _read_capped(response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    chunks, total = [], 0
    while chunk := response.read1(_CHUNK):
        total += len(chunk)
        # Whatever the header said, stop reading the moment the limit is passed.
        if total > max_bytes:
            raise too_large(max_bytes)
        if time.monotonic() > deadline:
            raise BadGateway("the media URL is sending too slowly; download abandoned")
        chunks.append(chunk)
    if not total:
        raise BadGateway("the media URL answered an empty body")
    return b"".join(chunks)


def _disposition_filename(header: str | None) -> str | None:
    if not header:
        return None
    message = Message()
    message["Content-Disposition"] = header
    return message.get_filename()


def sniff(data: bytes) -> str | None:
    """Guess a type from the first bytes of common media files."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def safe_filename(name: str | None, mime_type: str) -> str:
    """Return a path-safe file name, inventing `file.<ext>` from the type when none is usable."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = re.sub(r"[^A-Za-z0-9._\-]+", "_", base).strip("._")[:100]
    if base:
        return base
    extension = mimetypes.guess_extension(mime_type) or ".bin"
    return f"file{extension}"


def describe(data: bytes, filename: str | None, mime_type: str | None, *hints: str | None) -> Media:
    """Settle type and name: given values first, then server/data-URL hints, the name, the bytes."""
    mime = mime_type or next((hint for hint in hints if hint and hint != "application/octet-stream"), None)
    mime = mime or (mimetypes.guess_type(filename)[0] if filename else None) or sniff(data)
    mime = (mime or "application/octet-stream").lower()
    return Media(data, mime, safe_filename(filename, mime))


def unique_name(filename: str) -> str:
    """Prefix a file name with a random id so stored files never collide."""
    return f"{uuid.uuid4().hex}-{filename}"


@dataclass(frozen=True)
class Stored:
    """Where a media file went: the reference for the host, and the preview path (if any)."""

    ref: MediaRef
    preview_path: str | None


def store(media: Media, *, agent_id: str, save_to_temp: bool, temp_dir: str, bucket: str | None) -> Stored:
    """Write the bytes where the host can read them: S3 when a bucket is set, else TEMP_DIR.

    Without a preview the host still needs the bytes, so they go under `outgoing/` instead of
    `previews/`; the session host's cleanup deletes both after 24 h (an S3 lifecycle rule in the cloud).
    """
    folder = PREVIEW_DIR if save_to_temp else OUTGOING_DIR
    name = unique_name(media.filename)
    common = {"filename": media.filename, "mime_type": media.mime_type, "size": len(media.data)}
    if bucket:
        key = f"{folder}/{agent_id}/{name}"
        import boto3  # only with MEDIA_BUCKET: 0.2 s of every cold start otherwise

        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=media.data, ContentType=media.mime_type)
        ref = MediaRef(kind="s3", bucket=bucket, key=key, **common)
        return Stored(ref, f"s3://{bucket}/{key}" if save_to_temp else None)
    directory = Path(temp_dir).resolve() / folder
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(media.data)
    ref = MediaRef(kind="file", path=str(path), **common)
    return Stored(ref, str(path) if save_to_temp else None)


@dataclass(frozen=True)
class Upload:
    """A send's media, stored: the reference for the host and the fields the answer reports."""

    ref: MediaRef
    details: dict[str, Any]


def upload(body: SendMediaRequest, *, agent_id: str, settings: Settings) -> Upload:
    """Take a send's media from its base64 data or URL, check it, settle type and name, store it."""
    limit = settings.media_max_bytes
    if body.data:
        data, data_type = decode_base64(body.data, limit)
        name = body.filename
    else:
        allowlist = Allowlist.parse(settings.media_url_allowlist)
        data, data_type, served_name = fetch_url(
            body.url or "", limit, allowlist, settings.media_fetch_timeout_seconds
        )
        name = body.filename or served_name
    item = describe(data, name, body.mimeType, data_type)
    stored = store(
        item,
        agent_id=agent_id,
        save_to_temp=body.save_to_temp,
        temp_dir=settings.temp_dir,
        bucket=settings.media_bucket,
    )
    details = {
        "previewPath": stored.preview_path,
        "mimeType": item.mime_type,
        "filename": item.filename,
        "size": len(item.data),
    }
    return Upload(stored.ref, details)

"""Who receives an agent's events: its own webhooks (Redis) plus the deployment-wide one.

A receiver's id is derived from its URL, so re-sending the same list keeps each receiver's
pending deliveries (and, when no new secret is given, its secret). Secrets are stored to
sign with, and shown only in the answer of the request that set them.
"""

from __future__ import annotations

import hashlib
import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

from contract import keys, logs
from contract.wire import iso, utcnow
from functions import media
from functions.config import Settings
from functions.errors import InvalidPayload
from functions.webhooks.schema import EventType, WebhookSpec, new_secret, parse_events

log = logs.get_logger(__name__)

KEY_PREFIX = keys.WEBHOOKS_PREFIX
DEPLOYMENT_ID = "deployment"


def config_key(agent_id: str) -> str:
    """Return the key holding an agent's webhook list."""
    return keys.webhooks_config(agent_id)


def receiver_id(url: str) -> str:
    """Return the stable id of a receiver URL."""
    return "wh_" + hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Receiver:
    """One place events are POSTed to, with what it wants and how to sign for it."""

    id: str
    url: str
    events: frozenset[EventType]
    secret: str
    created_at: str = ""

    def wants(self, event: EventType) -> bool:
        """Tell whether this receiver subscribed to an event type."""
        return event in self.events

    def view(self, *, with_secret: bool = False) -> dict[str, object]:
        """Return the API's view of the receiver (the secret only when asked for)."""
        view: dict[str, object] = {
            "id": self.id,
            "url": self.url,
            "events": sorted(e.value for e in self.events),
            "createdAt": self.created_at,
        }
        if with_secret:
            view["secret"] = self.secret
        return view


def check_destination(url: str, allowlist: media.Allowlist) -> None:
    """Refuse a URL whose host resolves to a private, loopback or metadata address.

    A host that does not resolve (yet) is accepted: its deliveries are retried, checked
    again each time, and end in the failed registry if it never does.
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.getaddrinfo(parts.hostname or "", port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        log.info("webhook host does not resolve now; accepted", host=parts.hostname)
        return
    try:
        media.resolve_checked(parts.hostname or "", port, allowlist)
    except InvalidPayload as exc:
        raise InvalidPayload(f"webhook {exc.message.removeprefix('media ')}") from exc


def deployment_receiver(settings: Settings) -> Receiver | None:
    """Return the receiver configured by WEBHOOK_URL, if any."""
    if not settings.webhook_url or not settings.webhook_secret:
        return None
    events = parse_events([e.strip() for e in settings.webhook_events.split(",") if e.strip()])
    return Receiver(DEPLOYMENT_ID, settings.webhook_url, events, settings.webhook_secret)


class WebhookRegistry:
    """Per-agent webhook lists in one Redis (client must decode responses)."""

    def __init__(self, client: redis.Redis, settings: Settings):
        self.client = client
        self.settings = settings
        self.deployment = deployment_receiver(settings)

    def allowlist(self) -> media.Allowlist:
        """Return the hosts and networks webhook URLs may reach although not public."""
        return media.Allowlist.parse(self.settings.webhook_url_allowlist)

    def put(self, agent_id: str, specs: list[WebhookSpec]) -> list[dict[str, object]]:
        """Replace an agent's webhooks; return them, with the secrets this call set."""
        allowlist = self.allowlist()
        for spec in specs:
            check_destination(spec.url, allowlist)
        existing = {r.url: r for r in self.agent_receivers(agent_id)}
        receivers, shown = [], []
        for spec in specs:
            old = existing.get(spec.url)
            secret = spec.secret or (old.secret if old else new_secret())
            receiver = Receiver(
                receiver_id(spec.url),
                spec.url,
                parse_events(spec.events),
                secret,
                old.created_at if old else iso(utcnow()) or "",
            )
            receivers.append(receiver)
            shown.append(receiver.view(with_secret=spec.secret is not None or old is None))
        if receivers:
            self.client.set(config_key(agent_id), json.dumps([_dump(r) for r in receivers]))
        else:
            self.client.delete(config_key(agent_id))
        return shown

    def agent_receivers(self, agent_id: str) -> list[Receiver]:
        """Return the agent's own webhooks."""
        raw = self.client.get(config_key(agent_id))
        return [_load(item) for item in json.loads(raw)] if raw else []

    def delete(self, agent_id: str) -> bool:
        """Remove an agent's webhooks; tell whether there were any."""
        return bool(self.client.delete(config_key(agent_id)))

    def receivers(self, agent_id: str, event: EventType) -> list[Receiver]:
        """Return everyone who wants an agent's event, the deployment-wide webhook included."""
        found = [r for r in self.agent_receivers(agent_id) if r.wants(event)]
        if self.deployment is not None and self.deployment.wants(event):
            found.append(self.deployment)
        return found

    def receiver(self, agent_id: str, rid: str) -> Receiver | None:
        """Return one receiver of an agent by id (None once it was removed)."""
        if self.deployment is not None and rid == DEPLOYMENT_ID:
            return self.deployment
        return next((r for r in self.agent_receivers(agent_id) if r.id == rid), None)


def _dump(receiver: Receiver) -> dict[str, object]:
    return {**receiver.view(with_secret=True)}


def _load(item: dict[str, object]) -> Receiver:
    return Receiver(
        str(item["id"]),
        str(item["url"]),
        parse_events(list(item["events"])),  # type: ignore[arg-type]
        str(item["secret"]),
        str(item.get("createdAt") or ""),
    )

"""`GET /sessions`: every agent's record with its live state, filtered and paginated by cursor.

Pages are ordered by agent id; the cursor is the last agent id of the previous page, wrapped
in URL-safe base64 so clients treat it as opaque. The `host` filter reads the registry's set of
agents each host owns, so it pages in the database like the status filter does.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from contract import logs
from functions import repository
from functions.db import get_engine, whatsapp_user
from functions.errors import InvalidPayload
from functions.redis_client import get_host_registry, get_live_state
from functions.sessions import linked_phone, live_view, record_view

log = logs.get_logger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
PSS_METRIC = "wagw_host_chrome_pss_bytes"
# The pages wait for this at most per host; a host whose metrics port is not reachable from
# the API (the default binds to the host's loopback) just shows no PSS.
SCRAPE_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class Page:
    """One page of sessions and the cursor of the next one (None on the last page)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(agent_id: str) -> str:
    """Wrap the last agent id of a page as an opaque cursor."""
    return base64.urlsafe_b64encode(json.dumps({"after": agent_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Return the agent id a cursor points after, or raise INVALID_PAYLOAD."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidPayload("cursor is not one this API returned") from exc
    if not isinstance(after, str):
        raise InvalidPayload("cursor is not one this API returned")
    return after


def parse_limit(raw: str | None) -> int:
    """Return the page size from the `limit` query parameter."""
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidPayload(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def list_sessions(
    *,
    status: str | None = None,
    host: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page:
    """Return one page of records with live state, ordered by agent id."""
    if status is not None and status not in repository.STATUSES:
        raise InvalidPayload(f"status must be one of {', '.join(repository.STATUSES)}")
    query = sa.select(whatsapp_user).order_by(whatsapp_user.c.agent_id).limit(limit + 1)
    if status is not None:
        query = query.where(whatsapp_user.c.status == status)
    if host is not None:
        query = query.where(whatsapp_user.c.agent_id.in_(sorted(get_host_registry().agents_of(host))))
    if cursor is not None:
        query = query.where(whatsapp_user.c.agent_id > decode_cursor(cursor))
    with get_engine().connect() as conn:
        rows = conn.execute(query).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    live = get_live_state()
    items = []
    for row in rows:
        item = record_view(row)
        state = live.get(row["agent_id"])
        item["liveState"] = live_view(state)
        item["linkedPhone"] = linked_phone(state)
        items.append(item)
    return Page(items, encode_cursor(rows[-1]["agent_id"]) if more and rows else None)


def chrome_pss() -> dict[str, int]:
    """Return each agent's Chrome PSS in bytes, as reported by the live hosts that can be reached."""
    import requests  # only this admin listing scrapes the hosts

    found: dict[str, int] = {}
    for host in get_host_registry().live_hosts(time.time()):
        if not host.metrics_url:
            continue
        try:
            response = requests.get(host.metrics_url, timeout=SCRAPE_TIMEOUT_SECONDS)
            response.raise_for_status()
        except requests.RequestException as exc:
            log.info("host metrics not reachable", host=host.host_id, error=type(exc).__name__)
            continue
        for family in text_string_to_metric_families(response.text):
            if family.name == PSS_METRIC:
                for sample in family.samples:
                    found[sample.labels["agent_id"]] = int(sample.value)
    return found

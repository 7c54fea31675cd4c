"""Queries on `whatsapp_user` (owned here) and `api_keys` (read only)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from contract.wire import utcnow
from functions.db import api_keys, whatsapp_user


class RecordStatus(StrEnum):
    """The `status` column of `whatsapp_user`: the session's last known state, kept in the database."""

    AWAITING_QR = "awaiting_qr"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    AUTH_FAILED = "auth_failed"


STATUSES = tuple(status.value for status in RecordStatus)
# Statuses of an agent whose session had linked (a lost live state will come back).
LINKED_STATUSES = frozenset({RecordStatus.CONNECTED, RecordStatus.DISCONNECTED})


class AgentOwnedByAnotherUser(Exception):
    """Raised when an agentId is already registered for a different userId."""


def get_agent(engine: Engine, agent_id: str) -> RowMapping | None:
    """Return the `whatsapp_user` row of an agent, or None."""
    with engine.connect() as conn:
        query = sa.select(whatsapp_user).where(whatsapp_user.c.agent_id == agent_id)
        return conn.execute(query).mappings().first()


def active_api_key(engine: Engine, user_id: str) -> str | None:
    """Return the newest active `access_token` of a user from the shared `api_keys` table."""
    query = (
        sa.select(api_keys.c.access_token)
        .where(api_keys.c.user_id == user_id, api_keys.c.is_active.is_(True))
        .order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def upsert_agent(
    engine: Engine,
    *,
    user_id: str,
    agent_id: str,
    agent_name: str,
    api_key: str | None,
    endpoint_url_run: str,
    inbound_media: bool | None = None,
) -> tuple[RowMapping, bool]:
    """Insert or update an agent's record; return it and whether it was created.

    `inbound_media` None leaves the stored choice as it is.
    """
    values: dict[str, Any] = {
        "agent_name": agent_name,
        "api_key": api_key,
        "endpoint_url_run": endpoint_url_run,
    }
    if inbound_media is not None:
        values["inbound_media"] = inbound_media
    try:
        return _upsert_once(engine, user_id, agent_id, values)
    except IntegrityError:
        # Another request inserted the same agent between our read and our insert: the
        # second attempt sees that row and updates it (or refuses it if another user owns it).
        try:
            return _upsert_once(engine, user_id, agent_id, values)
        except IntegrityError as exc:
            raise AgentOwnedByAnotherUser(agent_id) from exc


def _upsert_once(
    engine: Engine, user_id: str, agent_id: str, values: dict[str, Any]
) -> tuple[RowMapping, bool]:
    now = utcnow()
    by_agent = whatsapp_user.c.agent_id == agent_id
    with engine.begin() as conn:
        existing = conn.execute(sa.select(whatsapp_user).where(by_agent).with_for_update()).mappings().first()
        if existing is not None and existing["user_id"] != user_id:
            raise AgentOwnedByAnotherUser(agent_id)
        created = existing is None
        if created:
            conn.execute(
                whatsapp_user.insert().values(
                    user_id=user_id,
                    agent_id=agent_id,
                    status=RecordStatus.AWAITING_QR.value,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
        else:
            conn.execute(whatsapp_user.update().where(by_agent).values(updated_at=now, **values))
        row = conn.execute(sa.select(whatsapp_user).where(by_agent)).mappings().one()
    return row, created


def delete_agent(engine: Engine, agent_id: str) -> bool:
    """Delete an agent's record; return whether there was one."""
    with engine.begin() as conn:
        result = conn.execute(whatsapp_user.delete().where(whatsapp_user.c.agent_id == agent_id))
        return result.rowcount > 0


def set_status(engine: Engine, agent_id: str, status: RecordStatus | str, at: datetime | None = None) -> bool:
    """Record a session status change and its connected/disconnected timestamp."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    status = RecordStatus(status)
    at = at or utcnow()
    values: dict[str, Any] = {"status": status.value, "updated_at": at}
    if status is RecordStatus.CONNECTED:
        values["last_connected_at"] = at
    elif status in (RecordStatus.DISCONNECTED, RecordStatus.AUTH_FAILED):
        values["last_disconnected_at"] = at
    with engine.begin() as conn:
        result = conn.execute(
            whatsapp_user.update().where(whatsapp_user.c.agent_id == agent_id).values(**values)
        )
        return result.rowcount > 0


def set_api_key(engine: Engine, agent_id: str, api_key: str) -> bool:
    """Replace an agent's stored API key (used by the re-sync from `api_keys`)."""
    with engine.begin() as conn:
        result = conn.execute(
            whatsapp_user.update()
            .where(whatsapp_user.c.agent_id == agent_id)
            .values(api_key=api_key, updated_at=utcnow())
        )
        return result.rowcount > 0

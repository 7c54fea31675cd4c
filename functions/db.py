"""Database engine and table definitions (PostgreSQL in production, SQLite embedded)."""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class UtcDateTime(TypeDecorator):
    """Timestamps stored as UTC and always read back timezone-aware (SQLite has no zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


whatsapp_user = sa.Table(
    "whatsapp_user",
    metadata,
    sa.Column("user_id", sa.String(128), primary_key=True),
    sa.Column("agent_id", sa.String(128), primary_key=True),
    sa.Column("agent_name", sa.String(256), nullable=False),
    sa.Column("api_key", sa.Text, nullable=True),
    sa.Column("endpoint_url_run", sa.Text, nullable=True),
    # Whether inbound media goes to the AI; null follows the deployment's INBOUND_MEDIA.
    sa.Column("inbound_media", sa.Boolean, nullable=True),
    sa.Column("status", sa.String(32), nullable=False, server_default="awaiting_qr"),
    sa.Column("last_connected_at", UtcDateTime, nullable=True),
    sa.Column("last_disconnected_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ux_whatsapp_user_agent_id", "agent_id", unique=True),
)

# Owned by another service; we only read it. Created by migrations in local/test databases.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(128), nullable=False, index=True),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime, nullable=False),
)


def sqlalchemy_url(database_url: str) -> str:
    """Translate DATABASE_URL into the SQLAlchemy URL with the psycopg2 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg2://" + database_url[len(prefix) :]
    return database_url


def create_db_engine(database_url: str, pool_size: int = 5, iam_auth: bool = False) -> Engine:
    """Create a pooled engine; SQLite gets WAL and a busy timeout for concurrent workers.

    With `iam_auth` (DATABASE_IAM_AUTH, for RDS Proxy) every new PostgreSQL connection
    carries a fresh IAM authentication token as its password: tokens live 15 minutes, pooled
    connections outlive them, and no database password is stored anywhere.
    """
    url = sqlalchemy_url(database_url)
    if iam_auth and url.startswith("sqlite"):
        raise ValueError("DATABASE_IAM_AUTH needs a PostgreSQL DATABASE_URL")
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        return engine
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=300,
        connect_args={"connect_timeout": 5},
    )
    if iam_auth:
        sa.event.listen(engine, "do_connect", _iam_token_password)
    return engine


@functools.cache
def _rds() -> Any:
    import boto3  # the Lambda runtime ships it; only IAM-authenticated deployments import it

    return boto3.client("rds")


def _iam_token_password(_dialect, _record, _cargs, cparams: dict) -> None:
    """Put a fresh IAM auth token for this host, port and user in the connection's password."""
    cparams["password"] = _rds().generate_db_auth_token(
        DBHostname=cparams["host"], Port=int(cparams.get("port") or 5432), DBUsername=cparams["user"]
    )


def init_app(app: Flask, database_url: str, pool_size: int, iam_auth: bool = False) -> None:
    """Attach the engine to the app."""
    app.extensions["db_engine"] = create_db_engine(database_url, pool_size, iam_auth=iam_auth)


def get_engine() -> Engine:
    """Return the current app's engine."""
    return current_app.extensions["db_engine"]

"""The gateway's database for a stack: a private PostgreSQL database, or a SQLite file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa

from functions import migrate
from functions.db import sqlalchemy_url

PG_SERVER_URL = os.environ.get("TEST_PG_SERVER_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres")


def _admin() -> sa.Engine:
    # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; the project uses psycopg2.
    return sa.create_engine(sqlalchemy_url(PG_SERVER_URL), isolation_level="AUTOCOMMIT")


def create_database(prefix: str = "wagw_stack") -> str:
    """Create and migrate a private PostgreSQL database on the machine's server; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    return url


def drop_database(url: str) -> None:
    """Drop a database made by create_database."""
    name = url.rsplit("/", 1)[1]
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def sqlite_database(path: Path) -> str:
    """Create or upgrade a SQLite database file; return its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return url

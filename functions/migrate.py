"""Bring the database schema up to date: `python -m functions.migrate`."""

from __future__ import annotations

import os
import sys

import sqlalchemy.exc
from alembic import command
from alembic.config import Config

from functions.config import get_settings
from functions.db import sqlalchemy_url

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config(database_url: str, create_api_keys: bool) -> Config:
    """Build the Alembic configuration programmatically (no alembic.ini to keep in sync)."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    config.attributes["create_api_keys"] = create_api_keys
    return config


def upgrade(database_url: str, create_api_keys: bool = True) -> None:
    """Apply every pending migration."""
    command.upgrade(alembic_config(database_url, create_api_keys), "head")


def main() -> None:
    """Migrate the configured database; `api_keys` is only created outside production."""
    settings = get_settings()
    try:
        upgrade(settings.database_url, create_api_keys=settings.app_env != "production")
    except (sqlalchemy.exc.OperationalError, OSError) as exc:
        detail = getattr(exc, "orig", None) or exc
        sys.exit(f"database error: DATABASE_URL: {str(detail).strip().splitlines()[0]}")
    print("database is up to date")


if __name__ == "__main__":
    main()

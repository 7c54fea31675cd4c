"""Shared fixtures: a real Redis server and a real PostgreSQL database per test run.

Each pytest run starts its own `redis-server` on a free port and creates its own
PostgreSQL database, so concurrent runs never see each other's data; both are removed
at the end. SQLite files live in the run's temporary directory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from devstack.database import create_database, drop_database
from functions import migrate
from functions.config import Settings
from functions.db import sqlalchemy_url
from tests.support.apps import close_app
from tests.support.processes import start_redis


def pytest_unconfigure(config: pytest.Config) -> None:
    """Keep interpreter-exit log calls quiet once pytest has closed its capture streams.

    undetected-chromedriver registers a weakref finalizer per driver that logs "ensuring
    close" at exit, after pytest closed the streams its handlers write to.
    """
    logging.raiseExceptions = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run fast tests first and browser end-to-end tests last."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a directory for this run's logs and files."""
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="session")
def redis_server(run_dir: Path) -> Iterator[str]:
    """Return the URL of this run's private Redis."""
    process, url = start_redis(run_dir)
    yield url
    process.stop()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """Return the Redis URL with the database emptied before the test."""
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """Return a decoding client on the emptied Redis."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Create a private, migrated PostgreSQL database for this run."""
    url = create_database("wagw_test")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def sqlite_url(run_dir: Path) -> str:
    """Create a migrated SQLite database for this run."""
    url = f"sqlite:///{run_dir / 'gateway.db'}"
    migrate.upgrade(url)
    return url


def _truncate(url: str) -> None:
    engine = sa.create_engine(sqlalchemy_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM whatsapp_user"))
        conn.execute(sa.text("DELETE FROM api_keys"))
    engine.dispose()


@pytest.fixture(params=["postgres", "sqlite"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Return an emptied database URL: the test runs once on PostgreSQL and once on SQLite."""
    url = request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")
    _truncate(url)
    return url


@pytest.fixture
def clean_pg_url(pg_url: str) -> str:
    """Return the PostgreSQL URL with both tables emptied."""
    _truncate(pg_url)
    return pg_url


@pytest.fixture
def settings_factory(redis_url: str, clean_pg_url: str, run_dir: Path):
    """Build Settings on the test Redis and PostgreSQL, with overrides."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "app_env": "test",
            "database_url": clean_pg_url,
            "redis_url": redis_url,
            "temp_dir": str(run_dir / "tmp"),
            "events_secret": "test-events-secret",
            "qr_wait_seconds": 5,
            "log_level": "WARNING",
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(settings_factory) -> Settings:
    """Return default test settings."""
    return settings_factory()


@pytest.fixture
def app(settings: Settings):
    """Return the Flask app built on the test settings."""
    from functions.app import create_app

    application = create_app(settings)
    yield application
    close_app(application)


@pytest.fixture
def client(app):
    """Return a Flask test client."""
    return app.test_client()

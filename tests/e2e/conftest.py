"""One real stack per e2e module: Redis, PostgreSQL, simulator, gunicorn API, session host."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from devstack.stack import Stack
from functions.db import sqlalchemy_url


@contextmanager
def fresh_stack(
    tmp_path_factory: pytest.TempPathFactory,
    pg_url: str,
    hosts: tuple[str, ...] = ("host-a",),
    api: dict[str, object] | None = None,
    host: dict[str, object] | None = None,
) -> Iterator[Stack]:
    """Start the gateway's processes on an emptied database; stop them by pid at the end."""
    engine = sa.create_engine(sqlalchemy_url(pg_url))
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM whatsapp_user"))
    engine.dispose()
    run_dir = tmp_path_factory.mktemp("e2e")
    settings = {"media_url_allowlist": "127.0.0.1", "send_wait_seconds": 25, **(api or {})}
    running = Stack(run_dir, pg_url, api=settings, host=host)
    try:
        running.start(hosts=hosts)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    """One stack with one session host for the module."""
    with fresh_stack(tmp_path_factory, pg_url) as running:
        yield running


def chrome_processes(profile: Path) -> list[psutil.Process]:
    """Return every Chrome process started on a profile directory."""
    marker = f"--user-data-dir={profile}"
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if marker in (proc.info["cmdline"] or []) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def chrome_main(profile: Path) -> psutil.Process:
    """Return the browser (main) process of a profile's Chrome."""
    mains = [p for p in chrome_processes(profile) if not any(a.startswith("--type=") for a in p.cmdline())]
    assert len(mains) == 1, f"expected one Chrome on {profile}, found {len(mains)}"
    return mains[0]

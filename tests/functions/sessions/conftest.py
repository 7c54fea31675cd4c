"""Fixtures for the sessions tests: stand-in session hosts on the test Redis."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from flask import Flask

from functions.app import create_app
from tests.support.apps import close_app
from tests.support.host import FakeHost, finish_pending

_ids = itertools.count(1)


@pytest.fixture
def host_factory(redis_url: str) -> Iterator:
    """Create registered, heart-beating stand-in hosts; all are stopped after the test."""
    made: list[FakeHost] = []

    def make(host_id: str | None = None, capacity: int = 10, register: bool = True) -> FakeHost:
        host = FakeHost(redis_url, host_id or f"host-{next(_ids)}", capacity=capacity)
        if register:
            host.register()
        made.append(host)
        return host

    yield make
    finish_pending()
    for host in made:
        host.stop()


@pytest.fixture
def host(host_factory) -> FakeHost:
    """Return one registered stand-in host."""
    return host_factory()


@pytest.fixture
def make_app(settings_factory) -> Iterator:
    """Build apps on the test settings with overrides; all are closed after the test."""
    made: list[Flask] = []

    def make(**overrides: object) -> Flask:
        app = create_app(settings_factory(**overrides))
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)

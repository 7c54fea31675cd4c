"""Repository queries, run once on PostgreSQL and once on SQLite; migrations idempotent."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from devstack.database import PG_SERVER_URL
from functions import migrate, repository
from functions.db import api_keys, create_db_engine, sqlalchemy_url


@pytest.fixture
def engine(db_url):
    engine = create_db_engine(db_url, pool_size=4)
    yield engine
    engine.dispose()


def upsert(engine, agent_id="agent-1", user_id="user-1", name="Bot", api_key="k", endpoint="http://ai/x"):
    return repository.upsert_agent(
        engine,
        user_id=user_id,
        agent_id=agent_id,
        agent_name=name,
        api_key=api_key,
        endpoint_url_run=endpoint,
    )


def test_upsert_creates_a_record_awaiting_qr(engine):
    row, created = upsert(engine)

    assert created is True
    assert row["user_id"] == "user-1" and row["agent_id"] == "agent-1" and row["agent_name"] == "Bot"
    assert row["api_key"] == "k" and row["endpoint_url_run"] == "http://ai/x"
    assert row["status"] == "awaiting_qr"
    assert row["last_connected_at"] is None and row["last_disconnected_at"] is None
    assert row["created_at"].tzinfo is not None and row["created_at"] == row["updated_at"]
    assert abs(datetime.now(UTC) - row["created_at"]) < timedelta(minutes=1)
    assert repository.get_agent(engine, "agent-1") == row


def test_upsert_updates_name_key_and_endpoint_but_keeps_status_and_creation(engine):
    first, _ = upsert(engine)
    repository.set_status(engine, "agent-1", "connected")

    row, created = upsert(engine, name="Renamed", api_key="k2", endpoint="http://ai/y")

    assert created is False
    assert (row["agent_name"], row["api_key"], row["endpoint_url_run"]) == ("Renamed", "k2", "http://ai/y")
    assert row["status"] == "connected"
    assert row["created_at"] == first["created_at"]
    assert row["updated_at"] >= first["updated_at"]


def test_an_agent_id_belongs_to_one_user(engine):
    upsert(engine)

    with pytest.raises(repository.AgentOwnedByAnotherUser):
        upsert(engine, user_id="user-2", name="Hijack")

    assert repository.get_agent(engine, "agent-1")["agent_name"] == "Bot"


def test_concurrent_first_upserts_of_the_same_agent_both_succeed(engine):
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def create(n: int) -> None:
        barrier.wait()
        try:
            outcomes.append(upsert(engine, name=f"Bot {n}")[1])
        except Exception as exc:  # the assertion below shows what went wrong
            outcomes.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes, key=str) == [False, False, False, True]


def test_get_unknown_agent_is_none(engine):
    assert repository.get_agent(engine, "nobody") is None


def test_active_api_key_is_the_newest_active_token_of_the_user(engine):
    with engine.begin() as conn:
        conn.execute(
            api_keys.insert(),
            [
                {"user_id": "u", "access_token": "old", "is_active": True, "created_at": _at(1)},
                {"user_id": "u", "access_token": "new", "is_active": True, "created_at": _at(2)},
                {"user_id": "u", "access_token": "revoked", "is_active": False, "created_at": _at(3)},
                {"user_id": "other", "access_token": "theirs", "is_active": True, "created_at": _at(4)},
            ],
        )

    assert repository.active_api_key(engine, "u") == "new"
    assert repository.active_api_key(engine, "nobody") is None


def test_same_creation_time_picks_the_last_inserted(engine):
    with engine.begin() as conn:
        conn.execute(api_keys.insert(), {"user_id": "u", "access_token": "a", "created_at": _at(1)})
        conn.execute(api_keys.insert(), {"user_id": "u", "access_token": "b", "created_at": _at(1)})

    assert repository.active_api_key(engine, "u") == "b"


@pytest.mark.parametrize(
    ("status", "connected", "disconnected"),
    [
        ("connected", True, False),
        ("disconnected", False, True),
        ("auth_failed", False, True),
        ("awaiting_qr", False, False),
    ],
)
def test_set_status_stamps_the_transition(engine, status, connected, disconnected):
    upsert(engine)
    # a non-UTC offset is stored as the same instant and read back in UTC
    at = datetime(2026, 5, 1, 17, 30, tzinfo=timezone(timedelta(hours=7)))

    assert repository.set_status(engine, "agent-1", status, at=at) is True

    row = repository.get_agent(engine, "agent-1")
    assert row["status"] == status
    assert row["updated_at"] == at and row["updated_at"].utcoffset() == timedelta(0)
    assert row["last_connected_at"] == (at if connected else None)
    assert row["last_disconnected_at"] == (at if disconnected else None)


def test_set_status_refuses_unknown_statuses_and_reports_unknown_agents(engine):
    upsert(engine)

    with pytest.raises(ValueError, match="unknown status"):
        repository.set_status(engine, "agent-1", "sleeping")
    assert repository.set_status(engine, "nobody", "connected") is False


def test_set_api_key(engine):
    upsert(engine)

    assert repository.set_api_key(engine, "agent-1", "fresh") is True
    assert repository.get_agent(engine, "agent-1")["api_key"] == "fresh"
    assert repository.set_api_key(engine, "nobody", "x") is False


def test_delete_reports_whether_there_was_a_record(engine):
    upsert(engine)

    assert repository.delete_agent(engine, "agent-1") is True
    assert repository.delete_agent(engine, "agent-1") is False
    assert repository.get_agent(engine, "agent-1") is None


@pytest.fixture(params=["postgres", "sqlite"])
def empty_database(request, run_dir):
    """Return the URL of a database no migration has touched yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{run_dir / f'empty-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"wagw_empty_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(sqlalchemy_url(PG_SERVER_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_are_idempotent(empty_database):
    migrate.upgrade(empty_database)
    migrate.upgrade(empty_database)

    engine = create_db_engine(empty_database)
    inspector = sa.inspect(engine)
    assert {"whatsapp_user", "api_keys", "alembic_version"} <= set(inspector.get_table_names())
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    unique = [ix for ix in inspector.get_indexes("whatsapp_user") if ix["column_names"] == ["agent_id"]]
    assert unique and unique[0]["unique"]
    engine.dispose()


def test_production_migrations_leave_api_keys_to_its_owner(empty_database):
    migrate.upgrade(empty_database, create_api_keys=False)

    engine = create_db_engine(empty_database)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert "whatsapp_user" in tables and "api_keys" not in tables


def _at(hour: int) -> datetime:
    return datetime(2026, 1, 1, hour, tzinfo=UTC)

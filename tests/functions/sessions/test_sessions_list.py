"""GET /sessions: records with live state, status and host filters, cursor pagination."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from functions import repository
from functions.db import sqlalchemy_url


def add_agents(url: str, statuses: dict[str, str]) -> None:
    engine = sa.create_engine(sqlalchemy_url(url))
    for agent_id, status in statuses.items():
        repository.upsert_agent(
            engine, user_id="u1", agent_id=agent_id, agent_name=f"Name {agent_id}", api_key="k",
            endpoint_url_run="http://ai.invalid/run",
        )  # fmt: skip
        repository.set_status(engine, agent_id, status)
    engine.dispose()


AGENTS = {
    "a-1": "connected",
    "a-2": "awaiting_qr",
    "a-3": "connected",
    "a-4": "disconnected",
    "a-5": "connected",
}


@pytest.fixture
def listed(make_app, clean_pg_url):
    add_agents(clean_pg_url, AGENTS)
    return make_app().test_client()


def test_pages_follow_the_cursor_in_agent_id_order(listed) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = listed.get("/sessions", query_string=query).get_json()
        pages += 1
        seen += [s["agentId"] for s in body["sessions"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
        assert "a-" not in cursor  # opaque, not the raw id

    assert seen == sorted(AGENTS) and pages == 3
    first = listed.get("/sessions", query_string={"limit": 5}).get_json()
    assert first["nextCursor"] is None and len(first["sessions"]) == 5


def test_status_filter_and_record_shape(listed, host) -> None:
    host.connect("a-3")

    body = listed.get("/sessions", query_string={"status": "connected"}).get_json()

    assert [s["agentId"] for s in body["sessions"]] == ["a-1", "a-3", "a-5"]
    third = body["sessions"][1]
    assert third["agentName"] == "Name a-3" and third["status"] == "connected"
    assert third["liveState"]["isReady"] is True and third["liveState"]["host"] == host.host_id
    assert "api_key" not in third and third["hasApiKey"] is True
    assert body["sessions"][0]["liveState"]["sessionState"] is None


def test_host_filter_lists_the_agents_a_host_owns(listed, host_factory) -> None:
    first, second = host_factory("host-one"), host_factory("host-two")
    for agent_id, owner in (("a-1", first), ("a-2", second), ("a-4", first)):
        assert first.registry.claim(agent_id, owner.host_id, None)

    by_first = listed.get("/sessions", query_string={"host": "host-one", "limit": 1}).get_json()
    rest = listed.get("/sessions", query_string={"host": "host-one", "cursor": by_first["nextCursor"]})
    nobody = listed.get("/sessions", query_string={"host": "host-none"}).get_json()

    assert [s["agentId"] for s in by_first["sessions"]] == ["a-1"]
    assert [s["agentId"] for s in rest.get_json()["sessions"]] == ["a-4"]
    assert nobody["sessions"] == [] and nobody["nextCursor"] is None


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "201"}, {"limit": "x"}, {"status": "sleeping"}, {"cursor": "!!"},
     {"cursor": "eyJ4IjogMX0"}],
)  # fmt: skip
def test_bad_parameters_are_invalid_payload(listed, query) -> None:
    response = listed.get("/sessions", query_string=query)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "INVALID_PAYLOAD"


def test_the_list_needs_the_admin_token_when_set(make_app, clean_pg_url) -> None:
    add_agents(clean_pg_url, {"a-1": "connected"})
    client = make_app(admin_token="list-token").test_client()

    assert client.get("/sessions").status_code == 401
    ok = client.get("/sessions", headers={"Authorization": "Bearer list-token"})
    assert ok.status_code == 200 and ok.get_json()["sessions"][0]["agentId"] == "a-1"

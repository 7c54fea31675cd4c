"""Host registry on a real Redis: liveness, placement by free capacity, owner compare-and-set."""

from __future__ import annotations

import threading

import pytest

from contract.hosts import HostRegistry, HostsReasserting, NoLiveHost
from contract.jobs import host_queue_name

NOW = 1_000_000.0


@pytest.fixture
def registry(redis_client) -> HostRegistry:
    return HostRegistry(redis_client, ttl=15)


def test_register_describes_the_host_and_its_queue(registry):
    registry.register("h1", capacity=4, now=NOW, metrics_url="http://h1:9100/metrics")

    [info] = registry.live_hosts(NOW)

    assert (info.host_id, info.capacity, info.agents, info.free) == ("h1", 4, 0, 4)
    assert info.queue == host_queue_name("h1") == "wagw-host-h1"
    assert info.metrics_url == "http://h1:9100/metrics"


def test_new_agents_go_to_the_host_with_most_free_capacity(registry):
    # given: a big host that is already busier than a small one (3 free against 5 free)
    registry.register("big", capacity=10, now=NOW)
    registry.register("small", capacity=5, now=NOW)
    for n in range(7):
        assert registry.claim(f"old-{n}", "big", None)

    # when
    placed = [registry.ensure_owner(f"a{n}", NOW).host_id for n in range(4)]

    # then: small until both have 3 free, the tie goes to the lowest id, then the freer one
    assert placed == ["small", "small", "big", "small"]
    assert registry.owner_of("a0") == "small"
    assert registry.agents_of("small") == {"a0", "a1", "a3"}
    assert {h.host_id: h.free for h in registry.live_hosts(NOW)} == {"big": 2, "small": 2}


def test_an_agent_stays_with_its_live_owner(registry):
    registry.register("h1", capacity=1, now=NOW)
    registry.register("h2", capacity=50, now=NOW)
    assert registry.claim("a1", "h1", None)

    assert registry.ensure_owner("a1", NOW).host_id == "h1"
    assert registry.owner_of("a1") == "h1"


def test_ties_go_to_the_lowest_host_id(registry):
    registry.register("h-b", capacity=5, now=NOW)
    registry.register("h-a", capacity=5, now=NOW)

    assert registry.choose_host(NOW).host_id == "h-a"


def test_a_host_with_a_stale_heartbeat_is_dead_and_gets_no_agents(registry):
    # given: "stale" beat 20 s ago (TTL 15 s) although it is far emptier
    registry.register("stale", capacity=100, now=NOW - 20)
    registry.register("fresh", capacity=2, now=NOW - 1)

    assert [h.host_id for h in registry.live_hosts(NOW)] == ["fresh"]
    assert registry.dead_hosts(NOW) == ["stale"]
    assert registry.ensure_owner("a1", NOW).host_id == "fresh"


def test_a_heartbeat_brings_a_host_back_to_life(registry):
    registry.register("h1", capacity=2, now=NOW - 30)
    assert registry.live_hosts(NOW) == []

    registry.heartbeat("h1", NOW)

    assert [h.host_id for h in registry.live_hosts(NOW)] == ["h1"]


def test_agents_of_a_dead_owner_move_to_a_live_host(registry):
    registry.register("dead", capacity=5, now=NOW - 60)
    registry.register("live", capacity=5, now=NOW)
    assert registry.claim("a1", "dead", None)

    assert registry.ensure_owner("a1", NOW).host_id == "live"
    assert registry.owner_of("a1") == "live"
    assert registry.agents_of("dead") == set()
    assert registry.agents_of("live") == {"a1"}


def test_no_live_host_is_a_clear_error(registry):
    registry.register("dead", capacity=5, now=NOW - 60)

    with pytest.raises(NoLiveHost, match="no session host"):
        registry.ensure_owner("a1", NOW)
    with pytest.raises(NoLiveHost):
        registry.choose_host(NOW)
    assert registry.owner_of("a1") is None


def test_full_hosts_take_no_new_agents(registry):
    registry.register("h1", capacity=1, now=NOW)
    registry.ensure_owner("a1", NOW)

    with pytest.raises(NoLiveHost, match="capacity"):
        registry.ensure_owner("a2", NOW)
    # an agent it already owns is still answered
    assert registry.ensure_owner("a1", NOW).host_id == "h1"


def test_claim_is_compare_and_set(registry):
    assert registry.claim("a1", "h1", None)
    # a second claimer that still believes nobody owns it loses
    assert not registry.claim("a1", "h2", None)
    # a claimer with a wrong expectation loses
    assert not registry.claim("a1", "h2", "h3")
    assert registry.owner_of("a1") == "h1"
    # the right expectation wins and moves the agent between the sets
    assert registry.claim("a1", "h2", "h1")
    assert registry.owner_of("a1") == "h2"
    assert registry.agents_of("h1") == set()
    assert registry.agents_of("h2") == {"a1"}


def test_concurrent_claims_have_one_winner(registry):
    barrier = threading.Barrier(8)
    wins: list[str] = []

    def claim(host_id: str) -> None:
        barrier.wait()
        if registry.claim("a1", host_id, None):
            wins.append(host_id)

    threads = [threading.Thread(target=claim, args=(f"h{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert len(wins) == 1
    assert registry.owner_of("a1") == wins[0]


def test_release_only_by_the_owner(registry):
    registry.claim("a1", "h1", None)

    registry.release("a1", "h2")
    assert registry.owner_of("a1") == "h1"

    registry.release("a1", "h1")
    assert registry.owner_of("a1") is None
    assert registry.agents_of("h1") == set()


def test_deregister_frees_every_agent_for_takeover(registry):
    registry.register("h1", capacity=5, now=NOW)
    registry.claim("a1", "h1", None)
    registry.claim("a2", "h1", None)

    registry.deregister("h1")

    assert registry.live_hosts(NOW) == []
    assert registry.owner_of("a1") is None
    assert registry.owner_of("a2") is None


def test_a_heartbeat_tells_whether_the_registry_entry_survived(registry, redis_client):
    registry.register("h1", capacity=2, now=NOW)
    assert registry.heartbeat("h1", NOW + 1) is True
    # when Redis loses everything (restart without persistence), the next beat notices
    redis_client.flushall()
    assert registry.heartbeat("h1", NOW + 2) is False
    assert registry.live_hosts(NOW + 2) == []


def test_fresh_heartbeats_without_a_registry_are_reasserting_not_absent(registry, redis_client):
    # given a host whose heartbeat came back after a flush, but not yet its registry entry
    registry.register("h1", capacity=2, now=NOW)
    redis_client.flushall()
    registry.heartbeat("h1", NOW)
    # then placing an agent says "retry shortly", not "no host"
    with pytest.raises(HostsReasserting):
        registry.ensure_owner("a1", NOW)
    # and once the host re-registers, placement works again
    registry.register("h1", capacity=2, now=NOW)
    assert registry.ensure_owner("a1", NOW).host_id == "h1"
    # while no heartbeat at all is still no host
    redis_client.flushall()
    with pytest.raises(NoLiveHost) as raised:
        registry.ensure_owner("a2", NOW)
    assert not isinstance(raised.value, HostsReasserting)

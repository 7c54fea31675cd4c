"""Registry of session hosts in Redis: heartbeats, capacity and which host owns which agent.

A host is live while its last heartbeat is younger than the TTL. New agents go to the live
host with the most free capacity; an agent whose owner stopped heart-beating is claimed by
another host with a compare-and-set, so two hosts never both believe they own it.
"""

from __future__ import annotations

import redis

from contract import keys
from contract.jobs import host_queue_name
from contract.keys import HOSTS_KEY
from contract.wire import WireModel

DEFAULT_HOST_TTL_SECONDS = 15.0


class NoLiveHost(RuntimeError):
    """Raised when no session host is heart-beating."""


class HostsReasserting(NoLiveHost):
    """Raised when hosts heart-beat but none is registered: Redis lost the registry, and the
    hosts re-register on their next heartbeat."""


class HostInfo(WireModel):
    """One registered session host as read from the registry."""

    host_id: str
    capacity: int
    agents: int
    heartbeat_at: float
    queue: str
    metrics_url: str | None = None

    @property
    def free(self) -> int:
        """Return how many more sessions this host accepts."""
        return self.capacity - self.agents


def host_key(host_id: str) -> str:
    """Return the hash key describing a host."""
    return keys.host(host_id)


def host_agents_key(host_id: str) -> str:
    """Return the set key of the agents a host owns."""
    return keys.host_agents(host_id)


def owner_key(agent_id: str) -> str:
    """Return the key naming the host that owns an agent."""
    return keys.owner(agent_id)


# KEYS: owner key, agents set of the expected owner, agents set of the new owner.
# ARGV: expected owner ('' for none), new owner, agent id.
_CLAIM = """
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[1] ~= '' then redis.call('SREM', KEYS[2], ARGV[3]) end
redis.call('SADD', KEYS[3], ARGV[3])
return ARGV[2]
"""

# KEYS: owner key, agents set of the host. ARGV: host id, agent id.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 1
"""


class HostRegistry:
    """Read and change the host registry (client must use decode_responses=True)."""

    def __init__(self, client: redis.Redis, ttl: float = DEFAULT_HOST_TTL_SECONDS):
        self.client = client
        self.ttl = ttl
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)

    def register(self, host_id: str, capacity: int, now: float, metrics_url: str | None = None) -> None:
        """Announce a host with its capacity and queue; counts as its first heartbeat."""
        fields = {"capacity": capacity, "queue": host_queue_name(host_id)}
        if metrics_url:
            fields["metricsUrl"] = metrics_url
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(host_key(host_id), mapping=fields)
            pipe.zadd(HOSTS_KEY, {host_id: now})
            pipe.execute()

    def heartbeat(self, host_id: str, now: float) -> bool:
        """Record that a host is alive; return False when its registry entry is gone."""
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(HOSTS_KEY, {host_id: now})
            pipe.exists(host_key(host_id))
            _, registered = pipe.execute()
        return bool(registered)

    def deregister(self, host_id: str) -> None:
        """Remove a host and release every agent it owned, for others to take over."""
        for agent_id in self.agents_of(host_id):
            self.release(agent_id, host_id)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(HOSTS_KEY, host_id)
            pipe.delete(host_key(host_id), host_agents_key(host_id))
            pipe.execute()

    def live_hosts(self, now: float) -> list[HostInfo]:
        """Return every host whose heartbeat is younger than the TTL."""
        beats = self.client.zrangebyscore(HOSTS_KEY, now - self.ttl, "+inf", withscores=True)
        return [info for host_id, beat in beats if (info := self._info(host_id, beat))]

    def dead_hosts(self, now: float) -> list[str]:
        """Return registered hosts whose heartbeat is older than the TTL."""
        return list(self.client.zrangebyscore(HOSTS_KEY, "-inf", f"({now - self.ttl}"))

    def _info(self, host_id: str, beat: float) -> HostInfo | None:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(host_key(host_id))
            pipe.scard(host_agents_key(host_id))
            fields, agents = pipe.execute()
        if not fields:
            return None
        return HostInfo(
            host_id=host_id,
            capacity=int(fields.get("capacity", 0)),
            agents=agents,
            heartbeat_at=beat,
            queue=fields.get("queue", host_queue_name(host_id)),
            metrics_url=fields.get("metricsUrl"),
        )

    def choose_host(self, now: float) -> HostInfo:
        """Return the live host with the most free capacity (ties: lowest id); none when all are full."""
        return _freest(self.live_hosts(now))

    def owner_of(self, agent_id: str) -> str | None:
        """Return the id of the host that owns an agent, if any."""
        return self.client.get(owner_key(agent_id))

    def agents_of(self, host_id: str) -> set[str]:
        """Return the agents a host owns."""
        return set(self.client.smembers(host_agents_key(host_id)))

    def claim(self, agent_id: str, host_id: str, expected: str | None) -> bool:
        """Make `host_id` the owner if the current owner is still `expected`."""
        old = expected or ""
        result = self._claim(
            keys=[owner_key(agent_id), host_agents_key(old), host_agents_key(host_id)],
            args=[old, host_id, agent_id],
        )
        return result == host_id

    def release(self, agent_id: str, host_id: str) -> None:
        """Drop `host_id`'s ownership of an agent (no-op if another host owns it)."""
        self._release(keys=[owner_key(agent_id), host_agents_key(host_id)], args=[host_id, agent_id])

    def ensure_owner(self, agent_id: str, now: float) -> HostInfo:
        """Return the live owner of an agent, placing it on the freest live host if needed."""
        for _ in range(5):
            live = {h.host_id: h for h in self.live_hosts(now)}
            current = self.owner_of(agent_id)
            if current in live:
                return live[current]
            if not live and self.client.zcount(HOSTS_KEY, now - self.ttl, "+inf"):
                raise HostsReasserting("session hosts are re-registering after Redis lost its data")
            chosen = _freest(list(live.values()))
            if self.claim(agent_id, chosen.host_id, current):
                return chosen
        raise NoLiveHost("could not place the agent on a session host")


def _freest(hosts: list[HostInfo]) -> HostInfo:
    if not hosts:
        raise NoLiveHost("no session host is running")
    best = max(hosts, key=lambda h: (h.free, _reverse(h.host_id)))
    if best.free <= 0:
        raise NoLiveHost(f"every session host is at capacity ({len(hosts)} running)")
    return best


def _reverse(host_id: str) -> tuple[int, ...]:
    # max() picks the highest key; negated code points make the lowest id win ties.
    return tuple(-ord(c) for c in host_id)

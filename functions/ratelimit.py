"""Per-agent rate limiter shared by every process: a token bucket kept atomically in Redis.

The bucket is stored as one "theoretical arrival time" (GCRA): each accepted request
pushes it forward by one emission interval, so a request's slot is known at once and
callers wait for it (or enqueue with `not_before`) instead of polling. `burst` requests
pass immediately; beyond that each one waits its turn, and when `max_waiting` requests
are already waiting the next is refused with RATE_LIMITED.
"""

from __future__ import annotations

import redis
from flask import Flask

from contract import keys
from functions.errors import RateLimited

# KEYS[1] bucket; ARGV: interval_us, burst, max_waiting, now_us ('' = Redis clock).
# Returns the wait in microseconds, or -1 when refused. Integer microseconds keep the
# arithmetic exact in Lua's doubles.
_ACQUIRE = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_waiting = tonumber(ARGV[3])
local now
if ARGV[4] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[4])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - burst * interval - now
if wait < 0 then wait = 0 end
if wait > max_waiting * interval + 0.5 then
  return -1
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return math.floor(wait)
"""


def bucket_key(agent_id: str) -> str:
    """Return the Redis key of an agent's bucket."""
    return keys.rate_bucket(agent_id)


class RateLimiter:
    """Grant per-agent send slots: `per_minute` rate, `burst` at once, `max_waiting` queued."""

    def __init__(self, redis_client: redis.Redis, per_minute: int, burst: int, max_waiting: int):
        if per_minute <= 0 or burst <= 0 or max_waiting < 0:
            raise ValueError("per_minute and burst must be positive, max_waiting not negative")
        self.client = redis_client
        self.interval_us = 60_000_000 / per_minute
        self.burst = burst
        self.max_waiting = max_waiting
        self._script = redis_client.register_script(_ACQUIRE)

    def acquire(self, agent_id: str, *, now: float | None = None) -> float:
        """Reserve the next slot; return seconds until it (0 = now) or raise RATE_LIMITED.

        `now` (epoch seconds) replaces the Redis clock, for deterministic tests.
        """
        now_arg = "" if now is None else str(round(now * 1_000_000))
        args = [repr(self.interval_us), self.burst, self.max_waiting, now_arg]
        waited_us = int(self._script(keys=[bucket_key(agent_id)], args=args))
        if waited_us < 0:
            raise RateLimited(
                f"too many messages for agent {agent_id!r}: {self.max_waiting} are already waiting; "
                "retry later"
            )
        return waited_us / 1_000_000

    def reset(self, agent_id: str) -> None:
        """Forget an agent's bucket (full burst available again)."""
        self.client.delete(bucket_key(agent_id))


def get_limiter(app: Flask) -> RateLimiter:
    """Return the app's deployment-wide limiter, configured by its settings (built once)."""
    limiter = app.extensions.get("rate_limiter")
    if limiter is None:
        settings = app.config["SETTINGS"]
        limiter = RateLimiter(
            app.extensions["redis"],
            per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
            max_waiting=settings.rate_limit_max_waiting,
        )
        app.extensions["rate_limiter"] = limiter
    return limiter

"""The redis_restart suite: how fast a stack heals after Redis comes back empty, and what a
restart with the append-only file loses.

One real stack (gunicorn API, one session host with one linked agent, Chromium, simulator,
Redis with its AOF, PostgreSQL). Recovery is timed from the moment the empty Redis answers to
the simulator's receive stamp of the first send that gets through (the client keeps trying,
as a user's would); the target is HOST_TTL_SECONDS + HEARTBEAT_SECONDS of the stack's host
settings. Lost sends: texts queued behind a slow rate limit, then Redis restarted from its
append-only file before they were due; every one should arrive exactly once.
"""

from __future__ import annotations

import contextlib
import sys
import time
import uuid
from collections import Counter
from typing import Any

import requests

from bench.registry import BenchContext, suite
from devstack.process import wait_until
from devstack.stack import TUNED_HOST, Stack

AGENT, PHONE, KEY = "bench-heal", "6281777990001", "bench-heal-key"
PEER = "6289900054321"
QUEUED = 10
# One send per second after the first, answers after 1 s: the queued sends wait for their slot.
API_SETTINGS = {"rate_limit_per_minute": 60, "rate_limit_burst": 1, "send_wait_seconds": 1}


def _send(stack: Stack, text: str) -> int:
    try:
        response = stack.api(
            "POST",
            f"/agents/{AGENT}/messages",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"to": PEER, "message": text},
            timeout=10,
        )
    except requests.RequestException:
        return 0
    return response.status_code


def _arrivals(stack: Stack, prefix: str) -> list[dict[str, Any]]:
    return [item for item in stack.sent(PHONE) if (item.get("text") or "").startswith(prefix)]


def recovery_seconds(stack: Stack) -> float:
    """Restart Redis empty; return seconds from its first answer to the first send delivered."""
    prefix = f"recovery {uuid.uuid4().hex[:6]} "
    stack.restart_redis(keep_data=False)
    back = time.time()
    attempts = iter(range(10_000))
    # A user retries on 503; a 202 means it is queued and will land on its own.
    wait_until(lambda: _send(stack, f"{prefix}{next(attempts)}") in (200, 202), 120, interval=0.2)
    first = wait_until(lambda: min((m["at"] for m in _arrivals(stack, prefix)), default=None), 60)
    return round(first - back, 2)


def lost_sends(stack: Stack) -> tuple[int, int]:
    """Queue sends behind the limiter, restart Redis from its AOF; return (lost, duplicated)."""
    prefix = f"queued {uuid.uuid4().hex[:6]} "
    texts = [f"{prefix}{n}" for n in range(QUEUED)]
    answers = [_send(stack, text) for text in texts]
    accepted = [text for text, status in zip(texts, answers, strict=True) if status in (200, 202)]
    stack.restart_redis(keep_data=True)
    with contextlib.suppress(AssertionError):  # what did not arrive in time is counted as lost
        wait_until(lambda: len(_arrivals(stack, prefix)) >= len(texts), QUEUED * 3 + 30, interval=0.5)
    received = Counter(item["text"] for item in _arrivals(stack, prefix))
    refused = len(texts) - len(accepted)
    lost = sum(1 for text in texts if text not in received)
    if refused:
        print(f"redis_restart: {refused} queued sends were refused before the restart", file=sys.stderr)
    return lost, sum(count - 1 for count in received.values() if count > 1)


@suite("redis_restart")
def redis_restart(ctx: BenchContext) -> dict[str, Any]:
    """Measure healing after an empty Redis and sends kept across an AOF restart."""
    stack = Stack(ctx.run_dir, ctx.database_url, api=API_SETTINGS)
    try:
        stack.start(hosts=("host-a",))
        stack.link(AGENT, PHONE, KEY)
        recovery = recovery_seconds(stack)
        lost, duplicates = lost_sends(stack)
    finally:
        stack.stop()
    target = TUNED_HOST["host_ttl_seconds"] + TUNED_HOST["heartbeat_seconds"]
    return {
        "redis_recovery_seconds": recovery,
        "redis_recovery_target_seconds": target,
        "redis_restart_lost_sends": lost,
        "redis_restart_duplicate_sends": duplicates,
    }

"""The per-agent limiter in real Redis: exact under concurrency across processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from functions.errors import RateLimited
from functions.ratelimit import RateLimiter, bucket_key
from tests.support.processes import ROOT
from tests.support.waiting import wait_until

NOW = 1_800_000_000.0

WORKER = textwrap.dedent(
    """
    import json, sys
    import redis
    from functions.errors import RateLimited
    from functions.ratelimit import RateLimiter

    url, attempts, now = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    client = redis.Redis.from_url(url)
    limiter = RateLimiter(client, per_minute=100, burst=100, max_waiting=500)
    client.rpush("ready", 1)
    client.blpop(["go"], timeout=30)
    outcomes = []
    for _ in range(attempts):
        try:
            outcomes.append(limiter.acquire("agent-x", now=now))
        except RateLimited:
            outcomes.append(None)
    print(json.dumps(outcomes))
    """
)


def test_burst_then_waiting_then_refused(redis_client):
    limiter = RateLimiter(redis_client, per_minute=100, burst=100, max_waiting=500)
    waits = [limiter.acquire("a", now=NOW) for _ in range(600)]
    assert waits[:100] == [0.0] * 100
    assert waits[100] == pytest.approx(0.6)
    assert waits[599] == pytest.approx(300.0)
    with pytest.raises(RateLimited) as refused:
        limiter.acquire("a", now=NOW)
    assert refused.value.status == 429
    # another agent has its own bucket
    assert limiter.acquire("b", now=NOW) == 0.0


def test_tokens_come_back_with_time(redis_client):
    limiter = RateLimiter(redis_client, per_minute=60, burst=2, max_waiting=0)
    assert limiter.acquire("a", now=NOW) == 0.0
    assert limiter.acquire("a", now=NOW) == 0.0
    with pytest.raises(RateLimited):
        limiter.acquire("a", now=NOW)
    assert limiter.acquire("a", now=NOW + 1.0) == 0.0
    with pytest.raises(RateLimited):
        limiter.acquire("a", now=NOW + 1.0)


def test_redis_clock_and_key_expiry(redis_client):
    limiter = RateLimiter(redis_client, per_minute=100, burst=1, max_waiting=5)
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(0.6, abs=0.05)
    assert 0 < redis_client.pttl(bucket_key("a")) <= 3_000
    limiter.reset("a")
    assert limiter.acquire("a") == 0.0


def test_exact_across_four_concurrent_processes(redis_client, redis_url):
    # given four processes each trying 200 sends at the same virtual instant
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, redis_url, "200", str(NOW)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        wait_until(lambda: redis_client.llen("ready") == 4, 30, message="workers ready")
        # when they all start at once
        redis_client.rpush("go", *["1"] * 4)
        outputs = [worker.communicate(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    # then exactly 100 pass at once, 500 wait their distinct turn, the rest are refused
    outcomes = [value for out, err in outputs for value in json.loads(out or f"[{err!r}]")]
    immediate = [w for w in outcomes if w == 0.0]
    waiting = sorted(w for w in outcomes if w)
    refused = [w for w in outcomes if w is None]
    assert len(outcomes) == 800
    assert len(immediate) == 100
    assert len(waiting) == 500
    assert len(refused) == 200
    assert waiting == pytest.approx([0.6 * k for k in range(1, 501)])

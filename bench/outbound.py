"""The outbound suite: send latency at a fixed rate, idle Chrome memory, restore time, lost/dup.

One real stack (API under gunicorn, one session host, Chromium, simulator, Redis, PostgreSQL).
Latency is measured from just before `POST /agents/{id}/messages` to the simulator's own
receive stamp (same machine, same wall clock). The per-agent rate limit is raised for the run
so the limiter does not shape the measured rate.
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import requests
from rq.job import Job

from bench import memory
from bench.registry import BenchContext, latency_summary, suite
from contract import jobs
from devstack.stack import Stack

SENDS = 2000
AGENTS = 5
RATE_PER_S = 50.0
RESTORE_AGENTS = 10
PEER = "6289900012345"
API_SETTINGS = {
    "rate_limit_per_minute": 100000,
    "rate_limit_burst": 100000,
    "rate_limit_max_waiting": 100000,
    "send_wait_seconds": 25,
}


def _phone(i: int) -> str:
    return f"6281777{i:05d}"


def _agent(i: int) -> str:
    return f"bench-agent-{i}"


def _key(i: int) -> str:
    return f"bench-key-{i}"


def send_latency(stack: Stack, sends: int = SENDS, agents: int = AGENTS, rate: float = RATE_PER_S):
    """Send `sends` texts round-robin over `agents` at `rate` per second; return results."""
    run = uuid.uuid4().hex[:8]
    started_at: dict[str, float] = {}
    errors: list[str] = []
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
    session.mount("http://", adapter)

    job_ids: list[str] = []

    def send(n: int) -> None:
        i = n % agents
        text = f"bench {run} {n}"
        started_at[text] = time.time()
        response = session.post(
            f"{stack.api_url}/agents/{_agent(i)}/messages",
            headers={"Authorization": f"Bearer {_key(i)}"},
            json={"to": PEER, "message": text},
            timeout=60,
        )
        if response.status_code != 200:
            errors.append(f"{response.status_code} {response.text[:200]}")
        else:
            job_ids.append(response.json()["jobId"])

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=48) as pool:
        for n in range(sends):
            delay = t0 + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the load generator, not synchronising
            pool.submit(send, n)
    duration = time.monotonic() - t0

    pattern = re.compile(rf"^bench {run} (\d+)$")
    received: Counter[str] = Counter()
    latencies: list[float] = []
    for i in range(agents):
        for item in stack.sent(_phone(i)):
            text = item.get("text") or ""
            if pattern.match(text):
                received[text] += 1
                if received[text] == 1:
                    latencies.append((item["at"] - started_at[text]) * 1000)
    lost = sum(1 for text in started_at if text not in received)
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    return latency_summary(latencies, duration), lost, duplicates, errors, job_ids


def host_exec_ms(stack: Stack, job_ids: list[str]) -> dict[str, float]:
    """Return p50/p99 of the host's own execution of send jobs (RQ's started/ended times)."""
    connection = redis.Redis.from_url(stack.redis_url)
    try:
        found = Job.fetch_many(job_ids, connection=connection, serializer=jobs.SERIALIZER)
    finally:
        connection.close()
    spans = [
        (job.ended_at - job.started_at).total_seconds() * 1000
        for job in found
        if job is not None and job.started_at and job.ended_at
    ]
    return latency_summary(spans)


def restore_seconds(stack: Stack, agents: list[str], host_id: str = "host-a") -> float:
    """Restart the host and return the seconds until every agent is ready again (no QR)."""
    assert stack.host(host_id).stop(timeout=90) == 0
    started = time.monotonic()
    stack.start_host(host_id)
    for agent_id in agents:
        stack.wait_state(agent_id, lambda s: s["isReady"], 120)
    return round(time.monotonic() - started, 2)


@suite("outbound")
def outbound(ctx: BenchContext) -> dict[str, Any]:
    """Measure sends, memory (ours and the peers' browser, side by side) and restore on one host."""
    stack = Stack(ctx.run_dir, ctx.database_url, api=API_SETTINGS)
    try:
        stack.start(hosts=("host-a",))
        for i in range(AGENTS):
            stack.link(_agent(i), _phone(i), _key(i))
        latency, lost, duplicates, errors, job_ids = send_latency(stack)
        load = os.getloadavg()[0]
        print(f"sends: {latency}, lost {lost}, duplicated {duplicates}, errors {errors[:3]}", file=sys.stderr)
        if load > (os.cpu_count() or 1):
            print(
                f"warning: load average {load:.1f} above the core count: latencies are noise", file=sys.stderr
            )
        executed = host_exec_ms(stack, job_ids)
        pss_5 = memory.host_pss_mb(stack, [_agent(i) for i in range(AGENTS)])
        peer_5 = memory.peer_pss_mb(f"{stack.sim_url}/", AGENTS)
        for i in range(AGENTS, RESTORE_AGENTS):
            stack.link(_agent(i), _phone(i), _key(i))
        pss_10 = memory.host_pss_mb(stack, [_agent(i) for i in range(RESTORE_AGENTS)])
        restore = restore_seconds(stack, [_agent(i) for i in range(RESTORE_AGENTS)])
    finally:
        stack.stop()
    ours = memory.median_mb(pss_5)
    peer = memory.median_mb(peer_5)
    return {
        "send_latency_ms": latency,
        "host_exec_ms": executed,
        "send_overhead_ratio": memory.ratio(latency["p50"], executed["p50"]),
        "load_average_during_sends": round(load, 2),
        "send_errors": len(errors),
        "session_pss_mb": ours,
        "session_pss_mb_10": memory.median_mb(pss_10),
        "session_pss_marginal_mb": memory.marginal_mb(sum(pss_5), sum(pss_10), len(pss_5), len(pss_10)),
        "peer_session_pss_mb": peer,
        "pss_vs_peer": memory.ratio(ours, peer),
        "restore_seconds_10": restore,
        "lost_sends": lost,
        "duplicate_sends": duplicates,
    }

"""`python -m bench webhooks`: how fast and how completely events reach a webhook receiver.

2 000 inbound group messages (not addressed to the bot, so the AI stays out of it) are
injected into the simulator at 50/s for one agent with one webhook subscribed to `message`,
delivered by one worker. `webhook_latency_ms`: injection at the simulator until the receiver
got the event (both stamped on this machine's clock). `webhook_lost`: injected messages whose
event never arrived; `webhook_duplicates`: deliveries beyond the first of an event id.
`webhook_rate_per_s`: with the worker stopped, 1 000 more events are queued, then one worker
is started and times how fast it drains them (its throughput, not the offered 50/s).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

import redis

from bench.registry import BenchContext, latency_summary, suite
from devstack.process import WaitTimeout, wait_until
from devstack.receiver import Receiver
from devstack.stack import Stack, inbound_stack
from functions.webhooks.fanout import box_for
from functions.webhooks.registry import receiver_id
from functions.webhooks.schema import new_secret

MESSAGES = 2000
RATE_PER_S = 50.0
BACKLOG = 1000
GROUP = "120363000000000999@g.us"


@suite("webhooks")
def webhooks(ctx: BenchContext) -> dict[str, Any]:
    """Measure webhook latency, loss and duplicates at 50/s, then one worker's drain rate."""
    api = {"webhook_url_allowlist": "127.0.0.1", "log_level": "WARNING"}
    with inbound_stack(ctx.run_dir, ctx.database_url, workers=1, **api) as (stack, _ai, workers):
        receiver = Receiver(new_secret())
        try:
            agent_id, phone = _agent(stack, receiver)
            results = measure(stack, receiver, phone)
            workers.stop()
            results["webhook_rate_per_s"] = drain_rate(stack, receiver, agent_id, phone, workers)
            results["webhook_signatures_verified"] = all(d.verified for d in receiver.all())
            return results
        finally:
            receiver.close()


def _agent(stack: Stack, receiver: Receiver) -> tuple[str, str]:
    phone = f"62813{uuid.uuid4().int % 10**8:08d}"
    agent_id, key = f"bench-hooks-{phone[-4:]}", "bench-hooks-key"
    stack.link(agent_id, phone, key)
    body = {"webhooks": [{"url": receiver.url, "events": ["message"], "secret": receiver.secret}]}
    answer = stack.api(
        "PUT", f"/agents/{agent_id}/webhooks", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    return agent_id, phone


def _inject(stack: Stack, phone: str, text: str) -> str:
    body = {"from": "6287700000001", "body": text, "group": {"id": GROUP}}
    return stack.sim("POST", f"/control/accounts/{phone}/inbound", json=body)["id"]


def measure(stack: Stack, receiver: Receiver, phone: str, count: int = MESSAGES) -> dict[str, Any]:
    """Inject `count` messages at RATE_PER_S; return latency, lost and duplicate figures."""
    injected: dict[str, float] = {}
    started = time.monotonic()
    for n in range(count):
        # Paced on a schedule (not a sleep after each), so slow injections do not lower the rate.
        delay = started + n / RATE_PER_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        at = time.time()
        injected[_inject(stack, phone, f"hook bench {n}")] = at
    _settle(receiver, set(injected))
    first: dict[str, float] = {}
    deliveries = 0
    for delivery in receiver.accepted():
        message_id = delivery.body["data"]["id"]
        if message_id in injected:
            deliveries += 1
            first.setdefault(message_id, delivery.at)
    latencies = [(first[m] - injected[m]) * 1000 for m in first]
    return {
        "webhook_latency_ms": latency_summary(latencies),
        "webhook_lost": len(set(injected) - set(first)),
        "webhook_duplicates": deliveries - len(first),
    }


def _settle(receiver: Receiver, expected: set[str], timeout: float = 120) -> None:
    """Wait until every expected event arrived, or the deadline passed (then they count as lost)."""

    def arrived() -> bool:
        return expected <= {d.body["data"]["id"] for d in receiver.accepted()}

    with contextlib.suppress(WaitTimeout):
        wait_until(arrived, timeout, interval=0.2, message="webhook events")


def drain_rate(stack: Stack, receiver: Receiver, agent_id: str, phone: str, workers: Any) -> float:
    """Queue BACKLOG events with no worker running, then time one worker delivering them."""
    client = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    box = box_for(agent_id, receiver_id(receiver.url)).key
    ids = {_inject(stack, phone, f"backlog {n}") for n in range(BACKLOG)}
    wait_until(lambda: client.llen(box) >= BACKLOG, 120, interval=0.2, message="backlog queued")
    started = time.monotonic()
    workers.start(1)
    wait_until(
        lambda: ids <= {d.body["data"]["id"] for d in receiver.accepted()},
        300,
        interval=0.1,
        message="backlog",
    )
    return round(BACKLOG / (time.monotonic() - started), 1)

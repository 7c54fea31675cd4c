"""`python -m bench inbound`: how fast a WhatsApp user's message reaches the AI and is answered.

`inbound_latency_ms`: a simulated user's message injected into the simulator until the demo
AI backend receives the request. `inbound_reply_ms`: until the agent's page has sent the
reply in the simulator, with an instant AI. Messages go one at a time (latency, not
throughput) over two agents, with one inbound worker as `make run` starts. Both figures are
wall-clock differences on this one machine: the AI backend and the simulator stamp their
own receive times, so polling for the result adds nothing to them.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from bench.registry import BenchContext, latency_summary, suite
from devstack.ai import AiBackend
from devstack.process import wait_until
from devstack.stack import Stack, inbound_stack

MESSAGES = 200
AGENTS = 2


@suite("inbound")
def inbound(ctx: BenchContext) -> dict[str, Any]:
    """Measure inbound latency to the AI and to the reply on the real stack."""
    # The limiter is not what is measured here: lift it for the run.
    limits = {"rate_limit_per_minute": 100000, "rate_limit_burst": 100000}
    with inbound_stack(ctx.run_dir, ctx.database_url, workers=1, **limits) as (stack, ai, _workers):
        return measure(stack, ai)


def measure(stack: Stack, ai: AiBackend, count: int = MESSAGES, agents: int = AGENTS) -> dict[str, Any]:
    """Send `count` messages one at a time from simulated users; return both latency figures."""
    ai.behave(delaySeconds=0, status=200, reply=None)
    phones = [f"62813{uuid.uuid4().int % 10**8:08d}" for _ in range(agents)]
    for i, phone in enumerate(phones):
        stack.link(f"bench-inbound-{i}-{phone[-4:]}", phone, api_key=f"bench-key-{i}")
    to_ai: list[float] = []
    to_reply: list[float] = []
    for n in range(count):
        phone = phones[n % agents]
        user = f"62877{n:08d}"
        text = f"bench {uuid.uuid4().hex[:10]}"
        before = len(stack.sent(phone))
        started = time.time()
        stack.sim("POST", f"/control/accounts/{phone}/inbound", json={"from": user, "body": text})
        reply = wait_until(
            lambda p=phone, b=before, u=user: next(
                (s for s in stack.sent(p)[b:] if s["to"].startswith(u) and s.get("text")), None
            ),
            30,
            interval=0.01,
            message="reply in the simulator",
        )
        request = next(r for r in ai.received() if (r.get("body") or {}).get("input") == text)
        to_ai.append((request["receivedAt"] - started) * 1000)
        to_reply.append((reply["at"] - started) * 1000)
    return {"inbound_latency_ms": latency_summary(to_ai), "inbound_reply_ms": latency_summary(to_reply)}

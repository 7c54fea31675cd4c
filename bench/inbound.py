"""`python -m bench inbound`: how fast a WhatsApp user's message reaches the AI and is answered.

`inbound_latency_ms`: a simulated user's message injected into the simulator until the demo
AI backend receives the request. `inbound_reply_ms`: until the agent's page has sent the
reply in the simulator, with an instant AI. `inbound_media_reply_ms`: the same for a 200 KB
image to an agent with inbound media on (the host downloads it through the page, the demo
AI fetches it through its link, then answers). Messages go one at a time (latency, not
throughput) over two agents, with one inbound worker as `make run` starts. Both figures are
wall-clock differences on this one machine: the AI backend and the simulator stamp their
own receive times, so polling for the result adds nothing to them.
"""

from __future__ import annotations

import base64
import os
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
        return {**measure(stack, ai), **measure_media(stack, ai)}


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


MEDIA_MESSAGES = 50
MEDIA_BYTES = 200 * 1024


def measure_media(stack: Stack, ai: AiBackend, count: int = MEDIA_MESSAGES) -> dict[str, Any]:
    """Send `count` 200 KB images one at a time to an agent with inbound media on."""
    ai.behave(delaySeconds=0, status=200, reply=None)
    phone = f"62813{uuid.uuid4().int % 10**8:08d}"
    agent_id, key = f"bench-media-{phone[-4:]}", "bench-media-key"
    body = {"userId": "bench", "agentId": agent_id, "agentName": "media", "apikey": key, "inboundMedia": True}
    created = stack.api("POST", "/sessions", json=body, headers=stack.admin_headers)
    assert created.status_code in (200, 201), created.text
    stack.scan_current(agent_id, phone)
    stack.wait_state(agent_id, lambda s: s["isReady"], 60)
    image = {"data": base64.b64encode(os.urandom(MEDIA_BYTES)).decode(), "mimetype": "image/jpeg"}
    to_reply: list[float] = []
    for n in range(count):
        user = f"62878{n:08d}"
        before = len(stack.sent(phone))
        started = time.time()
        message = {"from": user, "type": "image", "body": f"photo {n}", "media": image}
        stack.sim("POST", f"/control/accounts/{phone}/inbound", json=message)
        reply = wait_until(
            lambda b=before, u=user: next(
                (s for s in stack.sent(phone)[b:] if s["to"].startswith(u) and s.get("text")), None
            ),
            60,
            interval=0.01,
            message="reply to the image",
        )
        to_reply.append((reply["at"] - started) * 1000)
    return {"inbound_media_reply_ms": latency_summary(to_reply)}

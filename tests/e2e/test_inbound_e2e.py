"""Inbound messages end to end: simulator → Chromium page → session host → API → worker → AI → back.

One real stack for the module: Redis, PostgreSQL, the simulator, gunicorn, one session host
with Chromium, two inbound workers and the demo AI backend, all stopped by pid at the end.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator

import pytest
import requests

from contract.events import EVENTS_PATH, EventType, InboundMessage, SessionEvent, sign
from devstack.ai import AiBackend
from devstack.process import wait_until
from devstack.stack import DEVELOPER_PHONE, EVENTS_SECRET, Stack, inbound_stack
from devstack.workers import Workers

pytestmark = pytest.mark.e2e

USER = "6281234500001"
USER_JID = f"{USER}@c.us"
GROUP = "120363000000000077@g.us"


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[tuple[Stack, AiBackend, Workers]]:
    run_dir = tmp_path_factory.mktemp("e2e-inbound")
    # A burst above the 200-message test's needs: this module tests the flow, not the limiter.
    with inbound_stack(run_dir, pg_url, workers=2, rate_limit_burst=300) as running:
        yield running


@pytest.fixture(scope="module")
def stack(rig) -> Stack:
    return rig[0]


@pytest.fixture(scope="module")
def ai(rig) -> AiBackend:
    return rig[1]


@pytest.fixture(scope="module")
def workers(rig) -> Workers:
    return rig[2]


class Agent:
    """A linked agent: its id, key and phone."""

    def __init__(self, stack: Stack, name: str, phone: str):
        self.stack = stack
        self.id = f"inbound-{name}"
        self.key = f"key-{name}"
        self.phone = phone
        stack.link(self.id, phone, self.key)

    def inbound(self, **body) -> str:
        """Deliver a message to this agent's number; return its WhatsApp id."""
        return self.stack.sim("POST", f"/control/accounts/{self.phone}/inbound", json=body)["id"]

    def sent(self) -> list[dict]:
        """Return what this agent's page sent."""
        return self.stack.sent(self.phone)

    def replies_to(self, jid: str) -> list[dict]:
        """Return the texts this agent sent to one chat."""
        return [s for s in self.sent() if s["to"] == jid]

    def wait_replies(self, jid: str, count: int, timeout: float = 30) -> list[dict]:
        """Wait until `count` messages went to `jid`; return them."""
        return wait_until(
            lambda: len(found := self.replies_to(jid)) >= count and found,
            timeout,
            message=f"{count} to {jid}",
        )


@pytest.fixture(scope="module")
def main_agent(stack: Stack) -> Agent:
    return Agent(stack, "main", "6281300000001")


def wait_typing_cleared(stack: Stack, agent: Agent) -> list[dict]:
    """Wait until the agent's last typing change is "paused"; return the changes (without times)."""

    def changes() -> list[dict]:
        found = stack.sim("GET", f"/control/accounts/{agent.phone}/typing")
        return [{"chatId": t["chatId"], "state": t["state"]} for t in found]

    return wait_until(lambda: (c := changes()) and c[-1]["state"] == "paused" and c, 15, message="typing off")


def barrier(agent: Agent, ai: AiBackend, user: str) -> None:
    """Send a direct message and wait for its reply: whatever was sent before is done."""
    text = f"barrier {time.monotonic_ns()}"
    agent.inbound(**{"from": user, "body": text})
    wait_until(lambda: any(s["text"] == f"Echo: {text}" for s in agent.sent()), 30, message="barrier reply")


def test_a_direct_message_is_answered_by_the_ai(stack, ai, main_agent):
    # when a user writes to the agent's number
    main_agent.inbound(**{"from": USER, "body": "Halo, ada promo?", "notifyName": "Budi"})
    # then the user receives the AI's reply
    (reply,) = main_agent.wait_replies(USER_JID, 1)
    assert reply["text"] == "Echo: Halo, ada promo?"
    assert reply["quotedMsgId"] is None
    # and the AI request carried input, session_id, metadata and the agent's key
    (request,) = ai.received(main_agent.id)
    assert request["authorization"] == f"Bearer {main_agent.key}"
    body = request["body"]
    assert body["input"] == "Halo, ada promo?"
    assert body["session_id"] == USER_JID
    assert body["metadata"]["whatsappName"] == "Budi"
    assert body["metadata"]["chatId"] == USER_JID
    assert body["metadata"]["messageId"]
    # and typing was shown, then cleared
    typing = wait_typing_cleared(stack, main_agent)
    assert typing[0] == {"chatId": USER_JID, "state": "composing"}
    assert typing[-1] == {"chatId": USER_JID, "state": "paused"}


def test_group_messages_are_answered_only_when_the_bot_is_mentioned(ai, main_agent):
    group = {"id": GROUP, "name": "Pelanggan"}
    bot_jid = f"{main_agent.phone}@c.us"
    main_agent.inbound(**{"from": USER, "body": "hello everyone", "group": group})
    mention_id = main_agent.inbound(
        **{"from": USER, "body": "@bot price?", "group": group, "mentions": [bot_jid]}
    )
    (reply,) = main_agent.wait_replies(GROUP, 1)
    assert reply["text"] == "Echo: @bot price?"
    assert reply["quotedMsgId"] == mention_id
    assert "hello everyone" not in [r["body"]["input"] for r in ai.received(main_agent.id)]


def test_status_from_me_and_images_never_reach_the_ai(ai, main_agent):
    before = len(ai.received(main_agent.id))
    main_agent.inbound(**{"from": USER, "body": "my story", "status": True})
    main_agent.inbound(**{"from": USER, "body": "sent from my phone", "fromMe": True})
    main_agent.inbound(**{"from": USER, "body": "look", "type": "image"})
    barrier(main_agent, ai, "6281234500099")
    inputs = [r["body"]["input"] for r in ai.received(main_agent.id)[before:]]
    assert len(inputs) == 1 and inputs[0].startswith("barrier")


def test_a_duplicate_event_delivery_is_answered_once(stack, ai, main_agent):
    # given a message the host delivered
    user = "6281234500002"
    message_id = main_agent.inbound(**{"from": user, "body": "answer me once"})
    main_agent.wait_replies(f"{user}@c.us", 1)
    # when the same message arrives again as a new event (a host retry after a lost response)
    message = InboundMessage(
        id=message_id,
        chat_id=f"{user}@c.us",
        sender=f"{user}@c.us",
        body="answer me once",
        bot_id=f"{main_agent.phone}@c.us",
    )
    event = SessionEvent(type=EventType.MESSAGE, agent_id=main_agent.id, host_id="host-a", message=message)
    body = json.dumps(event.to_wire()).encode()
    headers = {"Content-Type": "application/json", **sign(body, EVENTS_SECRET, time.time())}
    assert (
        requests.post(stack.api_url + EVENTS_PATH, data=body, headers=headers, timeout=10).status_code == 202
    )
    # then, once later messages are answered, it still has one reply
    barrier(main_agent, ai, user)
    texts = [s["text"] for s in main_agent.replies_to(f"{user}@c.us")]
    assert texts.count("Echo: answer me once") == 1


@pytest.mark.parametrize(
    ("name", "behaviour", "code"),
    [
        ("slow", {"delaySeconds": 4}, "AI_TIMEOUT"),
        ("broken", {"status": 500}, "AI_DOWNSTREAM_ERROR"),
    ],
)
def test_an_ai_failure_alerts_the_developer_in_whatsapp(stack, ai, name, behaviour, code):
    # given an agent whose AI is too slow for the 2 s timeout, or failing
    agent = Agent(stack, name, f"628140000000{len(name)}")
    ai.behave(agent.id, **behaviour)
    # when a user writes
    agent.inbound(**{"from": USER, "body": "anyone there?"})
    # then the developer receives an alert through the same agent's WhatsApp
    (alert,) = agent.wait_replies(f"{DEVELOPER_PHONE}@c.us", 1, timeout=30)
    lines = alert["text"].splitlines()
    assert f"agent: {agent.id}" in lines
    assert f"from: {USER_JID}" in lines
    assert any(line.startswith(f"reason: {code}") for line in lines)
    assert any(line.startswith("traceId: ") and len(line) > len("traceId: ") for line in lines)
    assert agent.replies_to(USER_JID) == []
    # and typing was cleared
    assert wait_typing_cleared(stack, agent)[-1] == {"chatId": USER_JID, "state": "paused"}
    ai.behave(agent.id, delaySeconds=0, status=200)


def test_two_hundred_messages_across_five_agents_are_answered_once_each_in_order(stack, ai, main_agent):
    # given five linked agents, two chats each
    agents = [main_agent] + [Agent(stack, f"load-{i}", f"62815000000{i:02d}") for i in range(4)]
    chats = ["6287100000001", "6287100000002"]
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)
    # when 200 messages arrive, interleaved across agents and chats
    for n in range(20):
        for agent in agents:
            for chat in chats:
                text = f"order {agent.id} {chat} #{n:02d}"
                agent.inbound(**{"from": chat, "body": text})
                expected[(agent.id, chat)].append(f"Echo: {text}")
    # then every chat got its 20 replies, none twice, in order
    for agent in agents:
        for chat in chats:
            jid = f"{chat}@c.us"
            wait_until(
                lambda a=agent, j=jid: (
                    len([s for s in a.replies_to(j) if s["text"].startswith("Echo: order")]) >= 20
                ),
                120,
                message=f"20 replies from {agent.id} to {chat}",
            )
            got = [s["text"] for s in agent.replies_to(jid) if s["text"].startswith("Echo: order")]
            assert got == expected[(agent.id, chat)]


def test_a_worker_killed_mid_message_still_answers_once_after_restart(stack, ai, workers, main_agent):
    # given every worker busy or idle, and the AI slow enough to catch one mid-call
    user = "6281234500003"
    ai.behave(main_agent.id, delaySeconds=1.5)
    asked = len(ai.received(main_agent.id))
    main_agent.inbound(**{"from": user, "body": "survive this"})
    wait_until(lambda: len(ai.received(main_agent.id)) > asked, 30, message="the AI call started")
    # when the workers are SIGKILLed mid-call and started again
    workers.kill_all()
    ai.behave(main_agent.id, delaySeconds=0)
    workers.start(1)
    # then the user gets exactly one reply
    main_agent.wait_replies(f"{user}@c.us", 1, timeout=30)
    barrier(main_agent, ai, user)
    texts = [s["text"] for s in main_agent.replies_to(f"{user}@c.us")]
    assert texts.count("Echo: survive this") == 1

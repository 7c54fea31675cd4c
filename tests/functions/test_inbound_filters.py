"""Which inbound messages reach the AI, the AI payload, and the developer alert text (no I/O)."""

from __future__ import annotations

import pytest

from functions import alerts
from functions.inbound import Ignore, ai_payload, ignore_reason, mentions_bot
from tests.support.inbound import BOT, message

GROUP = "120363000000000001@g.us"


def test_a_direct_text_message_reaches_the_ai():
    assert ignore_reason(message("hello")) is None


@pytest.mark.parametrize(
    ("msg", "reason"),
    [
        (message("story", chat_id="status@broadcast"), Ignore.STATUS),
        (message("story", is_status=True), Ignore.STATUS),
        (message("promo", chat_id="1234567890@broadcast", is_broadcast=True), Ignore.BROADCAST),
        (message("promo", chat_id="1234567890@broadcast"), Ignore.BROADCAST),
        (message("news", chat_id="120363111@newsletter"), Ignore.NEWSLETTER),
        (message("news", is_newsletter=True), Ignore.NEWSLETTER),
        (message("mine", from_me=True), Ignore.FROM_ME),
        (message("", type="image"), Ignore.NOT_TEXT),
        (message("a caption", type="image"), Ignore.NOT_TEXT),
        (message("", type="ptt"), Ignore.NOT_TEXT),
        (message("   "), Ignore.EMPTY),
        (message("hi all", group=GROUP), Ignore.GROUP_WITHOUT_MENTION),
        (message("hi", group=GROUP, mentioned_ids=["6289999999999@c.us"]), Ignore.GROUP_WITHOUT_MENTION),
        (message("hi @6280000000001", group=GROUP, bot_id=None), Ignore.GROUP_WITHOUT_MENTION),
        (message("", group=GROUP, type="image", mentioned_ids=[BOT]), Ignore.NOT_TEXT),
    ],
)
def test_ignored_messages_and_their_reason(msg, reason):
    assert ignore_reason(msg) is reason


def test_status_wins_over_from_me():
    assert ignore_reason(message("x", chat_id="status@broadcast", from_me=True)) is Ignore.STATUS


@pytest.mark.parametrize(
    "msg",
    [
        message("@bot hello", group=GROUP, mentioned_ids=[BOT]),
        message("hello", group=GROUP, mentioned_ids=["6280000000001@s.whatsapp.net"]),
        message("hello", group=GROUP, mentioned_ids=["6280000000001:12@c.us"]),
        message("hey @6280000000001 what's up", group=GROUP),
        message("call +62 800-0000-0001 please", group=GROUP),
    ],
)
def test_group_messages_that_mention_the_bot_reach_the_ai(msg):
    assert mentions_bot(msg)
    assert ignore_reason(msg) is None


def test_a_mention_by_the_bots_linked_identity_id_reaches_the_ai():
    # given the bridge reports the bot's @lid and the mention uses it
    msg = message("hi", group=GROUP, bot_lid="98765432109876@lid", mentioned_ids=["98765432109876@lid"])
    # then it counts as a mention; another @lid does not
    assert mentions_bot(msg)
    other = message("hi", group=GROUP, bot_lid="98765432109876@lid", mentioned_ids=["11111111111111@lid"])
    assert not mentions_bot(other)


def test_a_similar_number_is_not_a_mention():
    assert not mentions_bot(message("call 6280000000002", group=GROUP))


def test_the_ai_payload_carries_text_sender_and_where_it_came_from():
    # given
    msg = message("Halo, ada promo?", sender="6281234567890@c.us", group=GROUP, mentioned_ids=[BOT])
    # when
    payload = ai_payload(msg, "agent-1", "trace-1")
    # then
    assert payload["input"] == "Halo, ada promo?"
    assert payload["session_id"] == "6281234567890@c.us"
    assert payload["parameters"] == {"max_steps": 5}
    assert payload["metadata"] == {
        "source": "whatsapp",
        "agentId": "agent-1",
        "messageId": msg.id,
        "from": "6281234567890@c.us",
        "whatsappName": "Budi",
        "chatId": GROUP,
        "chatName": "Test group",
        "isGroup": True,
        "timestamp": msg.timestamp,
        "traceId": "trace-1",
    }


def test_the_alert_names_agent_sender_reason_and_trace():
    text = alerts.alert_text(agent_id="a-1", sender="628111@c.us", reason="AI_TIMEOUT: slow", trace_id="t-9")
    lines = text.splitlines()
    assert "agent: a-1" in lines
    assert "from: 628111@c.us" in lines
    assert "reason: AI_TIMEOUT: slow" in lines
    assert "traceId: t-9" in lines


@pytest.mark.parametrize(
    ("configured", "expected"),
    [("+62 811-000-111", "62811000111@c.us"), ("62811000111@c.us", "62811000111@c.us"), (None, None)],
)
def test_developer_jid_is_normalised(configured, expected):
    assert alerts.developer_jid(configured) == expected


def test_a_malformed_developer_jid_disables_alerts():
    assert alerts.developer_jid("not a number") is None

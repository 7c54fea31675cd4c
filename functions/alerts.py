"""Developer alerts: a WhatsApp message to `DEVELOPER_JID` when an inbound message went unanswered.

Alerts travel through the failing agent's own session (the only WhatsApp account the
gateway can speak with) and are throttled per agent, so a dead AI backend produces one
alert per window instead of one per customer message.
"""

from __future__ import annotations

import redis

from contract import keys, logs, metrics
from contract.jid import InvalidJid, normalize_jid

log = logs.get_logger(__name__)

ALERTS = "developer_alerts_total"


def throttle_key(agent_id: str) -> str:
    """Return the key that holds an agent's alert window."""
    return keys.alert_throttle(agent_id)


def alert_text(*, agent_id: str, sender: str, reason: str, trace_id: str) -> str:
    """Render the alert message: agent, sender, reason and traceId, one per line."""
    return (
        "⚠️ WhatsApp gateway: an inbound message was not answered\n"
        f"agent: {agent_id}\n"
        f"from: {sender}\n"
        f"reason: {reason}\n"
        f"traceId: {trace_id}"
    )


def developer_jid(configured: str | None) -> str | None:
    """Return the developer's JID, or None when unset or malformed (logged)."""
    if not configured:
        return None
    try:
        return normalize_jid(configured)
    except InvalidJid:
        log.error("DEVELOPER_JID is not a phone number or JID; alerts are disabled", value=configured)
        return None


def claim_window(client: redis.Redis, agent_id: str, throttle_seconds: float) -> bool:
    """Return True when an alert for this agent may go out now (and start its window)."""
    if throttle_seconds <= 0:
        allowed = True
    else:
        allowed = bool(client.set(throttle_key(agent_id), "1", nx=True, px=round(throttle_seconds * 1000)))
    metrics.incr(client, ALERTS, {"outcome": "sent" if allowed else "throttled"})
    return allowed

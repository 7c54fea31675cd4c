"""Per-chat mailboxes: one chat's inbound messages are handled one at a time, in arrival order.

Each accepted message is appended to its chat's list in Redis. A worker that takes the
chat's lease (a short lock it keeps renewing while it works) handles the list from the
head and removes the head only after that message's outcome is committed. A worker
killed mid-message stops renewing; once the lease lapses, any worker's sweeper queues a
new drain of that chat, so the message is retried rather than lost and the chat's later
messages keep waiting behind it (replies stay in order).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import redis

from contract import keys

KEY_PREFIX = keys.INBOUND_PREFIX
BOXES_KEY = keys.boxes(KEY_PREFIX)

# KEYS: seen marker, chat list, set of chats. ARGV: entry, seen ttl, chat member.
# Returns 1 when the message id is new (and was queued), 0 for a duplicate.
_ACCEPT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
if ARGV[1] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[3])
end
return 1
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_POP_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) return 1 end
return 0
"""
# Forget a chat whose list is empty (checked atomically against a concurrent append).
_FORGET_IF_EMPTY = """
if redis.call('LLEN', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
"""


@dataclass(frozen=True)
class Chat:
    """One agent's chat: the unit of ordering (`prefix` keeps other kinds of mailbox apart)."""

    agent_id: str
    chat_id: str
    prefix: str = KEY_PREFIX

    @property
    def key(self) -> str:
        """Return the Redis list of the chat's pending messages."""
        return keys.box(self.prefix, self.agent_id, self.chat_id)

    @property
    def lease_key(self) -> str:
        """Return the Redis key of the chat's lease."""
        return keys.box_lease(self.key)

    @property
    def member(self) -> str:
        """Return the chat's member string in the set of chats with mail."""
        return json.dumps([self.agent_id, self.chat_id])

    @classmethod
    def from_member(cls, member: str, prefix: str = KEY_PREFIX) -> Chat:
        """Parse a member of the set of chats with mail."""
        agent_id, chat_id = json.loads(member)
        return cls(agent_id, chat_id, prefix)


def seen_key(agent_id: str, message_id: str) -> str:
    """Return the key marking a WhatsApp message id as already accepted."""
    return keys.inbound_seen(agent_id, message_id)


def boxes_key(prefix: str) -> str:
    """Return the set of chats with mail among the mailboxes under `prefix`."""
    return keys.boxes(prefix)


class Mailboxes:
    """The mailboxes of every chat, in one Redis (client must decode responses).

    The inbound messages' boxes live under KEY_PREFIX; another `prefix` gives another
    family of ordered, leased boxes (the webhook deliveries use one per agent and receiver).
    """

    def __init__(self, client: redis.Redis, seen_ttl_seconds: int = 2 * 86400, prefix: str = KEY_PREFIX):
        self.client = client
        self.seen_ttl = seen_ttl_seconds
        self.prefix = prefix
        self.boxes_key = boxes_key(prefix)
        self._accept = client.register_script(_ACCEPT)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._pop = client.register_script(_POP_HEAD)
        self._forget = client.register_script(_FORGET_IF_EMPTY)

    def accept(self, chat: Chat, message_id: str, entry: str | None) -> bool:
        """Append `entry` unless this message id was seen before; return whether it is new.

        With `entry=None` the id is only marked as seen (an ignored message).
        """
        keys = [seen_key(chat.agent_id, message_id), chat.key, self.boxes_key]
        return bool(self._accept(keys=keys, args=[entry or "", self.seen_ttl, chat.member]))

    def forget_seen(self, chat: Chat, message_id: str) -> None:
        """Undo `accept`'s seen marker (the hand-off failed; the host will deliver again)."""
        self.client.delete(seen_key(chat.agent_id, message_id))

    def head(self, chat: Chat) -> str | None:
        """Return the oldest pending entry of a chat."""
        return self.client.lindex(chat.key, 0)

    def pop(self, chat: Chat, entry: str) -> bool:
        """Remove `entry` if it is still the head (only the lease holder calls this)."""
        return bool(self._pop(keys=[chat.key], args=[entry]))

    def pending(self, chat: Chat) -> int:
        """Return how many messages of a chat wait."""
        return self.client.llen(chat.key)

    def try_lease(self, chat: Chat, ttl_seconds: float) -> Lease | None:
        """Take the chat's lease, or return None when another worker holds it."""
        token = uuid.uuid4().hex
        if self.client.set(chat.lease_key, token, nx=True, px=_ms(ttl_seconds)):
            return Lease(self, chat, token, ttl_seconds)
        return None

    def stale_chats(self, older_than_seconds: float) -> Iterator[Chat]:
        """Yield chats with mail, no lease holder, and a head waiting longer than given."""
        now = time.time()
        for member in self.client.sscan_iter(self.boxes_key, count=200):
            chat = Chat.from_member(member, self.prefix)
            head = self.head(chat)
            if head is None:
                self._forget(keys=[chat.key, self.boxes_key], args=[member])
                continue
            if self.client.exists(chat.lease_key):
                continue
            if now - _queued_at(head) >= older_than_seconds:
                yield chat


class Lease:
    """A held chat lease, renewed by a background thread until released."""

    def __init__(self, boxes: Mailboxes, chat: Chat, token: str, ttl_seconds: float):
        self.boxes = boxes
        self.chat = chat
        self.token = token
        self.ttl = ttl_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"lease-{chat.chat_id}", daemon=True)
        self._thread.start()

    def _keep(self) -> None:
        # Renew at a third of the TTL so one slow round trip never lets the lease lapse.
        while not self._stop.wait(self.ttl / 3):
            try:
                renewed = self.boxes._renew(keys=[self.chat.lease_key], args=[self.token, _ms(self.ttl)])
            except redis.RedisError:
                continue
            if not renewed:
                return

    def release(self) -> None:
        """Stop renewing and give the lease back."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.boxes._release(keys=[self.chat.lease_key], args=[self.token])


def _queued_at(entry: str) -> float:
    try:
        return float(json.loads(entry).get("queuedAt", 0))
    except (ValueError, TypeError, AttributeError):
        return 0.0  # unreadable: old enough for a drain, which drops it


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))

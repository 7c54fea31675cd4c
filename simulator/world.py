"""The simulated WhatsApp side: devices (browser profiles), accounts (phones) and their traffic.

Everything lives in memory behind one lock. Pages subscribe to their device's event stream;
every push goes to each open subscription of that device.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.messages import (
    MEDIA_TYPES,
    Inbound,
    InvalidInput,
    build_inbound,
    decode_media,
    new_message_key,
    new_pairing_code,
    new_qr,
    phone_digits,
    serialize_id,
    to_jid,
)

INBOX_LIMIT = 1000  # undelivered-or-recent messages kept per device for a reconnecting page


def _media_kind(mimetype: str | None) -> str:
    kind = (mimetype or "").split("/")[0]
    return kind if kind in ("image", "video", "audio") else "document"


class NotFound(LookupError):
    """Raised when a control request names a device, QR, code or account that does not exist."""


class Conflict(RuntimeError):
    """Raised when the request cannot apply in the current state (e.g. not logged in)."""


@dataclass
class Account:
    """A phone number with at most one linked device and what that device sent."""

    phone: str
    pushname: str
    device_id: str | None = None
    fail_next_login: str | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)
    typing: list[dict[str, Any]] = field(default_factory=list)
    fingerprints: set[str] = field(default_factory=set)
    duplicate_sends: int = 0
    # Every message of the account's chats by serialized id: {remote, fromMe, author, type}.
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    acks: dict[str, int] = field(default_factory=dict)
    # Inbound media bytes by message id (what `WPP.chat.downloadMedia` returns).
    media: dict[str, bytes] = field(default_factory=dict)
    # Reactions, chats marked read, edits and deletes the account's device made, in order.
    actions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def jid(self) -> str:
        """Return the account's own JID."""
        return f"{self.phone}@c.us"

    @property
    def lid(self) -> str:
        """Return a stable LID for the account, as WhatsApp gives every user."""
        return str(int(hashlib.sha256(self.phone.encode()).hexdigest(), 16))[:15] + "@lid"


@dataclass
class Device:
    """One browser profile: its QR while unpaired, the account once linked, its page streams."""

    id: str
    phone: str | None = None
    qr: str | None = None
    qr_expires: float = 0.0
    qr_shown: int = 0
    pairing_code: str | None = None
    pairing_phone: str | None = None
    # (seq, kind, data): messages and what happened to messages, replayed to a reconnecting page.
    inbox: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    signals: dict[str, Any] | None = None
    streams: list[queue.Queue] = field(default_factory=list)

    @property
    def state(self) -> str:
        """Return `linked` or `unpaired`."""
        return "linked" if self.phone else "unpaired"


class World:
    """All devices and accounts of one simulator process."""

    def __init__(
        self,
        qr_interval: float = 20.0,
        ready_delay: float = 0.05,
        qr_idle_after: int = 0,
        ack_delay: float | None = 0.1,
        read_delay: float | None = None,
    ):
        self.qr_interval = qr_interval
        # The peer's phone receives a send after `ack_delay` (ack "delivered") and reads it
        # `read_delay` later (ack "read"; a voice note is then also "played"); None: never.
        self.ack_delay = ack_delay
        self.read_delay = read_delay
        self.qr_idle_after = qr_idle_after
        self.ready_delay = ready_delay
        self._lock = threading.RLock()
        self._devices: dict[str, Device] = {}
        self._accounts: dict[str, Account] = {}
        self._seq = 0
        self.inbound_count = 0
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._rotate_qrs, name="qr-rotation", daemon=True)
        self._ticker.start()

    def close(self) -> None:
        """Stop the QR rotation thread."""
        self._stop.set()

    # --- page side -------------------------------------------------------------------

    def subscribe(self, device_id: str, after: int) -> queue.Queue:
        """Open an event stream for a page: a hello with the device state, then the backlog."""
        stream: queue.Queue = queue.Queue()
        with self._lock:
            device = self._devices.setdefault(device_id, Device(device_id))
            if not device.phone and not device.qr:
                device.qr_shown = 0
                self._new_qr(device)
            device.streams.append(stream)
            stream.put(("hello", self._hello(device)))
            for seq, kind, data in device.inbox:
                if seq > after:
                    stream.put((kind, {"seq": seq, **data}))
        return stream

    def unsubscribe(self, device_id: str, stream: queue.Queue) -> None:
        """Close a page's stream; a device nobody looks at shows no QR."""
        with self._lock:
            device = self._devices[device_id]
            device.streams.remove(stream)
            if not device.streams:
                device.qr = None

    def _hello(self, device: Device) -> dict[str, Any]:
        hello: dict[str, Any] = {"state": device.state, "qr": device.qr, "readyDelay": self.ready_delay}
        if device.phone:
            hello.update(self._identity(self._accounts[device.phone]))
        return hello

    @staticmethod
    def _identity(account: Account) -> dict[str, Any]:
        return {"me": account.jid, "lid": account.lid, "pushname": account.pushname}

    def _push(self, device: Device, kind: str, data: dict[str, Any]) -> None:
        for stream in device.streams:
            stream.put((kind, data))

    def _new_qr(self, device: Device) -> None:
        device.qr_shown += 1
        device.qr = new_qr()
        device.qr_expires = time.monotonic() + self.qr_interval
        self._push(device, "qr", {"qr": device.qr})

    def _rotate_qrs(self) -> None:
        while not self._stop.wait(0.25):
            with self._lock:
                now = time.monotonic()
                for device in self._devices.values():
                    if not device.streams or device.phone or not device.qr or device.qr_expires > now:
                        continue
                    if self.qr_idle_after and device.qr_shown >= self.qr_idle_after:
                        # Like WhatsApp Web: stop after a few codes until someone asks again.
                        device.qr = None
                        self._push(device, "idle", {})
                    else:
                        self._new_qr(device)

    def refresh_qr(self, device_id: str) -> str | None:
        """Show a new QR at once (`WPP.conn.refreshQR`)."""
        with self._lock:
            device = self._device(device_id)
            if not device.phone:
                device.qr_shown = 0
                self._new_qr(device)
            return device.qr

    def request_pairing_code(self, device_id: str, phone: str) -> str:
        """Issue a link-with-phone-number code for an unpaired device."""
        with self._lock:
            device = self._device(device_id)
            if device.phone:
                raise Conflict("device is already logged in")
            device.pairing_code, device.pairing_phone = new_pairing_code(), phone_digits(phone)
            return device.pairing_code

    def record_send(self, device_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record a message the page sent (text, media, location, contacts or poll).

        Returns the record as the page sees it.
        """
        media = body.get("media")
        summary = None
        if media is not None:
            mimetype, size = decode_media(media.get("dataUrl", ""))
            summary = {
                "filename": media.get("filename"),
                "mimetype": media.get("mimetype") or mimetype,
                "size": size,
                "caption": media.get("caption"),
            }
        to = to_jid(str(body.get("to") or ""))
        extras = {name: body.get(name) for name in ("location", "contacts", "poll")}
        with self._lock:
            account = self._linked_account(device_id)
            key = new_message_key()
            record = {
                "id": serialize_id(True, to, key),
                "to": to,
                "text": body.get("text"),
                "quotedMsgId": body.get("quotedMsgId"),
                "media": summary,
                **extras,
                "at": time.time(),
            }
            fingerprint = repr((to, record["text"], record["quotedMsgId"], summary, repr(extras)))
            if fingerprint in account.fingerprints:
                account.duplicate_sends += 1
            account.fingerprints.add(fingerprint)
            account.sent.append(record)
            kind = next((name for name in ("location", "contacts", "poll") if extras[name] is not None), None)
            kind = {"contacts": "vcard", "poll": "poll_creation"}.get(kind or "", kind)
            if kind is None:
                kind = "chat" if summary is None else _media_kind(summary["mimetype"])
            account.messages[record["id"]] = {
                "remote": to,
                "fromMe": True,
                "author": None,
                "type": kind,
                "t": int(record["at"]),
                "body": record["text"] or "",
            }
            self._schedule_acks(account.phone, record["id"], kind)
            return {**record, "key": key, "from": account.jid, "t": int(record["at"]), "type": kind}

    def message_info(self, device_id: str, message_id: str) -> dict[str, Any]:
        """Return what the page may read of a message (`WPP.chat.getMessageById`)."""
        with self._lock:
            account = self._linked_account(device_id)
            known = self._known(account, message_id)
            return {"id": message_id, **known}

    def media_of(self, device_id: str, message_id: str) -> tuple[bytes, str]:
        """Return an inbound media message's bytes and mimetype (`WPP.chat.downloadMedia`)."""
        with self._lock:
            account = self._linked_account(device_id)
            known = self._known(account, message_id)
            data = account.media.get(message_id)
            if data is None:
                raise NotFound(f"message {message_id!r} has no media")
            return data, str(known.get("mimetype") or "application/octet-stream")

    def record_action(self, device_id: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record a reaction, a chat marked read, an edit or a delete by the page."""
        with self._lock:
            account = self._linked_account(device_id)
            action: dict[str, Any] = {"kind": kind, "at": time.time()}
            if kind == "seen":
                action["chatId"] = to_jid(str(body.get("chatId") or ""))
            else:
                message_id = str(body.get("messageId") or "")
                known = self._known(account, message_id)
                action.update(messageId=message_id, chatId=known["remote"])
                if kind == "reaction":
                    action["emoji"] = str(body.get("emoji") or "")
                elif kind in ("edit", "delete"):
                    if not known["fromMe"]:
                        raise Conflict(f"message {message_id!r} was not sent by this account")
                    if known.get("revoked"):
                        raise Conflict(f"message {message_id!r} was deleted for everyone")
                    # WhatsApp Web announces our own edits and deletes too.
                    if kind == "edit":
                        action["text"] = str(body.get("text") or "")
                        known["body"] = action["text"]
                        self.edit(account.phone, message_id, action["text"])
                    else:
                        known["revoked"] = True
                        self.revoke(account.phone, message_id)
                else:
                    raise InvalidInput(f"unknown action {kind!r}")
            account.actions.append(action)
            return action

    def actions(self, phone: str) -> list[dict[str, Any]]:
        """Return the account's reactions, chats marked read, edits and deletes, in order."""
        with self._lock:
            return list(self._account(phone).actions)

    def _schedule_acks(self, phone: str, message_id: str, kind: str) -> None:
        """Play the peer's phone: receive the send, then (when configured) read or play it."""
        if self.ack_delay is None:
            return
        steps = [(self.ack_delay, 2)]
        if self.read_delay is not None:
            steps.append((self.ack_delay + self.read_delay, 3))
            if kind in ("ptt", "audio"):
                steps.append((self.ack_delay + self.read_delay, 4))
        for delay, level in steps:
            timer = threading.Timer(delay, self._auto_ack, args=(phone, message_id, level))
            timer.daemon = True
            timer.start()

    def _auto_ack(self, phone: str, message_id: str, level: int) -> None:
        # Logged out or gone meanwhile: a real phone's ack would not arrive either.
        with contextlib.suppress(NotFound, Conflict):
            self.ack(phone, message_id, level)

    def _queue(self, device: Device, kind: str, data: dict[str, Any]) -> int:
        """Keep an event for the device's pages and push it to the open ones; return its seq."""
        # Clock-based, so a page that remembers the last one it saw (localStorage) keeps
        # receiving after this simulator restarts.
        self._seq = max(self._seq + 1, time.time_ns() // 1000)
        device.inbox.append((self._seq, kind, data))
        del device.inbox[:-INBOX_LIMIT]
        self._push(device, kind, {"seq": self._seq, **data})
        return self._seq

    def _known(self, account: Account, message_id: str) -> dict[str, Any]:
        known = account.messages.get(message_id)
        if known is None:
            raise NotFound(f"account {account.phone} has no message {message_id!r}")
        return known

    def _linked_device(self, account: Account) -> Device:
        if not account.device_id:
            raise Conflict("account has no linked device")
        return self._devices[account.device_id]

    def ack(self, phone: str, message_id: str, level: int) -> dict[str, Any]:
        """Report an ack of a message the account sent (2 delivered, 3 read, 4 played).

        Like WhatsApp, a repeated or lower ack is still announced: the page must cope.
        """
        if level not in (1, 2, 3, 4):
            raise InvalidInput("ack must be 1 (sent), 2 (delivered), 3 (read) or 4 (played)")
        with self._lock:
            account = self._account(phone)
            known = self._known(account, message_id)
            device = self._linked_device(account)
            account.acks[message_id] = max(account.acks.get(message_id, 0), level)
            data = {"ids": [message_id], "chat": known["remote"], "ack": level, "sender": None}
            return {"seq": self._queue(device, "ack", data), "ack": level}

    def react(self, phone: str, message_id: str, sender: str, emoji: str) -> dict[str, Any]:
        """A user reacts to a message of the account's chats ("" removes the reaction)."""
        with self._lock:
            account = self._account(phone)
            known = self._known(account, message_id)
            device = self._linked_device(account)
            who = to_jid(sender)
            reaction_id = serialize_id(False, known["remote"], new_message_key(), who)
            data = {
                "id": reaction_id,
                "msgId": message_id,
                "remote": known["remote"],
                "targetFromMe": known["fromMe"],
                "reactionText": emoji,
                "sender": who,
                "timestamp": int(time.time()),
            }
            self._queue(device, "reaction", data)
            return {"id": reaction_id}

    def revoke(self, phone: str, message_id: str) -> dict[str, Any]:
        """The author deletes a message for everyone."""
        with self._lock:
            account = self._account(phone)
            known = self._known(account, message_id)
            device = self._linked_device(account)
            revoke_id = serialize_id(known["fromMe"], known["remote"], new_message_key(), known["author"])
            author = account.jid if known["fromMe"] else known["author"] or known["remote"]
            data = {
                "id": revoke_id,
                "refId": message_id,
                "remote": known["remote"],
                "targetFromMe": known["fromMe"],
                "author": author,
                "type": "sender_revoke",
            }
            self._queue(device, "revoke", data)
            return {"id": revoke_id}

    def edit(self, phone: str, message_id: str, body: str) -> dict[str, Any]:
        """The author changes a text message's words."""
        with self._lock:
            account = self._account(phone)
            known = self._known(account, message_id)
            device = self._linked_device(account)
            edit_key = new_message_key()
            author = account.jid if known["fromMe"] else known["author"] or known["remote"]
            data = {
                "id": message_id,
                "remote": known["remote"],
                "targetFromMe": known["fromMe"],
                "author": author,
                "body": body,
                "editKey": edit_key,
                "t": int(time.time()),
            }
            self._queue(device, "edit", data)
            return {"id": message_id, "editKey": edit_key}

    def record_typing(self, device_id: str, chat_id: str, state: str) -> None:
        """Record a typing state change the page sent."""
        if state not in ("composing", "paused"):
            raise InvalidInput("state must be composing or paused")
        with self._lock:
            account = self._linked_account(device_id)
            account.typing.append({"chatId": to_jid(chat_id), "state": state, "at": time.time()})

    def record_signals(self, device_id: str, signals: dict[str, Any]) -> None:
        """Keep the detection signals the device's latest page load reported."""
        fields = ("userAgent", "brands", "webdriver", "chrome", "headlessChrome")
        with self._lock:
            device = self._devices.setdefault(device_id, Device(device_id))
            device.signals = {name: signals.get(name) for name in fields} | {"at": time.time()}

    def page_logout(self, device_id: str) -> None:
        """Log the device out because the page asked to (`WPP.conn.logout`)."""
        with self._lock:
            device = self._device(device_id)
            if device.phone:
                self._unlink(device, "user_initiated")

    # --- control side ----------------------------------------------------------------

    def scan(self, qr: str, phone: str | None, pushname: str | None) -> dict[str, Any]:
        """Link the device currently showing `qr` to an account."""
        with self._lock:
            device = next((d for d in self._devices.values() if d.qr and d.qr == qr), None)
            if device is None:
                raise NotFound("no device shows that QR (expired, scanned, or page closed)")
            return self._link(device, phone or self._free_phone(), pushname)

    def pair(self, code: str) -> dict[str, Any]:
        """Link the device that requested pairing code `code`."""
        wanted = (code or "").replace("-", "").upper()
        with self._lock:
            device = next((d for d in self._devices.values() if d.pairing_code == wanted), None)
            if device is None or device.phone:
                raise NotFound("no device waits for that pairing code")
            return self._link(device, device.pairing_phone or self._free_phone(), None)

    def _link(self, device: Device, phone: str, pushname: str | None) -> dict[str, Any]:
        phone = phone_digits(phone)
        account = self._accounts.get(phone) or Account(phone, pushname or f"Agent {phone[-4:]}")
        self._accounts[phone] = account
        if pushname:
            account.pushname = pushname
        if account.fail_next_login:
            reason, account.fail_next_login = account.fail_next_login, None
            self._push(device, "auth_failure", {"reason": reason})
            device.qr_shown = 0
            self._new_qr(device)
            return {"deviceId": device.id, "phone": phone, "authFailed": reason}
        if account.device_id and account.device_id != device.id:
            # One linked device per account here: the older one is logged out.
            self._unlink(self._devices[account.device_id], "user_initiated")
        account.device_id, device.phone = device.id, phone
        device.qr, device.pairing_code, device.pairing_phone = None, None, None
        self._push(device, "linked", self._identity(account))
        return {"deviceId": device.id, "phone": phone}

    def _unlink(self, device: Device, reason: str) -> None:
        account = self._accounts[device.phone]
        account.device_id, device.phone = None, None
        device.inbox.clear()
        self._push(device, "logout", {"reason": reason})
        if device.streams:
            device.qr_shown = 0
            self._new_qr(device)

    def inbound(self, phone: str, spec: Inbound) -> dict[str, Any]:
        """Deliver a message to the account's linked device; return its serialized id."""
        with self._lock:
            account = self._account(phone)
            if not account.device_id:
                raise Conflict("account has no linked device")
            device = self._devices[account.device_id]
            message = build_inbound(spec, account.jid)
            key = message["id"]
            if spec.type in MEDIA_TYPES:
                data = spec.media_bytes()
                account.media[key["_serialized"]] = data
                message["size"] = len(data)
            account.messages[key["_serialized"]] = {
                "remote": key["remote"],
                "fromMe": key["fromMe"],
                "author": key["participant"],
                "type": message["type"],
                "t": message["t"],
                "body": message["body"] if spec.type == "chat" else message.get("caption") or "",
                "mimetype": message.get("mimetype"),
                "filename": message.get("filename"),
                "size": message.get("size"),
            }
            self.inbound_count += 1
            self._queue(device, "message", {"message": message})
            return {"id": key["_serialized"]}

    def acks_of(self, phone: str) -> dict[str, int]:
        """Return the highest ack reported per message the account sent."""
        with self._lock:
            return dict(self._account(phone).acks)

    def auth_failure(self, phone: str, reason: str | None) -> dict[str, Any]:
        """Fail the account's current session, or its next login when none is linked."""
        reason = reason or "unknown_companion"
        with self._lock:
            digits = phone_digits(phone)
            account = self._accounts.setdefault(digits, Account(digits, f"Agent {digits[-4:]}"))
            if account.device_id:
                self._unlink(self._devices[account.device_id], reason)
                return {"phone": digits, "applied": "current"}
            account.fail_next_login = reason
            return {"phone": digits, "applied": "next"}

    def logout(self, phone: str) -> dict[str, Any]:
        """Log the account's device out, as from the phone's "linked devices" screen."""
        with self._lock:
            account = self._account(phone)
            if not account.device_id:
                raise Conflict("account has no linked device")
            device_id = account.device_id
            self._unlink(self._devices[device_id], "user_initiated")
            return {"phone": account.phone, "deviceId": device_id}

    def devices(self) -> list[dict[str, Any]]:
        """List every device the simulator has seen."""
        with self._lock:
            return [
                {
                    "deviceId": d.id,
                    "state": d.state,
                    "qr": d.qr,
                    "pairingCode": d.pairing_code,
                    "phone": d.phone,
                    "pages": len(d.streams),
                    "signals": d.signals,
                }
                for d in self._devices.values()
            ]

    def account(self, phone: str) -> dict[str, Any]:
        """Summarise one account."""
        with self._lock:
            account = self._account(phone)
            device = self._devices.get(account.device_id) if account.device_id else None
            return {
                "phone": account.phone,
                "jid": account.jid,
                "deviceId": account.device_id,
                "state": device.state if device else "unlinked",
                "sentCount": len(account.sent),
                "duplicateSends": account.duplicate_sends,
            }

    def sent(self, phone: str, since: int = 0) -> list[dict[str, Any]]:
        """Return what the account's devices sent, in order, from index `since`."""
        with self._lock:
            return list(self._account(phone).sent[since:])

    def typing(self, phone: str) -> list[dict[str, Any]]:
        """Return the account's typing state changes in order."""
        with self._lock:
            return list(self._account(phone).typing)

    def stats(self) -> dict[str, Any]:
        """Return totals a benchmark compares with what it sent."""
        with self._lock:
            accounts = self._accounts.values()
            return {
                "devices": len(self._devices),
                "linked": sum(1 for a in accounts if a.device_id),
                "pages": sum(len(d.streams) for d in self._devices.values()),
                "sent": sum(len(a.sent) for a in accounts),
                "duplicateSends": sum(a.duplicate_sends for a in accounts),
                "inbound": self.inbound_count,
            }

    # --- lookups ---------------------------------------------------------------------

    def _device(self, device_id: str) -> Device:
        device = self._devices.get(device_id)
        if device is None:
            raise NotFound(f"unknown device {device_id!r}")
        return device

    def _account(self, phone: str) -> Account:
        account = self._accounts.get(phone_digits(phone))
        if account is None:
            raise NotFound(f"unknown account {phone!r}")
        return account

    def _linked_account(self, device_id: str) -> Account:
        device = self._device(device_id)
        if not device.phone:
            raise Conflict("not logged in")
        return self._accounts[device.phone]

    def _free_phone(self) -> str:
        number = 6281200000000 + len(self._accounts) + 1
        while str(number) in self._accounts:
            number += 1
        return str(number)

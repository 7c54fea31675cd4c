"""What a test or benchmark does with a running stack: call the API and the simulator, link agents."""

from __future__ import annotations

from typing import Any

import requests

from devstack.process import wait_until


class StackClient:
    """HTTP helpers on a stack's API and simulator URLs."""

    def __init__(self) -> None:
        self.redis_url = ""
        self.sim_url = ""
        self.api_url = ""
        # Sent by the helpers below on /sessions calls (the stack's ADMIN_TOKEN, when it has one).
        self.admin_headers: dict[str, str] = {}

    def api(self, method: str, path: str, timeout: float = 90, **kwargs: Any) -> requests.Response:
        """Call the API."""
        return requests.request(method, self.api_url + path, timeout=timeout, **kwargs)

    def sim(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the simulator's control API and return its JSON (raise on HTTP errors)."""
        response = requests.request(method, self.sim_url + path, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def sent(self, phone: str) -> list[dict[str, Any]]:
        """Return what an account's page sent, in order."""
        return self.sim("GET", f"/control/accounts/{phone}/sent")

    def create_session(self, agent_id: str, api_key: str, user_id: str = "user-1") -> dict[str, Any]:
        """POST /sessions and return the body (raise on HTTP errors)."""
        body = {"userId": user_id, "agentId": agent_id, "agentName": f"Agent {agent_id}", "apikey": api_key}
        response = self.api("POST", "/sessions", json=body, headers=self.admin_headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def session(self, agent_id: str) -> dict[str, Any]:
        """GET /sessions/{agentId}."""
        response = self.api("GET", f"/sessions/{agent_id}", headers=self.admin_headers)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_state(self, agent_id: str, predicate, timeout: float = 60) -> dict[str, Any]:
        """Wait until GET /sessions/{agentId}'s liveState satisfies `predicate`; return the body."""

        last: dict[str, Any] = {}

        def check() -> dict[str, Any] | None:
            body = self.session(agent_id)
            last.update(body["liveState"] or {})
            return body if body["liveState"] and predicate(body["liveState"]) else None

        try:
            return wait_until(check, timeout, interval=0.1, message=f"{agent_id} live state")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last live state: {last}") from None

    def scan(self, qr: str, phone: str, **extra: Any) -> dict[str, Any]:
        """Scan a QR with a phone: link that device to the account."""
        return self.sim("POST", "/control/scan", json={"qr": qr, "phone": phone, **extra})

    def scan_current(self, agent_id: str, phone: str, timeout: float = 60) -> None:
        """Scan the agent's QR as shown right now (QRs rotate, so retry on a stale one)."""

        def attempt() -> bool:
            qr = self.wait_state(agent_id, lambda s: s["qr"] or s["isReady"], timeout)["liveState"]["qr"]
            if qr is None:
                return True
            response = requests.post(
                f"{self.sim_url}/control/scan", json={"qr": qr, "phone": phone}, timeout=30
            )
            return response.status_code == 200

        wait_until(attempt, timeout, interval=0.2, message=f"scan {agent_id}'s QR")

    def link(self, agent_id: str, phone: str, api_key: str) -> dict[str, Any]:
        """Create a session, scan its QR and wait until it is ready; return the session body."""
        self.create_session(agent_id, api_key)
        self.scan_current(agent_id, phone)
        return self.wait_state(agent_id, lambda s: s["isReady"], 60)

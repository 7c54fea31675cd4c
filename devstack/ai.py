"""The demo AI backend (`python -m simulator.ai_backend`) as a real process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from devstack.process import PYTHON, Process, free_port, wait_http_ok


@dataclass
class AiBackend:
    """A running demo AI backend and its control API."""

    process: Process
    url: str

    def behave(self, agent_id: str | None = None, **changes: Any) -> None:
        """Set delaySeconds / status / reply / shape, for one agent or as the default."""
        body = {"agentId": agent_id, **changes} if agent_id else changes
        requests.put(f"{self.url}/control/behaviour", json=body, timeout=5).raise_for_status()

    def received(self, agent_id: str | None = None) -> list[dict[str, Any]]:
        """Return the requests received, oldest first."""
        params = {"agentId": agent_id} if agent_id else None
        response = requests.get(f"{self.url}/control/requests", params=params, timeout=5)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Forget requests and behaviours."""
        requests.post(f"{self.url}/control/reset", timeout=5).raise_for_status()


def start_ai_backend(
    log_dir: Path, name: str = "ai-backend", port: int | None = None, env: dict[str, str] | None = None
) -> AiBackend:
    """Start the demo AI backend (on `port`, or a free one) and wait until it answers."""
    port = port or free_port()
    args = [PYTHON, "-m", "simulator.ai_backend", "--port", str(port)]
    process = Process(name, args, env=dict(os.environ) if env is None else env, log_dir=log_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{url}/control/health", process=process)
    except BaseException:  # a failed or interrupted start leaves nothing running
        process.stop()
        raise
    return AiBackend(process, url)

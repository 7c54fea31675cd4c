"""A demo AI backend: echoes the input, can be told to be slow or to fail, records every request.

`python -m simulator.ai_backend --port 8090` serves:

- `POST /agents/<agentId>/execute` (and any other POST path, for custom `endpoint_url_run`):
  answers `{"reply": "Echo: <input>"}` after the configured delay, or the configured error.
- `GET|PUT /control/behaviour` — `{agentId?, delaySeconds?, status?, reply?, shape?}`; without
  `agentId` it sets the default for every agent. `shape` is `reply`, `output`, `response` or
  `data` (the reply nested as `{"data": {"reply": …}}`); `reply: ""` answers an empty reply.
- `GET /control/requests[?agentId=]` — what was received, in order: `{agentId, path,
  authorization, body, receivedAt}` (`receivedAt` in unix seconds, for latency measurements).
- `POST /control/reset` — forget requests and behaviours. `GET /control/health`.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

SHAPES = ("reply", "output", "response", "data")


@dataclass(frozen=True)
class Behaviour:
    """How the backend answers one agent."""

    delay_seconds: float = 0.0
    status: int = 200
    reply: str | None = None
    shape: str = "reply"

    def to_json(self) -> dict[str, Any]:
        """Return the control API's view."""
        return {
            "delaySeconds": self.delay_seconds,
            "status": self.status,
            "reply": self.reply,
            "shape": self.shape,
        }


class Recorder:
    """Requests received and the behaviour per agent, shared by the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.default = Behaviour()
        self.per_agent: dict[str, Behaviour] = {}

    def record(self, entry: dict[str, Any]) -> None:
        """Remember one request."""
        with self._lock:
            self.requests.append(entry)

    def received(self, agent_id: str | None = None) -> list[dict[str, Any]]:
        """Return the requests received (for one agent when given), oldest first."""
        with self._lock:
            return [r for r in self.requests if agent_id is None or r["agentId"] == agent_id]

    def behaviour(self, agent_id: str | None) -> Behaviour:
        """Return how to answer an agent."""
        with self._lock:
            return self.per_agent.get(agent_id or "", self.default)

    def configure(self, agent_id: str | None, changes: dict[str, Any]) -> Behaviour:
        """Change the default behaviour, or one agent's."""
        with self._lock:
            base = self.per_agent.get(agent_id, self.default) if agent_id else self.default
            updated = replace(base, **changes)
            if agent_id:
                self.per_agent[agent_id] = updated
            else:
                self.default = updated
            return updated

    def reset(self) -> None:
        """Forget everything."""
        with self._lock:
            self.requests.clear()
            self.per_agent.clear()
            self.default = Behaviour()


def _agent_of(path: str) -> str | None:
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "agents":
        return parts[1]
    return None


def _answer(behaviour: Behaviour, text: str):
    if behaviour.status >= 400:
        message = f"demo backend told to fail with {behaviour.status}"
        return jsonify(error={"message": message}), behaviour.status
    reply = behaviour.reply if behaviour.reply is not None else f"Echo: {text}"
    if behaviour.shape == "data":
        return jsonify(data={"reply": reply}), behaviour.status
    return jsonify({behaviour.shape: reply}), behaviour.status


def _media_of(body: Any) -> dict[str, Any] | None:
    metadata = body.get("metadata") if isinstance(body, dict) else None
    media = metadata.get("media") if isinstance(metadata, dict) else None
    return media if isinstance(media, dict) else None


def _fetch(media: dict[str, Any]) -> dict[str, Any] | None:
    """Download the media through its link, as a real AI backend would; record what came."""
    url = media.get("url")
    if not url:
        return None
    try:
        with urllib.request.urlopen(str(url), timeout=30) as response:  # noqa: S310 - the gateway's own link
            data = response.read()
            return {
                "status": response.status,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "contentType": response.headers.get("Content-Type"),
            }
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "size": None, "sha256": None}
    except OSError as exc:
        return {"status": None, "error": str(exc), "size": None, "sha256": None}


def _parse_behaviour(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "delaySeconds" in body:
        changes["delay_seconds"] = max(0.0, float(body["delaySeconds"]))
    if "status" in body:
        changes["status"] = int(body["status"])
    if "reply" in body:
        changes["reply"] = None if body["reply"] is None else str(body["reply"])
    if "shape" in body:
        if body["shape"] not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}")
        changes["shape"] = body["shape"]
    return changes


def create_app(recorder: Recorder | None = None) -> Flask:
    """Build the demo backend's WSGI app."""
    app = Flask(__name__)
    rec = recorder or Recorder()
    app.extensions["recorder"] = rec

    @app.get("/control/health")
    def health():
        return jsonify(status="ok")

    @app.get("/control/requests")
    def requests_received():
        return jsonify(rec.received(request.args.get("agentId")))

    @app.post("/control/reset")
    def reset():
        rec.reset()
        return jsonify(reset=True)

    @app.get("/control/behaviour")
    def get_behaviour():
        agent_id = request.args.get("agentId")
        return jsonify(rec.behaviour(agent_id).to_json())

    @app.route("/control/behaviour", methods=["PUT", "POST"])
    def set_behaviour():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(error={"message": "body must be a JSON object"}), 400
        try:
            changes = _parse_behaviour(body)
        except (TypeError, ValueError) as exc:
            return jsonify(error={"message": str(exc)}), 400
        return jsonify(rec.configure(body.get("agentId"), changes).to_json())

    @app.post("/<path:path>")
    def execute(path: str):
        received = time.time()
        body = request.get_json(silent=True)
        agent_id = _agent_of(path)
        entry: dict[str, Any] = {
            "agentId": agent_id,
            "path": "/" + path,
            "authorization": request.headers.get("Authorization"),
            "traceId": request.headers.get("X-Trace-Id"),
            "body": body,
            "receivedAt": received,
        }
        media = _media_of(body)
        fetched = _fetch(media) if media else None
        if fetched is not None:
            entry["fetched"] = fetched
        rec.record(entry)
        behaviour = rec.behaviour(agent_id)
        if behaviour.delay_seconds:
            time.sleep(behaviour.delay_seconds)
        if not isinstance(body, dict):
            return jsonify(error={"message": "body must be a JSON object"}), 400
        text = str(body.get("input") or body.get("message") or "")
        if media and behaviour.reply is None:
            # Name what arrived, so `make demo` shows the media round trip.
            size = fetched["size"] if fetched and fetched.get("size") is not None else media.get("size")
            said = f' saying "{text}"' if text else ""
            kind = str(media.get("type"))
            article = "an" if kind[:1] in "aeiou" else "a"
            return _answer(behaviour, f"{article} {kind} ({media.get('mimetype')}, {size} bytes){said}")
        location = (
            (body.get("metadata") or {}).get("location") if isinstance(body.get("metadata"), dict) else None
        )
        if location and not text and behaviour.reply is None:
            return _answer(
                behaviour, f"a location at {location.get('latitude')}, {location.get('longitude')}"
            )
        return _answer(behaviour, text)

    return app


class _KeepAliveHandler(WSGIRequestHandler):
    # HTTP/1.1 lets the gateway's HTTP client reuse one connection for many calls.
    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Stay quiet: the recorder is the log."""


def main(argv: list[str] | None = None) -> int:
    """Serve the demo backend until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, create_app(), threaded=True, request_handler=_KeepAliveHandler)

    def _stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"demo AI backend on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`wagw` / `python -m functions.cli`: the operators' terminal client, over the HTTP API only.

It talks to any deployment the same way (a local gunicorn or API Gateway): the base URL and
the admin token come from `--url`/`--token` or WAGW_URL/WAGW_ADMIN_TOKEN. Exit codes: 0 done,
1 the API refused the request, 2 wrong usage, 3 the URL does not answer like the gateway,
4 the admin token is missing or wrong, 5 no such agent or job, 6 timed out waiting.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

import click
import qrcode
import requests

DEFAULT_URL = "http://127.0.0.1:8080"
POLL_SECONDS = 1.0


class Failure(click.ClickException):
    """A one-line error with its exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        """Print `wagw: <message>` on stderr."""
        click.echo(f"wagw: {self.message}", err=True)


@dataclass
class Api:
    """The gateway's base URL and admin token, and one session to call it with."""

    url: str
    token: str | None
    timeout: float

    def __post_init__(self) -> None:
        self.http = requests.Session()
        if self.token:
            self.http.headers["Authorization"] = f"Bearer {self.token}"

    def call(self, method: str, path: str, *, wait: float = 0, **kwargs: Any) -> dict[str, Any]:
        """Call the API and return its JSON body, or raise a Failure saying why in one line."""
        try:
            response = self.http.request(method, self.url + path, timeout=self.timeout + wait, **kwargs)
        except requests.exceptions.InvalidURL as exc:
            raise Failure(f"{self.url!r} is not a valid URL ({exc})", 3) from exc
        except requests.exceptions.MissingSchema as exc:
            raise Failure(f"{self.url!r} is not a URL: give it as http(s)://host[:port]", 3) from exc
        except requests.Timeout as exc:
            raise Failure(f"the gateway at {self.url} did not answer in time", 6) from exc
        except requests.ConnectionError as exc:
            raise Failure(f"cannot reach the gateway at {self.url} (is WAGW_URL right?)", 3) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        # Every answer of the gateway, errors included, carries a traceId.
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            error = None
        if not isinstance(body, dict) or ("traceId" not in body and "traceId" not in (error or {})):
            kind = response.headers.get("Content-Type", "no content type")
            raise Failure(
                f"{self.url} does not answer like the gateway (HTTP {response.status_code}, {kind})", 3
            )
        if response.ok:
            return body
        error = error or {}
        code, message = error.get("code", "HTTP_ERROR"), error.get("message", response.reason)
        if response.status_code == 401:
            hint = "set WAGW_ADMIN_TOKEN or --token" if not self.token else "WAGW_ADMIN_TOKEN is wrong"
            raise Failure(f"the gateway refused the admin token ({hint})", 4)
        if response.status_code == 404 and code != "NOT_FOUND":
            raise Failure(message, 5)
        raise Failure(f"{code}: {message}", 1)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in [headers, *rows]]
    return "\n".join(line.rstrip() for line in lines)


def _dash(value: Any) -> str:
    return "-" if value in (None, "") else str(value)


def qr_text(text: str, invert: bool) -> str:
    """Render a QR string as text blocks a phone can scan from the terminal."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.ERROR_CORRECT_L)
    code.add_data(text)
    out = io.StringIO()
    code.print_ascii(out=out, invert=invert)
    return out.getvalue()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="WAGW_URL", default=DEFAULT_URL, show_default=True, help="Gateway base URL.")
@click.option("--token", envvar="WAGW_ADMIN_TOKEN", default=None, help="Admin token (ADMIN_TOKEN).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for each answer.")
@click.pass_context
def main(ctx: click.Context, url: str, token: str | None, timeout: float) -> None:
    """Operate a WhatsApp Agent Gateway: sessions, QR linking and jobs."""
    ctx.obj = Api(url.rstrip("/"), token or None, timeout)


@main.command()
@click.option("--status", help="Only this record status (connected, awaiting_qr, …).")
@click.option("--host", help="Only the agents this session host owns.")
@click.pass_obj
def sessions(api: Api, status: str | None, host: str | None) -> None:
    """List every session with its live state."""
    rows, cursor = [], None
    while True:
        params = {"status": status, "host": host, "cursor": cursor, "limit": 200}
        page = api.call("GET", "/sessions", params={k: v for k, v in params.items() if v})
        for item in page["sessions"]:
            live = item["liveState"]
            phone = f"+{item['linkedPhone']}" if item.get("linkedPhone") else None
            rows.append(
                [item["agentId"], item["agentName"], item["status"], _dash(live["sessionState"]),
                 _dash(live["host"]), _dash(phone), _dash(item["lastConnectedAt"])]
            )  # fmt: skip
        cursor = page.get("nextCursor")
        if not cursor:
            break
    click.echo(_table(rows, ["AGENT", "NAME", "STATUS", "LIVE", "HOST", "PHONE", "LAST CONNECTED"]))


@main.command()
@click.argument("agent")
@click.option("--wait", default=300.0, show_default=True, help="Give up after this many seconds.")
@click.option("--invert", is_flag=True, help="Swap dark and light (for light terminal backgrounds).")
@click.pass_obj
def qr(api: Api, agent: str, wait: float, invert: bool) -> None:
    """Show the agent's QR in the terminal, redraw it as it rotates, exit 0 once connected."""
    deadline = time.monotonic() + wait
    try:
        api.call("POST", f"/sessions/{agent}/qr", params={"wait": min(wait, 60)}, wait=min(wait, 60))
    except Failure as exc:
        if "ALREADY_CONNECTED" not in exc.message:
            raise
    shown = None
    while time.monotonic() < deadline:
        body = api.call("GET", f"/sessions/{agent}")
        live = body["liveState"]
        if live["isReady"]:
            phone = f" as +{body['linkedPhone']}" if body.get("linkedPhone") else ""
            click.echo(f"{agent}: connected{phone}")
            return
        if live["qr"] and live["qr"] != shown:
            shown = live["qr"]
            click.echo(qr_text(shown, invert))
            click.echo(f"{agent}: scan with WhatsApp → Linked devices → Link a device (waiting…)")
        time.sleep(POLL_SECONDS)
    raise Failure(f"{agent} was not linked within {wait:g} seconds", 6)


@main.command()
@click.argument("agent")
@click.argument("phone")
@click.pass_obj
def pair(api: Api, agent: str, phone: str) -> None:
    """Get a code to link AGENT by entering it on the phone with number PHONE."""
    body = api.call("POST", f"/sessions/{agent}/pairing-code", json={"phoneNumber": phone}, wait=60)
    click.echo(f"{agent}: pairing code {body['code']} — on +{body['phoneNumber']}: Linked devices → "
               "Link with phone number")  # fmt: skip


@main.command()
@click.argument("agent")
@click.pass_obj
def reconnect(api: Api, agent: str) -> None:
    """Stop the session, clear its login and start it again with a new QR."""
    api.call("POST", f"/sessions/{agent}/reconnect", params={"wait": 0}, wait=60)
    click.echo(f"{agent}: restarted; link it again with `wagw qr {agent}`")


@main.command()
@click.argument("agent")
@click.pass_obj
def logout(api: Api, agent: str) -> None:
    """Log the agent's linked device out of WhatsApp (the record stays)."""
    body = api.call("POST", f"/sessions/{agent}/logout", wait=30)
    click.echo(f"{agent}: logged out" if body["loggedOut"] else f"{agent}: logout queued ({body['jobId']})")


@main.command()
@click.argument("agent")
@click.option("--failed", is_flag=True, help="Only failed jobs, with why they failed.")
@click.option("--limit", default=50, show_default=True, help="At most this many jobs.")
@click.pass_obj
def jobs(api: Api, agent: str, failed: bool, limit: int) -> None:
    """List the agent's jobs (queued first, then newest first in each state)."""
    params: dict[str, Any] = {"limit": limit, **({"status": "failed"} if failed else {})}
    found = api.call("GET", f"/sessions/{agent}/jobs", params=params)["jobs"]
    rows = [
        [j["jobId"], j["type"], j["status"], _dash(j["to"]), _dash(j["endedAt"]), _dash(j["error"])]
        for j in found
    ]
    click.echo(_table(rows, ["JOB", "TYPE", "STATUS", "TO", "ENDED", "ERROR"]))


@main.command()
@click.argument("job")
@click.pass_obj
def requeue(api: Api, job: str) -> None:
    """Put a failed job back on its queue."""
    body = api.call("POST", f"/jobs/{job}/requeue")["job"]
    click.echo(f"{body['jobId']}: requeued on {body['queue']} ({body['status']})")


if __name__ == "__main__":
    main()

"""Start the simulator and a headless Chromium for tests, and drive the bridge in a page."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support.processes import PYTHON, ROOT, Process, free_port, wait_http_ok
from tests.support.waiting import wait_until

STARTS = itertools.count(1)
BRIDGE_JS = ROOT / "session_host" / "bridge" / "bridge.js"
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    # Without these Chrome keeps trying the (closed) network and gets slow.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The page stands in for `window.wagwEmit`, the CDP binding the real host adds, and keeps
# every event the bridge pushes in an array the test reads.
COLLECT_EVENTS = """
window.__events = window.__events || [];
window.wagwEmit = function (text) { window.__events.push(JSON.parse(text)); };
"""
CALL_BRIDGE = """
var done = arguments[arguments.length - 1];
window.__wagw[arguments[0]].apply(null, arguments[1]).then(
  function (value) { done({ok: true, value: value}); },
  function (err) { done({ok: false, error: String(err && err.message || err)}); });
"""


def start_simulator(log_dir: Path, *args: str, port: int | None = None) -> tuple[Process, str]:
    """Start `python -m simulator` (on a free port by default); return it with its base URL."""
    port = port or free_port()
    process = Process(
        f"simulator-{port}-{next(STARTS)}",
        [PYTHON, "-m", "simulator", "--port", str(port), *args],
        env=dict(os.environ),
        log_dir=log_dir,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(f"{url}/control/health", process=process)
    return process, url


def start_chrome(profile_dir: Path) -> webdriver.Chrome:
    """Start headless Chromium with a persistent profile directory."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_script_timeout(15)
    return driver


class Control:
    """Speak the simulator's control API."""

    def __init__(self, url: str):
        self.url = url

    def get(self, path: str) -> Any:
        """GET a control path and return its JSON (failing on an error status)."""
        response = requests.get(f"{self.url}/control{path}", timeout=5)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST to a control path and return its JSON (failing on an error status)."""
        response = requests.post(f"{self.url}/control{path}", json=body or {}, timeout=5)
        assert response.ok, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def device(self, device_id: str) -> dict[str, Any]:
        """Return one device's entry."""
        return next(d for d in self.get("/devices") if d["deviceId"] == device_id)


class BridgePage:
    """One simulator page in Chrome with bridge.js injected, as the session host would."""

    def __init__(self, driver: webdriver.Chrome, url: str):
        self.driver = driver
        self.url = url

    def open(self, collect: bool = True) -> None:
        """Load the page, wait for WPP, and inject the bridge (after the event collector)."""
        self.driver.get(self.url + "/")
        wait_until(lambda: self.driver.execute_script("return typeof window.WPP === 'object'"), 10)
        if collect:
            self.collect()
        self.inject()

    def collect(self) -> None:
        """Define the in-page stand-in for the wagwEmit binding."""
        self.driver.execute_script(COLLECT_EVENTS)

    def inject(self) -> None:
        """Inject bridge.js."""
        self.driver.execute_script(BRIDGE_JS.read_text())

    @property
    def device_id(self) -> str:
        """Return the simulator device id this profile uses."""
        return self.driver.execute_script("return window.__wagwSimulator.deviceId")

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Return the bridge events received so far (of one type if given)."""
        events = self.driver.execute_script("return window.__events || []")
        return [e for e in events if kind is None or e["type"] == kind]

    def wait_event(self, kind: str, count: int = 1, timeout: float = 10) -> dict[str, Any]:
        """Wait until `count` events of `kind` arrived and return the last of them."""
        found = wait_until(
            lambda: (lambda e: e if len(e) >= count else None)(self.events(kind)),
            timeout,
            message=f"{count} bridge event(s) {kind!r}; got {json.dumps(self.events())[:2000]}",
        )
        return found[count - 1]

    def call(self, command: str, *args: Any) -> dict[str, Any]:
        """Run a bridge command and return {ok, value} or {ok: False, error}."""
        return self.driver.execute_async_script(CALL_BRIDGE, command, list(args))

    def value(self, command: str, *args: Any) -> Any:
        """Run a bridge command that must succeed and return its value."""
        result = self.call(command, *args)
        assert result["ok"], f"{command} failed: {result}"
        return result["value"]

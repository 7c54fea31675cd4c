"""WhatsApp Web in one headless Chrome: wa-js + our bridge injected on every page load.

Events travel page → `window.wagwEmit` (a CDP binding) → our own debugger websocket, so they
arrive as they happen without a polling loop and without tying up chromedriver, which runs
one command at a time per session.
"""

from __future__ import annotations

import contextlib
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import requests
from selenium.common.exceptions import WebDriverException

from contract import logs
from session_host.auth_store import AuthStore
from session_host.browser import chrome
from session_host.browser.base import BridgeError, LoadFailed, SessionError, SessionListener, WhatsAppSession
from session_host.browser.cdp import CdpConnection, CdpError
from session_host.config import HostSettings

log = logs.get_logger(__name__)

BINDING = "wagwEmit"
BRIDGE_DIR = Path(__file__).resolve().parents[1] / "bridge"
WAJS_PATH = BRIDGE_DIR / "node_modules/@wppconnect/wa-js/dist/wppconnect-wa.js"
BRIDGE_PATH = BRIDGE_DIR / "bridge.js"


@lru_cache(maxsize=1)
def loader_script() -> str:
    """Return the script run in every new document: wa-js when WPP is missing, then the bridge."""
    if not BRIDGE_PATH.is_file():
        raise SessionError(f"{BRIDGE_PATH} is missing")
    wajs = WAJS_PATH.read_text() if WAJS_PATH.is_file() else ""
    bridge = BRIDGE_PATH.read_text()
    # Indirect eval runs each bundle at global scope, as a <script> tag would; only the top
    # frame gets it, and only after `load` so WhatsApp's own scripts (or the simulator's WPP)
    # are in place first.
    return (
        "(() => { if (window.top !== window || location.protocol === 'chrome-error:') return;"
        f" const wajs = {json.dumps(wajs)}; const bridge = {json.dumps(bridge)};"
        " const install = () => {"
        "  if (typeof window.WPP === 'undefined') {"
        "   if (!wajs) {"
        "    window.wagwEmit(JSON.stringify({type: 'load_error', reason: 'wa-js bundle missing'}));"
        "    return; }"
        # wa-js reports to Google Analytics unless told not to before it loads.
        "   window.WPPConfig = Object.assign({}, window.WPPConfig, {disableGoogleAnalytics: true});"
        "   (0, eval)(wajs); }"
        "  (0, eval)(bridge); };"
        " if (document.readyState === 'complete') install();"
        " else window.addEventListener('load', install, {once: true}); })();"
    )


class ChromeSession(WhatsAppSession):
    """WhatsApp Web driven in one Chrome with a persistent profile."""

    def __init__(
        self,
        agent_id: str,
        settings: HostSettings,
        listener: SessionListener,
        auth: AuthStore,
        user_agent: str,
    ):
        self.agent_id = agent_id
        self.settings = settings
        self.listener = listener
        self.auth = auth
        self.user_agent = user_agent
        self.browser: chrome.Browser | None = None
        self.cdp: CdpConnection | None = None
        self.bridge_ready = threading.Event()
        self._stopping = False
        self._crashed = False
        self._load_error: str | None = None

    def start(self) -> None:
        """Launch Chrome, wire the event channel, open WhatsApp Web and wait for the bridge."""
        self._stopping = False
        self._crashed = False
        self.bridge_ready.clear()
        self._load_error = None
        try:
            profile = self.auth.prepare(self.agent_id)
            self.browser = chrome.launch(self.settings, profile, self.user_agent)
        except WebDriverException as exc:
            raise LoadFailed(f"Chrome did not start: {_first_line(exc.msg or str(exc))}") from exc
        try:
            self.cdp = CdpConnection(self._page_ws_url(), self._on_cdp_event, self._on_cdp_close)
            # Page.enable is needed for addScriptToEvaluateOnNewDocument to apply on navigations.
            self.cdp.call("Page.enable")
            self.cdp.call("Inspector.enable")
            # Our loader evaluates wa-js and the bridge from strings; a page CSP without
            # 'unsafe-eval' would refuse that, so lift CSP for our injected scripts.
            self.cdp.call("Page.setBypassCSP", {"enabled": True})
            # Without Runtime.enable the binding is missing from documents loaded after a
            # cross-process navigation (measured on Chromium 156).
            self.cdp.call("Runtime.enable")
            self.cdp.call("Runtime.addBinding", {"name": BINDING})
            self.cdp.call("Page.addScriptToEvaluateOnNewDocument", {"source": loader_script()})
            # Look like a desktop Chrome to the page whichever binary runs: user agent and its
            # client hints (no "HeadlessChrome" brand), and window.chrome.
            self.cdp.call(
                "Emulation.setUserAgentOverride", chrome.user_agent_override(self.settings, self.user_agent)
            )
            self.cdp.call("Page.addScriptToEvaluateOnNewDocument", {"source": chrome.DESKTOP_SHIM})
            # Page.navigate reports network failures (errorText) that chromedriver's get()
            # hides behind Chrome's error page.
            navigation = self.cdp.call(
                "Page.navigate", {"url": self.settings.wa_web_url}, timeout=self.settings.load_timeout_seconds
            )
        except (WebDriverException, CdpError, OSError, requests.RequestException) as exc:
            self.stop()
            raise LoadFailed(f"WhatsApp Web could not be loaded: {_describe(exc)}") from exc
        if navigation.get("errorText"):
            self.stop()
            raise LoadFailed(f"WhatsApp Web could not be loaded: {navigation['errorText']}")
        if not self.bridge_ready.wait(self.settings.load_timeout_seconds) or self._load_error:
            wait = self.settings.load_timeout_seconds
            reason = self._load_error or f"the page did not get ready within {wait:g}s ({self._page_facts()})"
            self.stop()
            raise LoadFailed(f"WhatsApp Web could not be loaded: {reason}")

    def _page_ws_url(self) -> str:
        assert self.browser is not None
        # chromedriver's window handle is the CDP target id of the tab it drives.
        handle = self.browser.driver.current_window_handle
        targets = requests.get(f"http://{self.browser.debugger_address}/json", timeout=10).json()
        pages = [t for t in targets if t.get("type") == "page" and t.get("id") == handle]
        if not pages:
            raise SessionError("Chrome has no page target")
        return pages[0]["webSocketDebuggerUrl"]

    def _page_facts(self) -> str:
        """Describe where the page got stuck, for the failure reason."""
        probe = (
            "JSON.stringify({url: location.href, readyState: document.readyState,"
            " wpp: typeof window.WPP, bridge: typeof window.__wagw, binding: typeof window.wagwEmit})"
        )
        try:
            assert self.cdp is not None
            reply = self.cdp.call("Runtime.evaluate", {"expression": probe, "returnByValue": True}, timeout=5)
            return str(reply.get("result", {}).get("value"))
        except (CdpError, AssertionError) as exc:
            return f"page unreachable: {exc}"

    def _on_cdp_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Inspector.targetCrashed":
            # The renderer died ("Aw, Snap!") while Chrome and our websocket live on.
            self._crashed = True
            self.listener.on_crash(self.agent_id, "the page crashed")
            return
        if method != "Runtime.bindingCalled" or params.get("name") != BINDING:
            return
        try:
            event = json.loads(params.get("payload") or "{}")
        except ValueError:
            log.warning("bridge sent a malformed event", agentId=self.agent_id)
            return
        kind = event.get("type")
        if kind == "load_error":
            self._load_error = str(event.get("reason"))
            self.bridge_ready.set()
            return
        if kind == "bridge_ready":
            self.bridge_ready.set()
        self.listener.on_event(self.agent_id, event)

    def _on_cdp_close(self) -> None:
        if not self._stopping:
            self.listener.on_crash(self.agent_id, "the browser connection closed")

    def stop(self) -> None:
        """Close the event channel and Chrome (its whole process tree)."""
        self._stopping = True
        self.bridge_ready.clear()
        if self.cdp is not None:
            if self.healthy_browser():
                # Chrome's orderly shutdown (what DevTools clients use) writes the profile,
                # the saved login included; a signal alone lost fresh localStorage under load.
                with contextlib.suppress(CdpError):
                    self.cdp.call("Browser.close", timeout=5)
            self.cdp.close()
            self.cdp = None
        if self.browser is not None:
            self.browser.close()
            self.browser = None

    def kill(self) -> None:
        """SIGKILL Chrome's whole process tree."""
        browser = self.browser
        if browser is not None:
            chrome.kill_tree(browser.processes())

    def healthy_browser(self) -> bool:
        """Tell whether Chrome's main process still runs."""
        return self.browser is not None and self.browser.alive()

    def healthy(self) -> bool:
        """Tell whether Chrome runs and our websocket to it is open."""
        return (
            not self._crashed
            and self.browser is not None
            and self.cdp is not None
            and not self.cdp.closed.is_set()
            and self.browser.alive()
        )

    def command(self, name: str, *args: Any, timeout: float = 60.0) -> Any:
        """Call a bridge command and return what its promise resolved to."""
        if self.cdp is None or not self.bridge_ready.is_set():
            raise SessionError("the session is not running")
        call = f"window.__wagw.{name}(...{json.dumps(list(args))})"
        try:
            reply = self.cdp.call(
                "Runtime.evaluate",
                {"expression": call, "awaitPromise": True, "returnByValue": True, "timeout": timeout * 1000},
                timeout=timeout + 5,
            )
        except CdpError as exc:
            raise SessionError(f"{name} failed: {exc}") from exc
        if "exceptionDetails" in reply:
            raise BridgeError(f"{name} failed: {_exception_text(reply['exceptionDetails'])}")
        return reply.get("result", {}).get("value")

    def memory_bytes(self) -> int:
        """Return the PSS of Chrome's whole process tree."""
        return self.browser.pss_bytes() if self.browser else 0

    def pids(self) -> list[int]:
        """Return Chrome's process ids."""
        return [p.pid for p in self.browser.processes()] if self.browser else []


def _exception_text(details: dict[str, Any]) -> str:
    exception = details.get("exception") or {}
    text = exception.get("description") or details.get("text") or "unknown error"
    return _first_line(text).removeprefix("Error: ")


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else "unknown error"


def _describe(exc: Exception) -> str:
    if isinstance(exc, WebDriverException):
        return _first_line(exc.msg or str(exc)).removeprefix("unknown error: ")
    return _first_line(str(exc))

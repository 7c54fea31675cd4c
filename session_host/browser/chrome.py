"""Launch one headless Chromium per agent (undetected-chromedriver or plain Selenium) and end it.

Nothing is downloaded at run time: the Debian `chromium-headless-shell` (default when headless)
or `chromium`, and `chromedriver` binaries are used, and undetected-chromedriver gets its own
*copy* of chromedriver because it patches the file.
"""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from contract import logs
from session_host.config import DESKTOP_USER_AGENT, HostSettings

log = logs.get_logger(__name__)

# Each flag trims memory or background traffic. Measured on the simulator page (not logged in,
# Chromium 156): ~273 MB PSS for the whole tree with uc's defaults plus the required flags,
# ~256 MB with this set; the omnibox WebUI renderer headless Chrome keeps (~32 MB) stays.
LEAN_FLAGS = (
    "--no-sandbox",  # the daemon runs as root in a container; Chrome refuses root with the sandbox
    "--disable-gpu",  # no GPU on servers: skips the GPU process setup
    "--disable-dev-shm-usage",  # containers have a tiny /dev/shm; use /tmp for shared memory
    "--disable-background-networking",  # no safe-browsing, translate or variations fetches
    "--disable-component-update",  # never download components (closed network, less memory)
    "--disable-sync",  # no Google account sync service
    "--no-first-run",  # no first-run tabs or dialogs in a fresh profile
    "--no-default-browser-check",  # no default-browser prompt
    "--disable-extensions",  # no extension processes
    "--disable-default-apps",  # no bundled apps installed into new profiles
    "--disable-background-timer-throttling",  # WhatsApp Web runs in a background tab: keep timers
    "--disable-renderer-backgrounding",  # same: an unfocused headless page must not be deprioritised
    "--in-process-gpu",  # no separate GPU process for a page that draws nothing (~-13 MB PSS)
    # no translate/cast/hints services; no spare renderer kept warm for the next navigation
    "--disable-features=Translate,MediaRouter,OptimizationHints,InterestFeedContentSuggestions,"
    "SpareRendererForSitePerProcess",
    "--metrics-recording-only",  # no metrics uploads
    "--mute-audio",  # voice notes never play
    "--password-store=basic",  # no keyring daemon on servers
    "--renderer-process-limit=2",  # one tab per Chrome: cap helper renderers
    "--js-flags=--max-old-space-size=512",  # bound a runaway page instead of the whole host
)


@dataclass
class Browser:
    """A running Chrome: the Selenium driver, its debugger address and its process id."""

    driver: webdriver.Remote
    debugger_address: str
    pid: int | None
    driver_copy: Path | None = None
    process: subprocess.Popen | None = None

    def processes(self) -> list[psutil.Process]:
        """Return Chrome's process and all its children (renderers, zygotes, utilities)."""
        if self.pid is None:
            return []
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def alive(self) -> bool:
        """Tell whether Chrome's main process still runs."""
        if self.pid is None:
            return False
        try:
            return psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def pss_bytes(self) -> int:
        """Return the proportional set size of Chrome's whole process tree."""
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_full_info().pss
        return total

    def close(self, grace: float = 20.0) -> None:
        """Quit cleanly (Chrome flushes the profile), then kill what is left of the tree by pid."""
        tree = self.processes()
        with contextlib.suppress(Exception):
            self.driver.quit()
        # uc's quit only sends SIGTERM; Chrome needs time to write the profile (the login)
        # before anything is killed, more so when many Chromes stop at once on few cores.
        started = time.monotonic()
        _gone, alive = psutil.wait_procs(tree[:1], timeout=grace)
        if alive:
            log.warning("Chrome did not exit in time; killing it", pid=self.pid, grace=grace)
        else:
            log.debug("Chrome exited", pid=self.pid, seconds=round(time.monotonic() - started, 2))
        kill_tree(tree)
        # Reap Chrome and chromedriver (uc kills the driver without waiting for it).
        service = getattr(self.driver, "service", None)
        for process in (self.process, getattr(service, "process", None)):
            if isinstance(process, subprocess.Popen):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(5)
        if self.driver_copy is not None:
            shutil.rmtree(self.driver_copy.parent, ignore_errors=True)


def kill_tree(processes: list[psutil.Process]) -> None:
    """SIGKILL the given processes that still run and reap them."""
    alive = []
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            if proc.is_running():
                proc.kill()
                alive.append(proc)
    psutil.wait_procs(alive, timeout=5)


@functools.cache
def chrome_version(chrome_path: str) -> str:
    """Return the full version of the Chromium binary (e.g. 156.0.8078.114), or "" if unknown."""
    out = subprocess.run([chrome_path, "--version"], capture_output=True, text=True, timeout=20, check=False)
    match = re.search(r"\d+\.\d+\.\d+(\.\d+)?", out.stdout)
    return match.group(0) if match else ""


def chrome_major(chrome_path: str) -> int:
    """Return the major version of the Chromium binary (e.g. 156)."""
    version = chrome_version(chrome_path)
    return int(version.split(".")[0]) if version else 0


# Chromium's "GREASE" brand (components/embedder_support/user_agent_utils.cc): derived from the
# major version so sites cannot rely on an exact brand list.
_GREASE_CHARS = (" ", "(", ":", "-", ".", "/", ")", ";", "=", "?", "_")
_GREASE_VERSIONS = ("8", "99", "24")


def desktop_brands(major: int, version: str) -> list[dict[str, str]]:
    """Return the `navigator.userAgentData` brands of desktop Chromium `major` (full list if
    `version` is given as "156.0.8078.114" and major-only otherwise): what a headless shell
    would show without its "HeadlessChrome" brand."""
    grease = f"Not{_GREASE_CHARS[major % 11]}A{_GREASE_CHARS[(major + 1) % 11]}Brand"
    grease_version = _GREASE_VERSIONS[major % 3]
    if version:
        pair = [
            {"brand": grease, "version": f"{grease_version}.0.0.0"},
            {"brand": "Chromium", "version": version},
        ]
    else:
        pair = [{"brand": grease, "version": grease_version}, {"brand": "Chromium", "version": str(major)}]
    return pair if major % 2 == 0 else pair[::-1]


def user_agent_override(settings: HostSettings, user_agent: str) -> dict[str, object]:
    """CDP `Emulation.setUserAgentOverride` parameters: the desktop user agent and client hints."""
    version = chrome_version(settings.browser_path)
    major = int(version.split(".")[0]) if version else 0
    return {
        "userAgent": user_agent,
        "platform": "Linux x86_64",
        "userAgentMetadata": {
            "brands": desktop_brands(major, ""),
            "fullVersionList": desktop_brands(major, version),
            "fullVersion": version,
            "platform": "Linux",
            "platformVersion": "",
            "architecture": "x86",
            "bitness": "64",
            "model": "",
            "mobile": False,
            "wow64": False,
        },
    }


# A desktop Chrome page has `window.chrome`; the headless shell has none.
DESKTOP_SHIM = """
if (!("chrome" in window)) {
  Object.defineProperty(window, "chrome", {
    value: {app: {isInstalled: false}, csi: function () {}, loadTimes: function () {}},
    configurable: true, enumerable: true, writable: true,
  });
}
"""


# One launch at a time per host: copying and patching chromedriver while another thread
# forks would leak the open file into that child ("Text file busy" on exec), and ten
# Chromes starting at once on two cores miss chromedriver's connect timeout.
_LAUNCH_LOCK = threading.Lock()


def launch(settings: HostSettings, profile: Path, user_agent: str) -> Browser:
    """Start Chrome on a prepared `profile` and return it (raises WebDriverException when it cannot)."""
    with _LAUNCH_LOCK:
        if settings.use_undetected:
            return _launch_undetected(settings, profile, user_agent)
        return _launch_selenium(settings, profile, user_agent)


def _common_arguments(settings: HostSettings, user_agent: str) -> list[str]:
    # navigator.webdriver stays false; the rest of the disguise is set per page (session.py).
    args = [*LEAN_FLAGS, f"--user-agent={user_agent}", "--disable-blink-features=AutomationControlled"]
    if settings.headless and not settings.uses_headless_shell:
        args.append("--headless=new")  # the shell is headless by build and takes no such flag
    return args


def _launch_undetected(settings: HostSettings, profile: Path, user_agent: str) -> Browser:
    import undetected_chromedriver as uc

    # uc patches the driver file in place: give it a private copy, never the system binary.
    workdir = Path(tempfile.mkdtemp(prefix="wagw-driver-"))
    driver_copy = workdir / "chromedriver"
    shutil.copy2(settings.chromedriver_path, driver_copy)
    options = uc.ChromeOptions()
    for arg in _common_arguments(settings, user_agent):
        if not arg.startswith("--headless"):
            options.add_argument(arg)
    if settings.uses_headless_shell:
        # The shell opens no tab of its own, and chromedriver attaching to it then finds no
        # page ("unable to discover open pages"): give it one.
        options.add_argument("about:blank")
    spawned: list[subprocess.Popen] = []
    try:
        with _quiet_browser_popen(uc, spawned):
            driver = uc.Chrome(
                options=options,
                browser_executable_path=settings.browser_path,
                driver_executable_path=str(driver_copy),
                user_data_dir=str(profile),
                # uc's headless adds --headless=new, which only full Chromium takes.
                headless=settings.headless and not settings.uses_headless_shell,
                version_main=chrome_major(settings.browser_path) or None,
                use_subprocess=True,
            )
    except Exception:
        for process in spawned:
            kill_tree([psutil.Process(process.pid)] if process.poll() is None else [])
            process.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
    return Browser(
        driver=driver,
        debugger_address=address,
        pid=driver.browser_pid,
        driver_copy=driver_copy,
        process=spawned[0] if spawned else None,
    )


class _SubprocessShim:
    """uc's view of `subprocess` during one launch: Popen without unread pipes."""

    def __init__(self, spawned: list[subprocess.Popen]):
        self._spawned = spawned

    def __getattr__(self, name: str):
        return getattr(subprocess, name)

    def Popen(self, args, **_kwargs) -> subprocess.Popen:
        # uc starts Chrome with stdout/stderr pipes it never reads and drops the Popen; we
        # keep the object (to reap Chrome) and send its output nowhere instead.
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        self._spawned.append(process)
        return process


@contextlib.contextmanager
def _quiet_browser_popen(module, spawned: list[subprocess.Popen]):
    """Swap uc's module-level `subprocess` name for the shim (under the launch lock)."""
    original = module.subprocess
    module.subprocess = _SubprocessShim(spawned)
    try:
        yield
    finally:
        module.subprocess = original


def _launch_selenium(settings: HostSettings, profile: Path, user_agent: str) -> Browser:
    options = webdriver.ChromeOptions()
    options.binary_location = settings.browser_path
    if settings.uses_headless_shell:
        # chromedriver drives the shell only when asked for it by this name.
        options.set_capability("browserName", "chrome-headless-shell")
    for arg in _common_arguments(settings, user_agent):
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("excludeSwitches", ["enable-automation"])
    driver = webdriver.Chrome(options=options, service=Service(executable_path=settings.chromedriver_path))
    address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
    pid = chrome_child_of(driver.service.process.pid)
    return Browser(driver=driver, debugger_address=address, pid=pid)


def chrome_child_of(driver_pid: int) -> int | None:
    """Return the pid of the Chrome a chromedriver process started (None if there is none)."""
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(driver_pid).children():
            if "chrom" in child.name():
                return child.pid
    return None


def desktop_user_agent(settings: HostSettings) -> str:
    """Return the configured user agent, or a normal desktop Chrome one of the same version."""
    if settings.user_agent:
        return settings.user_agent
    return DESKTOP_USER_AGENT.format(major=chrome_major(settings.browser_path) or 120)

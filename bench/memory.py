"""Memory per session, ours against the browser as the Node peers launch it, side by side.

Ours: the host's own figure (`wagw_host_chrome_pss_bytes`, PSS of each agent's whole Chrome
tree). The peer: full `chromium --headless=new` with puppeteer's default argument list (how
whatsapp-web.js, WAHA's WEBJS engine and wppconnect start it), driven by plain Selenium, one per
profile, on the same simulator page with the same wa-js injected. Both are measured in the same
run, so the ratio holds whatever else the machine does; the absolute numbers do not.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from devstack.process import wait_until
from devstack.stack import Stack
from session_host.browser.chrome import Browser, chrome_child_of
from session_host.browser.session import WAJS_PATH

MB = 1024 * 1024
# puppeteer-core's ChromeLauncher.defaultArgs (headless: true), plus --no-sandbox, which every
# peer's Docker image adds to run as root. Facts from its source, listed here to launch the same.
PUPPETEER_DISABLED_FEATURES = (
    "Translate,AcceptCHFrame,MediaRouter,OptimizationHints,WebUIReloadButton,WebUIOmniboxPopup,"
    "WebUIOmniboxAimPopup,ProcessPerSiteUpToMainFrameThreshold,IsolateSandboxedIframes"
)
PUPPETEER_ARGS = (
    "--allow-pre-commit-input",
    "--disable-background-networking",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--disable-component-extensions-with-background-pages",
    "--disable-crash-reporter",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--disable-hang-monitor",
    "--disable-infobars",
    "--disable-ipc-flooding-protection",
    "--disable-popup-blocking",
    "--disable-prompt-on-repost",
    "--disable-renderer-backgrounding",
    "--disable-search-engine-choice-screen",
    "--disable-sync",
    "--enable-automation",
    "--export-tagged-pdf",
    "--force-color-profile=srgb",
    "--generate-pdf-document-outline",
    "--metrics-recording-only",
    "--no-first-run",
    "--password-store=basic",
    "--use-mock-keychain",
    f"--disable-features={PUPPETEER_DISABLED_FEATURES}",
    "--enable-features=PdfOopif",
    "--headless=new",
    "--hide-scrollbars",
    "--mute-audio",
    "--disable-extensions",
    "--no-sandbox",
)


def marginal_mb(total_small_mb: float, total_large_mb: float, small: int, large: int) -> float:
    """Return what each session past `small` adds: (total at large - total at small) / (large - small)."""
    if large <= small:
        raise ValueError("large must be more sessions than small")
    return round((total_large_mb - total_small_mb) / (large - small), 1)


def ratio(ours: float, theirs: float) -> float:
    """Return ours / theirs (0 when there is nothing to compare against)."""
    return round(ours / theirs, 2) if theirs else 0.0


def host_pss_mb(stack: Stack, agents: list[str], host_id: str = "host-a") -> list[float]:
    """Return each agent's Chrome PSS (MB) as its host reports it."""
    text = requests.get(stack.metrics_url(host_id), timeout=10).text
    values = []
    for agent_id in agents:
        match = re.search(rf'wagw_host_chrome_pss_bytes{{agent_id="{agent_id}"}} ([0-9.e+]+)', text)
        if match:
            values.append(float(match.group(1)) / MB)
    return values


def median_mb(values: list[float]) -> float:
    """Return the median, rounded to 0.1 MB (0 for no values)."""
    return round(statistics.median(values), 1) if values else 0.0


def _peer_browser(page_url: str, profile: Path) -> Browser:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (*PUPPETEER_ARGS, f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
    browser = Browser(driver=driver, debugger_address="", pid=chrome_child_of(driver.service.process.pid))
    # The peers inject their page library too (WAHA's and wppconnect's is this same wa-js).
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WAJS_PATH.read_text()})
    driver.get(page_url)
    wait_until(lambda: driver.execute_script("return document.readyState") == "complete", 30, interval=0.2)
    return browser


def peer_pss_mb(page_url: str, count: int, settle_seconds: float = 5.0) -> list[float]:
    """Open `count` peer Chromes on `page_url` side by side; return each one's PSS (MB)."""
    browsers: list[Browser] = []
    with tempfile.TemporaryDirectory(prefix="wagw-peer-") as root:
        try:
            for n in range(count):
                browsers.append(_peer_browser(page_url, Path(root) / f"peer-{n}"))
            # Idle memory is what is compared: the pages get time to finish their start-up work
            # (a pause before reading, not a wait for anything).
            time.sleep(settle_seconds)
            return [browser.pss_bytes() / MB for browser in browsers]
        finally:
            for browser in browsers:
                browser.close(grace=10)

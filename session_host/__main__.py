"""`python -m session_host`: start, register, work, and tear down in `finally`.

The first SIGTERM (or Ctrl-C) lets every lane finish its current job, closes every Chrome and
deregisters; a second one kills the Chromes by pid and exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

from contract import logs
from session_host import jobs
from session_host.config import load_settings
from session_host.host import SessionHost, serve_metrics

log = logs.get_logger("session_host")


def main() -> None:
    """Run the session host until SIGTERM/SIGINT."""
    settings = load_settings()
    logs.configure_logging(settings.log_level, service="session-host")
    # rq logs a line per job at INFO; ours already say what matters.
    for name in ("rq", "rq.worker", "rq.queue", "rq.job"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("undetected_chromedriver").setLevel(logging.WARNING)
    host = SessionHost(settings)
    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop_requested.is_set():
            log.warning("second stop signal: killing every Chrome and exiting now")
            host.kill_browsers()
            os._exit(1)
        log.info("stop signal received: finishing current jobs", signal=signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    jobs.bind_host(host)
    try:
        serve_metrics(host)
        host.start()
        stop_requested.wait()
    finally:
        host.stop()
        jobs.bind_host(None)


if __name__ == "__main__":
    main()

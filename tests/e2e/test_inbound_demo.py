"""`make demo` runs the whole inbound loop on a fresh working directory and exits 0."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest
import requests

from devstack.process import PYTHON, ROOT, wait_until

pytestmark = pytest.mark.e2e


def test_the_demo_prints_the_ai_reply_and_exits_zero(tmp_path):
    # when
    done = subprocess.run(
        [PYTHON, "-m", "simulator.demo", "--workdir", str(tmp_path / "demo")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    # then
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'The user received the AI\'s reply: "Echo: Halo! Ada promo hari ini?"' in done.stdout
    assert "█" in done.stdout or "▀" in done.stdout  # the QR was drawn in the terminal


def test_the_demo_reports_a_failing_step_and_exits_non_zero(tmp_path):
    # given a machine without redis-server on the PATH
    done = subprocess.run(
        [PYTHON, "-m", "simulator.demo", "--workdir", str(tmp_path / "demo")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/nonexistent"},
    )
    assert done.returncode == 1
    assert "demo failed: redis-server is not installed" in done.stderr


def test_keep_leaves_the_stack_up_until_interrupted(tmp_path):
    # given the demo started with --keep
    out = tmp_path / "demo.out"
    with open(out, "w") as sink:
        demo = subprocess.Popen(
            [PYTHON, "-m", "simulator.demo", "--keep", "--workdir", str(tmp_path / "demo")],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_until(lambda: "press Ctrl-C" in out.read_text() or demo.poll() is not None, 240)
        assert demo.poll() is None, out.read_text()
        api = re.search(r"API:\s+(http://\S+)", out.read_text()).group(1)
        # then the printed API answers
        assert requests.get(f"{api}/health", timeout=5).ok
        # when interrupted
        demo.send_signal(signal.SIGINT)
        assert demo.wait(60) == 0
        # then what it started is gone
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{api}/health", timeout=5)
    finally:
        if demo.poll() is None:
            demo.terminate()  # it stops what it started, by pid
            demo.wait(60)

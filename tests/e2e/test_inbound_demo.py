"""`make demo` runs the whole inbound loop on a fresh working directory and exits 0."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.processes import PYTHON, ROOT

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

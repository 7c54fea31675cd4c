"""The arithmetic behind `make bench`'s ratios and marginals (not timed: pure functions)."""

from __future__ import annotations

import pytest

from bench.memory import PUPPETEER_ARGS, marginal_mb, median_mb, ratio
from bench.registry import latency_summary


def test_marginal_is_the_growth_per_added_session():
    # 5 sessions take 450 MB in all, 10 take 750 MB: each of the 5 more added 60 MB
    assert marginal_mb(450.0, 750.0, 5, 10) == 60.0
    assert marginal_mb(450.0, 450.0, 5, 10) == 0.0
    with pytest.raises(ValueError):
        marginal_mb(450.0, 750.0, 10, 5)


def test_ratio_of_ours_to_the_peer():
    assert ratio(90.0, 180.0) == 0.5
    assert ratio(76.4, 169.0) == 0.45
    assert ratio(10.0, 0.0) == 0.0  # nothing measured to compare against


def test_median_of_sessions():
    assert median_mb([80.04, 90.0, 70.0]) == 80.0
    assert median_mb([]) == 0.0


def test_latency_summary_percentiles():
    summary = latency_summary([float(n) for n in range(1, 101)], duration_s=10)
    assert summary == {"p50": 50.5, "p99": 99.0, "count": 100, "rate_per_s": 10.0}
    assert latency_summary([]) == {"p50": 0.0, "p99": 0.0, "count": 0}


def test_the_peer_is_launched_as_puppeteer_launches_headless_chromium():
    assert "--headless=new" in PUPPETEER_ARGS and "--enable-automation" in PUPPETEER_ARGS
    assert len(PUPPETEER_ARGS) == len(set(PUPPETEER_ARGS))

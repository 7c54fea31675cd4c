"""Key formats and job names live in the contract: one place to change, nothing built by hand."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from contract import jobs, keys

ROOT = Path(__file__).resolve().parents[2]
# A string literal that starts like one of our Redis keys (not the CLI's "wagw: message").
_LITERAL_KEY = re.compile(r"""["']wagw:[^\s"']""")


def test_every_key_builder_starts_with_the_prefix_and_keeps_its_arguments():
    for name, builder in inspect.getmembers(keys, inspect.isfunction):
        if name == "annotations":
            continue
        arity = len(inspect.signature(builder).parameters)
        args = [f"arg{i}" for i in range(arity)]
        if name in ("boxes", "box"):
            args[0] = keys.INBOUND_PREFIX
        if name in ("box_lease", "box_attempts"):
            args[0] = keys.box(keys.INBOUND_PREFIX, "a1", "c1")
        key = builder(*args)
        assert key.startswith(f"{keys.PREFIX}:"), name
        for arg in args:
            assert arg in key, (name, arg)


def test_the_same_kind_of_key_never_collides_across_agents():
    assert keys.live("a1") != keys.live("a2")
    assert keys.box(keys.INBOUND_PREFIX, "a1", "c") != keys.box(keys.WEBHOOKS_PREFIX, "a1", "c")
    assert keys.inbound_seen("a1", "m") != keys.inbound_done("a1", "m")


def test_no_module_outside_the_contract_spells_a_key_by_hand():
    offenders = []
    for package in ("functions", "session_host", "contract"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "keys.py" and path.parent.name == "contract":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if _LITERAL_KEY.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_worker_job_name_resolves_to_a_function():
    for name in jobs.WorkerJob:
        module, _, attribute = name.value.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute)), name


def test_job_ids_are_fresh_and_named_after_the_entry_point():
    first, second = jobs.new_job_id(jobs.JobName.SEND_TEXT), jobs.new_job_id(jobs.JobName.SEND_TEXT)
    assert first != second
    assert first.startswith("send_text-")
    assert jobs.new_job_id(jobs.WorkerJob.INBOUND_DRAIN, "inbound").startswith("inbound-")

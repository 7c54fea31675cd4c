"""Schemathesis, with all its checks, against the served OpenAPI document of a real stack.

One agent is linked (its key authorises the agent endpoints; ADMIN_TOKEN the others). The
host takes one session, so the generated `POST /sessions` bodies meet a full host (503) instead
of starting a Chrome each; the agent endpoints are pinned to the linked agent so sends reach the
simulator. The run's exit code is the verdict (a failed check exits non-zero); its report is
shown on failure.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.jobs import MediaRef
from devstack.stack import EVENTS_SECRET, Stack
from functions import media_links
from functions.config import Settings
from tests.e2e.conftest import fresh_stack
from tests.support.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

TOKEN = "fuzz-admin-token-51c2"
AGENT = "agent-fuzz"
KEY = "fuzz-agent-key-90d3"
PHONE = "6281200000091"
AUTH = {"Authorization": f"Bearer {KEY}"}
SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"
MAX_EXAMPLES = 25

CONFIG = """
base-url = "{api_url}"
request-timeout = 30
# One worker: Hypothesis describing strategies from two threads trips a CPython 3.11 AST bug.
workers = 1
continue-on-failure = true


[checks]
# The outside world answers with documented gateway errors: a full host (503 NO_SESSION_HOST),
# an absent AI backend (502 AI_DOWNSTREAM_ERROR) or a QR that did not come (504). A 500 still fails.
not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "502", "503", "504"]
# 410 is a refusal too: a message the run itself deleted for everyone (MESSAGE_REVOKED).
negative_data_rejection.expected-statuses = [
  "400", "401", "403", "404", "405", "406", "409", "410", "415", "422", "428", "429", "5xx"
]

[generation]
max-examples = {max_examples}
# Unknown query parameters and headers are ignored (as most HTTP APIs do; proxies add headers),
# so adding one does not make a request invalid: do not generate such "negative" cases.
allow-extra-parameters = false

# The first matching entry applies: the most specific first.
[[operations]]
include-path = "/agents/{{agentId}}/media"
headers = {{ Authorization = "Bearer {key}" }}
parameters = {{ agentId = "{agent}" }}
# A URL must resolve to a public address and data must decode as base64: no schema can say so (400);
# a generated Idempotency-Key comes back with another generated body: refused by design (422).
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "409", "422", "429", "5xx"]

[[operations]]
include-name = "PUT /agents/{{agentId}}/webhooks"
headers = {{ Authorization = "Bearer {key}" }}
parameters = {{ agentId = "{agent}" }}
# A webhook URL must resolve to a public address (here nothing resolves): no schema can say so (400).
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "409", "422", "429", "5xx"]

[[operations]]
include-name = "POST /agents/{{agentId}}/reaction"
headers = {{ Authorization = "Bearer {key}" }}
parameters = {{ agentId = "{agent}" }}
# "One emoji" is no JSON Schema pattern (400 for other text).
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "409", "422", "429", "5xx"]

[[operations]]
include-name = "POST /agents/{{agentId}}/poll"
headers = {{ Authorization = "Bearer {key}" }}
parameters = {{ agentId = "{agent}" }}
# selectableCount may not exceed the number of options: no schema can say so (400).
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "409", "422", "429", "5xx"]

[[operations]]
include-tag = "agents"
headers = {{ Authorization = "Bearer {key}" }}
parameters = {{ agentId = "{agent}" }}
# 410: a message the stateful phase deleted for everyone, looked up again (MESSAGE_REVOKED).
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "409", "410", "422", "429", "5xx"]

[[operations]]
include-name = "GET /media/{{token}}"
# A real link (to a real file), as an AI backend gets in its request.
parameters = {{ token = "{media_token}" }}

[[operations]]
include-name = "GET /sessions"
headers = {{ Authorization = "Bearer {token}" }}
# `cursor` is opaque: only a nextCursor the API returned is valid (400 otherwise).
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404"]

[[operations]]
include-name = "POST /jobs/{{jobId}}/requeue"
headers = {{ Authorization = "Bearer {token}" }}
# A delivered send of the linked agent: requeueing it meets the real job (409 JOB_NOT_FAILED).
parameters = {{ jobId = "{job_id}" }}

[[operations]]
include-name = "POST /sessions"
headers = {{ Authorization = "Bearer {token}" }}
# The same for the `webhooks` a new session may carry.
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"
]

[[operations]]
include-tag = "sessions"
headers = {{ Authorization = "Bearer {token}" }}
"""


def schemathesis(
    stack: Stack, workdir: Path, *selection: str, job_id: str = "none"
) -> subprocess.CompletedProcess[str]:
    """Run every phase with every check on the selected operations; return the finished run."""
    config = workdir / "schemathesis.toml"
    config.write_text(
        CONFIG.format(
            api_url=stack.api_url,
            key=KEY,
            agent=AGENT,
            token=TOKEN,
            job_id=job_id,
            max_examples=MAX_EXAMPLES,
            media_token=media_token(stack),
        )
    )
    base = [str(SCHEMATHESIS), "--config-file", str(config), "run", f"{stack.api_url}/openapi.json"]
    # A fixed seed keeps `make test` repeatable (FUZZ_SEED=<n> explores elsewhere). Hypothesis'
    # large_base_example health check is about generation cost, not the API: the recipient
    # pattern's smallest example trips it on some seeds.
    common = ["--checks", "all", "--no-color", "--seed", os.environ.get("FUZZ_SEED", "1")]
    common += ["--suppress-health-check", "large_base_example", *selection]
    single = subprocess.run(
        [*base, "--phases", "examples,coverage,fuzzing", *common],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=400,
    )
    # Sequences of valid calls (send, then look up, edit, delete). Bad input is the phases
    # above's job: in sequences schemathesis 4.32 fills a negative case's broken parameter from
    # a link and still expects a rejection (its issue #2983), so that check is left out here.
    stateful = subprocess.run(
        [
            *base,
            "--phases",
            "stateful",
            "--mode",
            "positive",
            *common,
            "--exclude-checks",
            "negative_data_rejection",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=400,
    )
    return subprocess.CompletedProcess(
        single.args,
        single.returncode or stateful.returncode,
        single.stdout + "\n" + stateful.stdout,
        single.stderr + stateful.stderr,
    )


def media_token(stack: Stack) -> str:
    """Store a file as the host stores inbound media and return the token of its link."""
    folder = stack.temp_dir / "inbound"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fuzz-photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    ref = MediaRef(kind="file", path=str(path), filename="photo.jpg", mime_type="image/jpeg", size=20)
    settings = Settings(events_secret=EVENTS_SECRET, temp_dir=str(stack.temp_dir), port=9)
    return media_links.link(settings, ref).rsplit("/", 1)[1]


def report(run: subprocess.CompletedProcess[str]) -> str:
    return run.stdout[-20000:] + run.stderr[-4000:]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[Stack]:
    api = {"admin_token": TOKEN, "qr_wait_seconds": 2, "send_wait_seconds": 5, "stop_wait_seconds": 5}
    with fresh_stack(tmp_path_factory, pg_url, api=api, host={"max_sessions": 1}) as running:
        running.link(AGENT, PHONE, KEY)
        yield running


def test_agent_endpoints_conform_with_the_linked_agent(stack: Stack, tmp_path: Path):
    run = schemathesis(stack, tmp_path, "--include-tag", "agents")
    assert run.returncode == 0, report(run)
    assert "Failures:" not in run.stdout and " passed" in run.stdout, report(run)
    # A warning may remain (media URLs that resolve nowhere are mostly refused), not a failure.
    # The agent's key held for the whole run: every agent operation got past authentication.
    assert "Authentication failed" not in run.stdout, report(run)
    assert stack.session(AGENT)["liveState"]["isReady"] is True


def test_session_and_operator_endpoints_conform(stack: Stack, tmp_path: Path):
    # Runs second: the stateful phase may delete or reconnect the linked agent it finds listed.
    sent = stack.api(
        "POST",
        f"/agents/{AGENT}/messages",
        json={"to": "6281200000092", "message": "before the run"},
        headers=AUTH,
    )
    assert sent.status_code == 200, sent.text
    run = schemathesis(stack, tmp_path, "--exclude-tag", "agents", job_id=sent.json()["jobId"])
    assert run.returncode == 0, report(run)
    assert run.stdout.count("No issues found") == 2, report(run)  # no failure and no warning, either run

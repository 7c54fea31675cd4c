#!/usr/bin/env bash
# `make run`: the gateway on embedded defaults (see devstack/run.py). Ctrl-C or SIGTERM stops
# everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m devstack run

#!/usr/bin/env bash
# Build the two release artifacts Terraform uploads:
#   var/dist/lambda.zip   the API for Lambda: functions/ + contract/ + Linux wheels of its dependencies
#   var/dist/app.tar.gz   the EC2 hosts' release: source, runtime requirements, the pinned wa-js bundle
# Usage: infra/scripts/build_artifacts.sh [x86_64|arm64] [3.12]   (match the api module's
# architecture and runtime; build_lambda_zip.sh says what the zip leaves out and why).
set -euo pipefail
cd "$(dirname "$0")/../.."

ARCH="${1:-x86_64}"
LAMBDA_PYTHON="${2:-3.12}"

PY="${PYTHON:-.venv/bin/python}"
DIST=var/dist
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DIST"

infra/scripts/build_lambda_zip.sh "$ARCH" "$LAMBDA_PYTHON" "$DIST/lambda.zip"
# Runtime pins are everything above the "# Tests and tooling" line of requirements.txt.
awk '/^# Tests and tooling/ {exit} {print}' requirements.txt > "$WORK/requirements-runtime.txt"

WA_JS=session_host/bridge/node_modules/@wppconnect/wa-js/dist
if [ ! -d "$WA_JS" ]; then
  echo "missing $WA_JS: run 'make bundle' first" >&2
  exit 1
fi
mkdir -p "$WORK/app"
cp -r functions contract session_host "$WORK/app/"
rm -rf "$WORK/app/session_host/bridge/node_modules"
mkdir -p "$WORK/app/$(dirname "$WA_JS")"
cp -r "$WA_JS" "$WORK/app/$WA_JS"
cp "$WORK/requirements-runtime.txt" pyproject.toml "$WORK/app/"

"$PY" infra/scripts/write_archive.py tar "$WORK/app" "$DIST/app.tar.gz"
ls -l "$DIST/lambda.zip" "$DIST/app.tar.gz"

#!/usr/bin/env bash
# Build the two release artifacts Terraform uploads:
#   var/dist/lambda.zip   the API for Lambda: functions/ + contract/ + Linux wheels of its dependencies
#   var/dist/app.tar.gz   the EC2 hosts' release: source, runtime requirements, the pinned wa-js bundle
# Usage: infra/scripts/build_artifacts.sh [x86_64|arm64] [3.12]   (match the api module's
# architecture and runtime). Lambda's python3.12+ runtimes run Amazon Linux 2023 (glibc 2.34),
# so manylinux wheels up to 2_34 load; python3.11 runs Amazon Linux 2 (glibc 2.26), too old for
# some pinned wheels (pillow 13 ships manylinux_2_28 only).
set -euo pipefail
cd "$(dirname "$0")/../.."

ARCH="${1:-x86_64}"
LAMBDA_PYTHON="${2:-3.12}"
case "$ARCH" in
  x86_64) MACHINE=x86_64 ;;
  arm64) MACHINE=aarch64 ;;
  *) echo "architecture must be x86_64 or arm64, got: $ARCH" >&2; exit 2 ;;
esac

PY="${PYTHON:-.venv/bin/python}"
DIST=var/dist
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DIST"

# Runtime pins are everything above the "# Tests and tooling" line of requirements.txt.
awk '/^# Tests and tooling/ {exit} {print}' requirements.txt > "$WORK/requirements-runtime.txt"
# The API never drives a browser (DESIGN: functions/ never imports selenium).
grep -v -E '^(selenium|undetected-chromedriver)==' "$WORK/requirements-runtime.txt" > "$WORK/requirements-lambda.txt"

# pip matches platform tags exactly, so name every glibc baseline up to Amazon Linux 2023's.
PLATFORMS=()
for glibc in 2014 _2_28 _2_34; do PLATFORMS+=(--platform "manylinux${glibc}_$MACHINE"); done
echo "lambda: installing $(grep -c '==' "$WORK/requirements-lambda.txt") pinned packages for cp$LAMBDA_PYTHON $MACHINE"
"$PY" -m pip install --quiet --target "$WORK/lambda" "${PLATFORMS[@]}" --implementation cp \
  --python-version "$LAMBDA_PYTHON" --only-binary=:all: -r "$WORK/requirements-lambda.txt"
cp -r functions contract "$WORK/lambda/"

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

"$PY" - "$WORK" "$DIST" <<'PY'
"""Write both archives with sorted entries and no caches, so equal sources give equal bytes."""
import os
import sys
import tarfile
import zipfile

work, dist = sys.argv[1], sys.argv[2]


def files(root):
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if not name.endswith(".pyc"):
                path = os.path.join(folder, name)
                yield path, os.path.relpath(path, root)


with zipfile.ZipFile(os.path.join(dist, "lambda.zip"), "w", zipfile.ZIP_DEFLATED) as archive:
    for path, name in files(os.path.join(work, "lambda")):
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = (os.stat(path).st_mode & 0o777) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as handle:
            archive.writestr(info, handle.read())


def reset(info):
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info


with tarfile.open(os.path.join(dist, "app.tar.gz"), "w:gz") as archive:
    for path, name in files(os.path.join(work, "app")):
        archive.add(path, arcname=name, filter=reset)
PY
ls -l "$DIST/lambda.zip" "$DIST/app.tar.gz"

#!/usr/bin/env bash
# Build the API's Lambda zip: functions/ + contract/ + wheels of only what the API imports.
# Usage: infra/scripts/build_lambda_zip.sh [x86_64|arm64|local] [3.12] [out.zip]
#   x86_64/arm64 (default x86_64, python 3.12): manylinux wheels for the api module's
#     architecture and runtime, whatever machine builds it (pip --platform --only-binary).
#     Lambda's python3.12 runtime runs Amazon Linux 2023 (glibc 2.34), so manylinux wheels up to
#     2_34 load; python3.11 runs Amazon Linux 2 (glibc 2.26), too old for pinned pillow 13.
#   local: the same pins resolved for this machine's interpreter, so a test can import the zip
#     here (a cp312 pydantic-core does not load into the python3.11 of the dev machines).
# Left out: boto3/botocore/s3transfer/jmespath/dateutil (the Lambda runtime ships boto3; the API
# calls only s3.put_object and secretsmanager.get_secret_value, years old), selenium and
# undetected-chromedriver and psutil (session host only), gunicorn (local server), alembic/Mako
# (migrations run on the worker), setuptools/pip, console scripts, tests and .pyc caches.
# Same inputs give the same bytes: sorted entries, one fixed mtime, fixed permissions.
set -euo pipefail
cd "$(dirname "$0")/../.."

ARCH="${1:-x86_64}"
LAMBDA_PYTHON="${2:-3.12}"
OUT="${3:-var/dist/lambda.zip}"
PY="${PYTHON:-.venv/bin/python}"

TARGET=()
case "$ARCH" in
  x86_64 | arm64)
    MACHINE=$([ "$ARCH" = arm64 ] && echo aarch64 || echo x86_64)
    # pip matches platform tags exactly, so name every glibc baseline up to Amazon Linux 2023's.
    for glibc in 2014 _2_28 _2_34; do TARGET+=(--platform "manylinux${glibc}_$MACHINE"); done
    TARGET+=(--implementation cp --python-version "$LAMBDA_PYTHON" --only-binary=:all:)
    ;;
  local) TARGET+=(--only-binary=:all:) ;;
  *) echo "architecture must be x86_64, arm64 or local, got: $ARCH" >&2; exit 2 ;;
esac

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$OUT")"

EXCLUDED='boto3|botocore|s3transfer|selenium|undetected-chromedriver|psutil|gunicorn|alembic|setuptools'
# Runtime pins are everything above the "# Tests and tooling" line of requirements.txt.
awk '/^# Tests and tooling/ {exit} {print}' requirements.txt |
  grep -v -i -E "^($EXCLUDED)==" > "$WORK/requirements-lambda.txt"

"$PY" -m pip install --quiet --disable-pip-version-check --no-compile --no-warn-conflicts --target "$WORK/lambda" \
  "${TARGET[@]}" -r "$WORK/requirements-lambda.txt"
# What the API never loads, by path inside the install (globs, relative to the target):
#   Pillow codecs besides PNG (qrcode writes PNG through PIL._imaging + zlib only) and the
#   bundled libraries only they link (readelf -d), so AVIF/WebP/fonts/colour profiles go;
#   SQLAlchemy's dialects other than PostgreSQL/SQLite and its test harness; type stubs;
#   SQLAlchemy's Cython builds of its `*_cy.py` modules (2.6 MB): the same .py files run as
#   plain Python when the .so is absent — slower row processing, irrelevant for the few rows
#   an API request reads, and the difference between a 17 MB and a 15 MB zip;
#   emoji's name tables in other languages (emoji_<lang>.json, 3.9 MB; reactions only ask
#   is_emoji, which reads emoji.json);
#   tzdata (arrow's dependency; the RQ dashboard only converts to UTC, which needs no zone
#   database) and the unminified Bootstrap copies the dashboard's pages never load.
PRUNED=(
  tzdata 'tzdata-*.dist-info'
  'emoji/unicode_codes/emoji_*.json'
  rq_dashboard/static/css/bootstrap.css rq_dashboard/static/js/bootstrap.bundle.js
  bin
  'PIL/_avif.*' 'PIL/_webp.*' 'PIL/_imagingft.*' 'PIL/_imagingcms.*' 'PIL/_imagingtk.*'
  'pillow.libs/libavif-*' 'pillow.libs/libwebp*' 'pillow.libs/libsharpyuv-*'
  'pillow.libs/libfreetype-*' 'pillow.libs/libharfbuzz-*' 'pillow.libs/libbrotli*'
  'pillow.libs/libpng16-*' 'pillow.libs/liblcms2-*'
  sqlalchemy/dialects/mysql sqlalchemy/dialects/oracle sqlalchemy/dialects/mssql sqlalchemy/testing
  'sqlalchemy/*/_*_cy.*.so'
)
(cd "$WORK/lambda" && for pattern in "${PRUNED[@]}"; do rm -rf -- $pattern; done && find . -name '*.pyi' -delete)
cp -r functions contract "$WORK/lambda/"

"$PY" infra/scripts/write_archive.py zip "$WORK/lambda" "$OUT"

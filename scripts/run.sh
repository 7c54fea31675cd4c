#!/usr/bin/env bash
# Run the gateway on embedded defaults: SQLite, a local Redis (started here if none answers),
# migrations, then the API under gunicorn. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p var/run var/log
export PORT="${PORT:-8080}"
export DATABASE_URL="${DATABASE_URL:-sqlite:///var/gateway.db}"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# REDIS_PORT: where the local Redis is looked for (and started) when REDIS_URL is unset.
if [ -z "${REDIS_URL:-}" ]; then
  redis_port="${REDIS_PORT:-6379}"
  export REDIS_URL="redis://127.0.0.1:${redis_port}/0"
  if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
    echo "starting a local redis-server on 127.0.0.1:${redis_port} (logs: var/log/redis.log)"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir var \
      >var/log/redis.log 2>&1 &
    pids+=($!)
    for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 \
      || { echo "redis-server did not start; see var/log/redis.log" >&2; exit 1; }
  fi
fi

.venv/bin/python -m functions.migrate
echo "API on http://127.0.0.1:${PORT}  (health: /health)"
.venv/bin/gunicorn -c functions/gunicorn_conf.py "functions.app:create_app()" &
pids+=($!)
echo "inbound worker: python -m functions.worker (logs: var/log/worker.log)"
.venv/bin/python -m functions.worker >>var/log/worker.log 2>&1 &
pids+=($!)
wait -n "${pids[@]}"

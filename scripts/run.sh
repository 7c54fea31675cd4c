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

# SIMULATOR=1 is the offline stack: with no AI_BACKEND_URL, the demo AI (echo) answers too.
if [ "${SIMULATOR:-0}" = 1 ] && [ -z "${AI_BACKEND_URL:-}" ]; then
  ai_port="${DEMO_AI_PORT:-8090}"
  .venv/bin/python -m simulator.ai_backend --port "$ai_port" >>var/log/ai-backend.log 2>&1 &
  pids+=($!)
  export AI_BACKEND_URL="http://127.0.0.1:${ai_port}"
  echo "demo AI backend on ${AI_BACKEND_URL} (logs: var/log/ai-backend.log)"
fi

.venv/bin/python -m functions.migrate
echo "API on http://127.0.0.1:${PORT}  (health: /health)"
.venv/bin/gunicorn -c functions/gunicorn_conf.py "functions.app:create_app()" &
pids+=($!)
echo "inbound worker: python -m functions.worker (logs: var/log/worker.log)"
.venv/bin/python -m functions.worker >>var/log/worker.log 2>&1 &
pids+=($!)

# Session host: real WhatsApp Web (WA_WEB_URL unset) by default. SIMULATOR=1 starts the
# offline simulator on SIMULATOR_PORT (8070) and points the host at it instead.
if [ "${SIMULATOR:-0}" = 1 ] && [ -z "${WA_WEB_URL:-}" ]; then
  sim_port="${SIMULATOR_PORT:-8070}"
  .venv/bin/python -m simulator --port "$sim_port" >>var/log/simulator.log 2>&1 &
  pids+=($!)
  export WA_WEB_URL="http://127.0.0.1:${sim_port}/"
  echo "simulator on ${WA_WEB_URL} (control API: ${WA_WEB_URL}control/health; logs: var/log/simulator.log)"
fi
export EVENTS_URL="${EVENTS_URL:-http://127.0.0.1:${PORT}}"
echo "session host -> ${WA_WEB_URL:-https://web.whatsapp.com} (logs: var/log/session-host.log," \
  "metrics: http://127.0.0.1:${METRICS_PORT:-9108}/metrics)"
.venv/bin/python -m session_host >>var/log/session-host.log 2>&1 &
pids+=($!)
wait -n "${pids[@]}"

#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis the tests use are answering; start them when not.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    WITH_POSTGRES=1 "$(dirname "$0")/ensure-system.sh"
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
  # A fresh install uses password auth on TCP: give postgres the password the tests use.
  su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
fi
psql "postgresql://postgres:postgres@127.0.0.1:5432/postgres" -tAc \
  "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql "postgresql://postgres:postgres@127.0.0.1:5432/postgres" -qc "CREATE DATABASE test"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

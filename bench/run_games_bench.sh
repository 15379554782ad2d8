#!/usr/bin/env bash
# Games benchmark: Gunicorn (gevent) on PostgreSQL + Redis, driven by wrk (closed loop, one
# player per connection) and an open-loop generator; then the ledger is checked for every
# player. Needs the PostgreSQL and Redis named below; installs wrk from Debian if missing.
#
#   bash bench/run_games_bench.sh                 # defaults below
#   CONNECTIONS=64 DURATION=30 RATE=250 WORKERS=2 bash bench/run_games_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DB_NAME="${BENCH_DB:-bench_games}"
# shellcheck source=bench/env.sh
. bench/env.sh
export GUNICORN_BIND=127.0.0.1:5011
CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-30}"
RATE="${RATE:-250}"
USERS="${USERS:-$CONNECTIONS}"
mkdir -p bench/results
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
.venv/bin/python -c "import aiohttp" 2>/dev/null || .venv/bin/pip install -q -r requirements-dev.txt

psql "$PGHOST_URL/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1 \
  || psql "$PGHOST_URL/postgres" -qc "CREATE DATABASE $DB_NAME"
.venv/bin/python bench/prepare.py --users "$USERS" --tokens bench/results/tokens.txt

.venv/bin/gunicorn -c deployment/gunicorn_config.py imperioApp.wsgi:app > bench/results/gunicorn.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:5011/health >/dev/null && break; sleep 0.2; done

rounds() { psql "$DATABASE_URL" -qtAc "SELECT count(*) FROM game_rounds WHERE status = 'settled'"; }

echo "--- warm-up (5 s)"
TOKENS=bench/results/tokens.txt wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d5s -s bench/games.lua http://127.0.0.1:5011 >/dev/null

echo "--- closed loop: $CONNECTIONS connections, one player each, ${DURATION}s, $GUNICORN_WORKERS $GUNICORN_WORKER_CLASS workers"
before=$(rounds); t0=$(date +%s.%N)
TOKENS=bench/results/tokens.txt wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/games.lua http://127.0.0.1:5011 \
  | tee bench/results/wrk.txt | grep -E "Requests/sec|non-200|latency p|Socket errors" || true
after=$(rounds); t1=$(date +%s.%N)
python3 -c "print(f'settled rounds/s: {($after - $before) / ($t1 - $t0):.0f}')"

echo "--- open loop: $RATE rounds/s offered for ${DURATION}s"
.venv/bin/python bench/openloop.py --rate "$RATE" --duration "$DURATION" --tokens bench/results/tokens.txt

echo "--- ledger check"
.venv/bin/python bench/verify_ledger.py

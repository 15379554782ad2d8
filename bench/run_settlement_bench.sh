#!/usr/bin/env bash
# Settlement against a bare money transaction, measured alternately in one run.
#
#   bash bench/run_settlement_bench.sh            # defaults below
#   ROUNDS=3 DURATION=20 SPIN_CONNECTIONS=32 MIX_CONNECTIONS=64 bash bench/run_settlement_bench.sh
#   TOURNAMENT_ENTRANTS=1000 bash bench/run_settlement_bench.sh   # every player an entrant of a running tournament
#   BENCH_DB=year KEEP_DATA=1 QUICK=1 bash bench/run_settlement_bench.sh   # on a database with data
#
# Starts the project (Gunicorn, WORKERS gevent workers, PostgreSQL + Redis) and the
# reference app bench/bare_tx_app.py (same stack, same database and players), then for each
# of ROUNDS rounds measures with wrk, one after the other: the reference, /spin alone, the
# games mix (bench/games.lua). Where pgbouncer is installed (PGBOUNCER=0 skips it), a
# PgBouncer from deployment/pgbouncer/pgbouncer.ini (transaction pooling) runs in front of
# the same database, and a second project and reference connect through it: each round
# then also measures the three through PgBouncer, so the ratio is reported both ways. Prints the median rates, their ratios to the reference, the
# p99s, the CPU per round of the app workers, the bench database's PostgreSQL backends and
# redis-server, an open-loop run at half the mix's closed-loop capacity, the statements and
# Redis commands per round (bench/round_costs.py) and the ledger check. Records the load.
# KEEP_DATA=1 keeps the database's rows (fresh players are added); QUICK=1 stops after the
# medians (no open loop, statement counts, ledger check or SQLite run).
set -euo pipefail
cd "$(dirname "$0")/.."

DB_NAME="${BENCH_DB:-bench_settlement}"
# shellcheck source=bench/env.sh
. bench/env.sh
export DB_POOL_SIZE="${DB_POOL_SIZE:-8}"
export GUNICORN_WORKER_CONNECTIONS="${WORKER_CONNECTIONS:-100}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-20}"
SPIN_CONNECTIONS="${SPIN_CONNECTIONS:-32}"
MIX_CONNECTIONS="${MIX_CONNECTIONS:-64}"
USERS="${USERS:-$MIX_CONNECTIONS}"
TOURNAMENT_ENTRANTS="${TOURNAMENT_ENTRANTS:-0}"
OUT="${OUT:-bench/results}"
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

free_port() { .venv/bin/python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
APP_PORT=$(free_port); REF_PORT=$(free_port)

psql "$PGHOST_URL/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1 \
  || psql "$PGHOST_URL/postgres" -qc "CREATE DATABASE $DB_NAME"
.venv/bin/python bench/prepare.py --users "$USERS" --tokens "$OUT/tokens.txt" --tournament-entrants "$TOURNAMENT_ENTRANTS" ${KEEP_DATA:+--keep-data} >/dev/null
# prepare.py empties Redis: a kept database's boards (a million entries each on a year of
# data) go back into the index first, as they are on a running server, not during the runs.
[ -n "${KEEP_DATA:-}" ] && FLASK_APP=imperioApp:create_app .venv/bin/flask leaderboard rebuild >/dev/null

GUNICORN_BIND=127.0.0.1:$APP_PORT .venv/bin/gunicorn -c deployment/gunicorn_config.py imperioApp.wsgi:app > "$OUT/app.log" 2>&1 &
APP=$!
GUNICORN_BIND=127.0.0.1:$REF_PORT .venv/bin/gunicorn -c deployment/gunicorn_config.py bench.bare_tx_app:app > "$OUT/ref.log" 2>&1 &
REF=$!
STARTED=("$APP" "$REF")
trap 'kill "${STARTED[@]}" 2>/dev/null; wait "${STARTED[@]}" 2>/dev/null || true; [ -z "${PGB_DIR:-}" ] || rm -rf "$PGB_DIR"' EXIT
PORTS=("$APP_PORT" "$REF_PORT")

# PgBouncer in front of the same server, as deployment/pgbouncer/pgbouncer.ini runs it.
PGB_APP=""
if [ "${PGBOUNCER:-1}" = 1 ] && command -v pgbouncer >/dev/null; then
  PG_HOSTPORT=${PGHOST_URL##*@}
  PGB_PORT=$(free_port); PGB_APP_PORT=$(free_port); PGB_REF_PORT=$(free_port)
  PGB_DIR=$(mktemp -d /tmp/imperio-bench-pgbouncer.XXXXXX)
  sed -e "s|host=10.0.0.21 port=5432|host=${PG_HOSTPORT%%:*} port=${PG_HOSTPORT##*:}|" \
    -e "s|listen_port = 6432|listen_port = $PGB_PORT|" -e "s|auth_type = scram-sha-256|auth_type = trust|" \
    -e "s|/etc/imperio/pgbouncer-userlist.txt|$PGB_DIR/userlist.txt|" \
    -e "s|unix_socket_dir = /run/imperio-pgbouncer|unix_socket_dir = $PGB_DIR|" \
    deployment/pgbouncer/pgbouncer.ini > "$PGB_DIR/pgbouncer.ini"
  echo '"postgres" ""' > "$PGB_DIR/userlist.txt"
  # PgBouncer refuses to run as root: it switches to postgres, which must read its files.
  as_user=()
  if [ "$EUID" -eq 0 ]; then chown -R postgres "$PGB_DIR"; as_user=(-u postgres); fi
  pgbouncer "${as_user[@]}" "$PGB_DIR/pgbouncer.ini" > "$OUT/pgbouncer.log" 2>&1 &
  PGB=$!
  BOUNCER_URL="postgresql://postgres@127.0.0.1:$PGB_PORT/$DB_NAME"
  DATABASE_URL=$BOUNCER_URL DB_PREPARED_STATEMENTS=0 GUNICORN_BIND=127.0.0.1:$PGB_APP_PORT \
    .venv/bin/gunicorn -c deployment/gunicorn_config.py imperioApp.wsgi:app > "$OUT/app_pgbouncer.log" 2>&1 &
  PGB_APP=$!
  for _ in $(seq 100); do psql "$BOUNCER_URL" -qtAc "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
  DATABASE_URL=$BOUNCER_URL GUNICORN_BIND=127.0.0.1:$PGB_REF_PORT \
    .venv/bin/gunicorn -c deployment/gunicorn_config.py bench.bare_tx_app:app > "$OUT/ref_pgbouncer.log" 2>&1 &
  PGB_REF=$!
  STARTED+=("$PGB_APP" "$PGB_REF" "$PGB")
  PORTS+=("$PGB_APP_PORT" "$PGB_REF_PORT")
fi
for port in "${PORTS[@]}"; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
done

cpu_ticks() {  # utime + stime of the given pids, in clock ticks
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
workers() { pgrep -P "$1" | tr '\n' ' '; }
pg_backends() { psql "$PGHOST_URL/postgres" -qtAc "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE datname = '$DB_NAME'"; }
redis_pid() { redis-cli -u "$REDIS_URL" info server | awk -F: '/^process_id/ {print $2}' | tr -d '\r'; }
# Counted from the ids before the run, so that a database with a year of rows costs no more to count.
last_id() { psql "$DATABASE_URL" -qtAc "SELECT COALESCE(max(id), 0) FROM $1"; }
rounds_settled() { psql "$DATABASE_URL" -qtAc "SELECT count(*) FROM game_rounds WHERE id > $1 AND status = 'settled'"; }
ledger_rows() { psql "$DATABASE_URL" -qtAc "SELECT count(*) FROM transactions WHERE id > $1"; }

# shellcheck disable=SC2086  # pid lists are meant to split into words
# measure NAME PORT CONNECTIONS ROUND MASTER_PID: one wrk run (bench/games.lua in mode ROUND); appends "name rate p99 app_ms pg_ms redis_ms errors" to $OUT/runs.txt
measure() {
  local name=$1 port=$2 conns=$3 mode=$4 master=$5
  local pids pg redis before_app before_pg before_redis before_pgb before_id t0 t1 out units
  pids=$(workers "$master"); pg=$(pg_backends); redis=$(redis_pid)
  if [ "${name%_pgbouncer}" = reference ]; then before_id=$(last_id transactions); else before_id=$(last_id game_rounds); fi
  before_app=$(cpu_ticks $pids); before_pg=$(cpu_ticks $pg); before_redis=$(cpu_ticks $redis); before_pgb=$(cpu_ticks ${PGB:-})
  t0=$(date +%s.%N)
  out=$(ROUND=$mode TOKENS="$OUT/tokens.txt" wrk -t"$conns" -c"$conns" -d"${DURATION}s" --latency -s bench/games.lua "http://127.0.0.1:$port")
  t1=$(date +%s.%N)
  if [ "${name%_pgbouncer}" = reference ]; then units=$(( $(ledger_rows "$before_id") / 2 )); else units=$(rounds_settled "$before_id"); fi
  # The pools open connections as the load grows: backends started during the run count from zero.
  local pg_after; pg_after=$(pg_backends)
  local app_ticks=$(( $(cpu_ticks $pids) - before_app )) pg_ticks=$(( $(cpu_ticks $pg_after) - before_pg )) redis_ticks=$(( $(cpu_ticks $redis) - before_redis ))
  local pgb_ticks=$(( $(cpu_ticks ${PGB:-}) - before_pgb ))
  local p99 errors
  p99=$(echo "$out" | awk '/latency p99:/ {print $3}')
  errors=$(echo "$out" | awk '/non-200 responses:/ {print $3}')
  python3 - "$name" "$units" "$t0" "$t1" "$p99" "$app_ticks" "$pg_ticks" "$redis_ticks" "$errors" "$(getconf CLK_TCK)" "$pgb_ticks" >> "$OUT/runs.txt" <<'PY'
import sys
name, units, t0, t1, p99, app, pg, redis, errors, hz, pgb = sys.argv[1:]
units, seconds, hz = int(units), float(t1) - float(t0), int(hz)
per = lambda ticks: 1000 * int(ticks) / hz / max(units, 1)
print(f"{name} {units / seconds:.1f} {p99} {per(app):.3f} {per(pg):.3f} {per(redis):.3f} {errors or 0} {per(pgb):.3f}")
PY
  tail -1 "$OUT/runs.txt"
}

echo "=== $(date -u +%FT%TZ) $(nproc) cores; load before: $(cat /proc/loadavg); tournament entrants: $TOURNAMENT_ENTRANTS"
: > "$OUT/runs.txt"
echo "--- warm-up"
TOKENS="$OUT/tokens.txt" wrk -t8 -c8 -d3s -s bench/games.lua "http://127.0.0.1:$APP_PORT" >/dev/null
ROUND=bare wrk -t8 -c8 -d3s -s bench/games.lua "http://127.0.0.1:$REF_PORT" >/dev/null
if [ -n "$PGB_APP" ]; then
  TOKENS="$OUT/tokens.txt" wrk -t8 -c8 -d3s -s bench/games.lua "http://127.0.0.1:$PGB_APP_PORT" >/dev/null
  ROUND=bare wrk -t8 -c8 -d3s -s bench/games.lua "http://127.0.0.1:$PGB_REF_PORT" >/dev/null
fi
echo "--- alternating runs: name rounds/s p99_ms app_cpu_ms pg_cpu_ms redis_cpu_ms non200 pgbouncer_cpu_ms (per round)"
for round in $(seq "$ROUNDS"); do
  echo "round $round, load $(cut -d' ' -f1-3 /proc/loadavg)"
  measure reference "$REF_PORT" "$SPIN_CONNECTIONS" bare "$REF"
  measure spin "$APP_PORT" "$SPIN_CONNECTIONS" spin "$APP"
  measure mix "$APP_PORT" "$MIX_CONNECTIONS" mix "$APP"
  if [ -n "$PGB_APP" ]; then
    measure reference_pgbouncer "$PGB_REF_PORT" "$SPIN_CONNECTIONS" bare "$PGB_REF"
    measure spin_pgbouncer "$PGB_APP_PORT" "$SPIN_CONNECTIONS" spin "$PGB_APP"
    measure mix_pgbouncer "$PGB_APP_PORT" "$MIX_CONNECTIONS" mix "$PGB_APP"
  fi
done

echo "--- medians and ratios"
python3 - "$OUT/runs.txt" <<'PY' | tee "$OUT/summary.txt"
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rate, p99, app, pg, redis, errors, pgb = line.split()
    runs.setdefault(name, []).append((float(rate), float(p99), float(app), float(pg), float(redis), float(pgb), int(errors)))
med = {name: [statistics.median(v[i] for v in values) for i in range(6)] + [sum(v[6] for v in values)] for name, values in runs.items()}
for name, (rate, p99, app, pg, redis, pgb, errors) in med.items():
    # Through PgBouncer, the ratio is to the reference through PgBouncer too.
    ref = med["reference_pgbouncer" if name.endswith("_pgbouncer") else "reference"][0]
    print(f"{name:19s} {rate:8.1f}/s  x{rate / ref:.2f} of reference  p99 {p99:7.1f} ms  "
          f"cpu/round app {app:.2f} ms, postgres {pg:.2f} ms, redis {redis:.2f} ms, pgbouncer {pgb:.2f} ms  non-200 {errors}")
print(f"half_mix_capacity {med['mix'][0] / 2:.0f}")
PY
[ -n "${QUICK:-}" ] && exit 0
HALF=$(awk '/half_mix_capacity/ {print $2}' "$OUT/summary.txt")
echo "--- open loop: $HALF rounds/s offered (half the mix's closed-loop capacity) for ${DURATION}s, load $(cut -d' ' -f1-3 /proc/loadavg)"
.venv/bin/python bench/openloop.py --rate "$HALF" --duration "$DURATION" --tokens "$OUT/tokens.txt" --url "http://127.0.0.1:$APP_PORT"

echo "--- statements and Redis traffic per round (in-process count, private redis-server)"
.venv/bin/python bench/round_costs.py --rounds 200 --tokens "$OUT/tokens.txt"

echo "--- ledger check"
.venv/bin/python bench/verify_ledger.py

echo "--- the embedded default: /spin on SQLite and in-process memory (run.py, one gevent process), $SPIN_CONNECTIONS connections, ${DURATION}s"
kill "${STARTED[@]}" 2>/dev/null; wait "${STARTED[@]}" 2>/dev/null || true
SQLITE_URL="sqlite:///$PWD/$OUT/bench.db"
SQLITE_PORT=$(free_port)
DATABASE_URL=$SQLITE_URL REDIS_URL='' .venv/bin/python bench/prepare.py --users "$SPIN_CONNECTIONS" --tokens "$OUT/sqlite_tokens.txt" >/dev/null
DATABASE_URL=$SQLITE_URL REDIS_URL='' PORT=$SQLITE_PORT .venv/bin/python run.py > "$OUT/sqlite.log" 2>&1 &
APP=$!
STARTED=("$APP")
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$SQLITE_PORT/" && break; sleep 0.2; done
ROUND=spin TOKENS="$OUT/sqlite_tokens.txt" wrk -t8 -c8 -d3s -s bench/games.lua "http://127.0.0.1:$SQLITE_PORT" >/dev/null
sqlite_rounds() { DATABASE_URL=$SQLITE_URL .venv/bin/python -c "import os; from sqlalchemy import create_engine, text; print(create_engine(os.environ['DATABASE_URL']).connect().execute(text('SELECT count(*) FROM game_rounds')).scalar_one())"; }
spins0=$(sqlite_rounds); before=$(cpu_ticks $APP); t0=$(date +%s.%N)
ROUND=spin TOKENS="$OUT/sqlite_tokens.txt" wrk -t"$SPIN_CONNECTIONS" -c"$SPIN_CONNECTIONS" -d"${DURATION}s" --latency -s bench/games.lua \
  "http://127.0.0.1:$SQLITE_PORT" | grep -E "non-200|latency p99"
t1=$(date +%s.%N); ticks=$(( $(cpu_ticks $APP) - before )); spins=$(( $(sqlite_rounds) - spins0 ))
python3 -c "import sys; s, t, hz, a, b = map(float, sys.argv[1:]); print(f'sqlite /spin: {s / (b - a):.1f} settled spins/s, app cpu {1000 * t / hz / s:.2f} ms per spin')" \
  "$spins" "$ticks" "$(getconf CLK_TCK)" "$t0" "$t1"
DATABASE_URL=$SQLITE_URL .venv/bin/python bench/verify_ledger.py | tail -1
echo "=== done $(date -u +%FT%TZ); load after: $(cat /proc/loadavg)"

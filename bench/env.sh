# shellcheck shell=bash
# Settings shared by the benchmark scripts (sourced after DB_NAME is set): the servers they
# use and the production configuration they run. The app-wide rate limit stays off, as by
# default.
PGHOST_URL="${BENCH_PG:-postgresql://postgres@127.0.0.1:5432}"
export DATABASE_URL="$PGHOST_URL/$DB_NAME"
export REDIS_URL="${BENCH_REDIS:-redis://127.0.0.1:6379/12}"
export APP_ENV=production
export SECRET_KEY="bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
export JWT_SECRET_KEY="bench-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"
export LOG_LEVEL="${LOG_LEVEL:-WARNING}"
export GUNICORN_WORKERS="${WORKERS:-2}"
export GUNICORN_WORKER_CLASS="${WORKER_CLASS:-gevent}"
unset RATELIMIT_DEFAULT

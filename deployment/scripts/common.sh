# Shared helpers for backup.sh and restore.sh (sourced, not run).
# shellcheck shell=bash

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMPERIO_DIR="${IMPERIO_DIR:-$(cd "$SCRIPTS_DIR/../.." && pwd)}"

log() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# The Python that reads URLs and runs the ledger check: the app's virtualenv when present.
find_python() {
  if [[ -n "${IMPERIO_PYTHON:-}" ]]; then
    printf '%s\n' "$IMPERIO_PYTHON"
  elif [[ -x "$IMPERIO_DIR/.venv/bin/python" ]]; then
    printf '%s\n' "$IMPERIO_DIR/.venv/bin/python"
  else
    command -v python3 || die "no Python found (set IMPERIO_PYTHON)"
  fi
}

# load_pg_env VAR [DBNAME]: export libpq variables from the URL held in $VAR, so that pg_dump,
# pg_restore and psql never see the password on their command line. Sets PG_DESCRIPTION
# (host:port/db, nothing secret) for messages.
load_pg_env() {
  local variable="$1" dbname="${2:-}" exports
  exports="$("$PYTHON" "$SCRIPTS_DIR/pgenv.py" "$variable" ${dbname:+--dbname "$dbname"})" \
    || die "cannot read the database URL in $variable"
  eval "$exports"
}

# Major version of a PostgreSQL client program (pg_dump, pg_restore, psql).
client_major() {
  "$1" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/'
}

# Major version of the server named by the PG* variables.
server_major() {
  local number
  number="$(psql -X -A -t -q -w -c 'SHOW server_version_num')" || return 1
  printf '%s\n' $(( number / 10000 ))
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is not installed (PostgreSQL client tools: postgresql-client)"
  done
}

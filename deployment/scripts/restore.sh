#!/usr/bin/env bash
# Restore an ImperioCasino dump (from backup.sh) into a database, then check the ledger.
#
#   RESTORE_DATABASE_URL=postgresql://user:pass@host/imperio_restored \
#     deployment/scripts/restore.sh [--create] [--force] /var/backups/imperio/imperio-imperio-20250101T031500Z.dump
#
# The target is RESTORE_DATABASE_URL, else DATABASE_URL (with --target-url-from VAR: the URL in
# $VAR). Keep passwords in the environment (or ~/.pgpass), never on the command line.
#
#   --create        create the target database first when it does not exist (needs CREATEDB;
#                   connects to the server's maintenance database, RESTORE_MAINTENANCE_DB,
#                   default postgres)
#   --force         restore over a database that already holds tables: the dump's objects
#                   are dropped and recreated (pg_restore --clean --if-exists)
#   --skip-ledger-check   do not run the ledger and audit checks afterwards
#
# Steps: the dump's signature (<dump>.sig, HMAC-SHA256 under BACKUP_SIGNING_KEY_FILE, default
# /etc/imperio/backup.key) must match before any database is touched: an unsigned dump, or one
# whose bytes or name changed (even with a regenerated checksum file), is refused. Then the
# SHA-256 file is checked when present and pg_restore --list must read it;
# a target holding any table is refused unless --force; pg_restore runs as one transaction
# (--single-transaction --exit-on-error: all or nothing) without owners or grants (objects
# belong to the connecting role); ANALYZE; then bench/verify_ledger.py checks for every user
# balance == SUM(transactions.amount) and each row's balance_after chain, and
# verify_audit.py walks the audit trail's hash chain.
#
# Exit status: 0 restored, the ledger holds and the audit chain is whole; 1 error (nothing
# restored, or the restore rolled back); 3 restored but the ledger or audit check FAILED (do
# not put that database in service).
set -euo pipefail
PROG=restore.sh
# shellcheck source=deployment/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }

create=0 force=0 ledger_check=1 target_variable="" dump=""
while (( $# )); do
  case "$1" in
    --create) create=1 ;;
    --force) force=1 ;;
    --skip-ledger-check) ledger_check=0 ;;
    --target-url-from) target_variable="${2:?--target-url-from needs a variable name}"; shift ;;
    -h|--help) usage 0 ;;
    -*) warn "unknown option $1"; usage 2 >&2 ;;
    *) [[ -z "$dump" ]] || die "one dump at a time"; dump="$1" ;;
  esac
  shift
done
[[ -n "$dump" ]] || usage 2 >&2
[[ -f "$dump" && -r "$dump" ]] || die "no readable dump at $dump"

if [[ -z "$target_variable" ]]; then
  if [[ -n "${RESTORE_DATABASE_URL:-}" ]]; then target_variable=RESTORE_DATABASE_URL
  elif [[ -n "${DATABASE_URL:-}" ]]; then target_variable=DATABASE_URL
  else die "name the target database: RESTORE_DATABASE_URL (or DATABASE_URL)"
  fi
fi
[[ -n "${!target_variable:-}" ]] || die "$target_variable is not set"
require_tools pg_restore psql sha256sum
PYTHON="$(find_python)"

# 1. The file: its signature first (origin), then the checksum (when backup.sh wrote one),
# then the archive's table of contents.
BACKUP_SIGNING_KEY_FILE="${BACKUP_SIGNING_KEY_FILE:-/etc/imperio/backup.key}"
[[ -r "$BACKUP_SIGNING_KEY_FILE" ]] || die "no readable signing key at $BACKUP_SIGNING_KEY_FILE (BACKUP_SIGNING_KEY_FILE)"
"$PYTHON" "$SCRIPTS_DIR/backup_signature.py" check "$BACKUP_SIGNING_KEY_FILE" "$dump" \
  || die "refusing $dump: its origin is not proven (signature)"
log "signature ok"
if [[ -f "$dump.sha256" ]]; then
  (cd "$(dirname "$dump")" && sha256sum --check --quiet "$(basename "$dump").sha256") \
    || die "$dump does not match its SHA-256 file"
  log "checksum ok"
else
  warn "no $dump.sha256: checksum not verified"
fi
toc="$(pg_restore --list "$dump")" || die "pg_restore cannot read $dump"
dumped_by="$(sed -n 's/^;[[:space:]]*Dumped by pg_dump version: //p' <<<"$toc")"
log "archive ok ($(grep -cv '^;' <<<"$toc" || true) entries, pg_dump ${dumped_by:-unknown}; pg_restore $(client_major pg_restore))"

# 2. The target: create it if asked, refuse to overwrite tables unless forced.
load_pg_env "$target_variable"
target_db="$PGDATABASE"
target="$PG_DESCRIPTION"
if (( create )); then
  load_pg_env "$target_variable" "${RESTORE_MAINTENANCE_DB:-postgres}"
  exists="$(psql -X -A -t -q -w -v ON_ERROR_STOP=1 -v db="$target_db" \
    <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")" || die "cannot connect to $PG_DESCRIPTION"
  if [[ "$exists" != 1 ]]; then
    psql -X -q -w -v ON_ERROR_STOP=1 -v db="$target_db" <<<'CREATE DATABASE :"db"' \
      || die "cannot create database $target_db"
    log "created database $target_db"
  fi
  load_pg_env "$target_variable"
fi

tables="$(psql -X -A -t -q -w -v ON_ERROR_STOP=1 <<'SQL'
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
SQL
)" || die "cannot connect to $target (use --create to create it)"
clean=()
if (( tables > 0 )); then
  (( force )) || die "$target is not empty ($tables tables, sequences or views): refusing to overwrite it without --force"
  warn "$target holds $tables relations: replacing the dump's objects (--force)"
  clean=(--clean --if-exists)
fi

# 3. Restore, all or nothing.
log "restoring into $target"
started=$SECONDS
pg_restore --dbname="$target_db" --no-password --no-owner --no-privileges \
  --single-transaction --exit-on-error "${clean[@]}" "$dump" \
  || die "pg_restore failed; the transaction rolled back and $target is as it was"
psql -X -q -w -v ON_ERROR_STOP=1 -c 'ANALYZE' >/dev/null || warn "ANALYZE failed"
revision="$(psql -X -A -t -q -w -c 'SELECT version_num FROM alembic_version' 2>/dev/null || true)"
log "restored in $(( SECONDS - started )) s; schema revision ${revision:-unknown} (run \`flask db upgrade\` if the code is newer)"

# 4. The ledger: every balance equals the sum of its ledger rows.
if (( ledger_check )); then
  if ! DATABASE_URL="${!target_variable}" "$PYTHON" "$IMPERIO_DIR/bench/verify_ledger.py"; then
    printf '%s: error: the restored database FAILS the ledger check: do not put it in service\n' "$PROG" >&2
    exit 3
  fi
  if ! DATABASE_URL="${!target_variable}" "$PYTHON" "$SCRIPTS_DIR/verify_audit.py"; then
    printf '%s: error: the restored database FAILS the audit chain check: do not put it in service\n' "$PROG" >&2
    exit 3
  fi
fi
log "done"

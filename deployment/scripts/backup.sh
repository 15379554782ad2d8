#!/usr/bin/env bash
# Back up the ImperioCasino database.
#
#   DATABASE_URL=postgresql://user:pass@host:5432/imperio deployment/scripts/backup.sh
#   systemctl start imperio-backup        # the same, with /etc/imperio/imperio.env
#
# pg_dump in custom format (compressed, restorable table by table with pg_restore) of
# DATABASE_URL into BACKUP_DIR as imperio-<db>-<UTC yyyymmddThhmmssZ>.dump. The dump is written
# under a temporary name, checked (pg_restore --list must read it and it must hold the users
# and transactions data), given a SHA-256 file and a signature (<dump>.sig: HMAC-SHA256 under
# the key in BACKUP_SIGNING_KEY_FILE, which restore.sh demands), and only then renamed into
# place. Then dumps
# of that database older than BACKUP_KEEP_DAYS are deleted; the newest one never is.
# pg_dump reads one consistent snapshot, so the ledger invariant holds in every dump.
#
# Environment:
#   DATABASE_URL      database to dump (required; the password is never printed or put on a
#                     command line)
#   BACKUP_DATABASE_URL  the same database reached directly, when DATABASE_URL goes through
#                     PgBouncer: pg_dump sets session settings a transaction pooler does not keep
#   BACKUP_DIR        directory for the dumps (default /var/backups/imperio)
#   BACKUP_KEEP_DAYS  delete this database's dumps older than this many days (default 14;
#                     0 keeps everything)
#   BACKUP_CHECKSUM   1 (default): write <dump>.sha256 next to each dump; 0: do not
#   BACKUP_COMPRESS   pg_dump compression level 0-9 (default 6)
#   BACKUP_SIGNING_KEY_FILE  the signing key (default /etc/imperio/backup.key: 32+ random bytes,
#                     readable by the backup user only); it must not lie inside BACKUP_DIR
#   IMPERIO_PYTHON    Python used to parse DATABASE_URL (default: the app's .venv, else python3)
#
# Exit status 0 when a verified dump is in place; non-zero (and no partial file) otherwise.
set -euo pipefail
PROG=backup.sh
# shellcheck source=deployment/scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
umask 077

BACKUP_DIR="${BACKUP_DIR:-/var/backups/imperio}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"
BACKUP_CHECKSUM="${BACKUP_CHECKSUM:-1}"
BACKUP_COMPRESS="${BACKUP_COMPRESS:-6}"
BACKUP_SIGNING_KEY_FILE="${BACKUP_SIGNING_KEY_FILE:-/etc/imperio/backup.key}"

[[ "$BACKUP_KEEP_DAYS" =~ ^[0-9]+$ ]] || die "BACKUP_KEEP_DAYS must be a whole number of days"
[[ "$BACKUP_COMPRESS" =~ ^[0-9]$ ]] || die "BACKUP_COMPRESS must be 0-9"
[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set"
require_tools pg_dump pg_restore psql
PYTHON="$(find_python)"
if [[ -n "${BACKUP_DATABASE_URL:-}" ]]; then load_pg_env BACKUP_DATABASE_URL; else load_pg_env DATABASE_URL; fi

mkdir -p "$BACKUP_DIR" || die "cannot create $BACKUP_DIR"
[[ -w "$BACKUP_DIR" ]] || die "$BACKUP_DIR is not writable"

# The signing key proves a dump's origin, so it must not travel with the dumps.
[[ -r "$BACKUP_SIGNING_KEY_FILE" ]] || die "no readable signing key at $BACKUP_SIGNING_KEY_FILE (BACKUP_SIGNING_KEY_FILE)"
key_path="$(realpath "$BACKUP_SIGNING_KEY_FILE")"
backup_path="$(realpath "$BACKUP_DIR")"
[[ "$key_path" != "$backup_path"/* ]] || die "the signing key must be kept outside the backup directory $BACKUP_DIR"
SIGN="$SCRIPTS_DIR/backup_signature.py"

# One backup at a time per directory.
exec 9>"$BACKUP_DIR/.backup.lock"
flock -n 9 || die "another backup is writing to $BACKUP_DIR"

# pg_dump refuses servers newer than itself; a newer pg_dump works but its dumps need an
# equally new pg_restore.
server="$(server_major)" || die "cannot connect to $PG_DESCRIPTION"
client="$(client_major pg_dump)"
if (( client < server )); then
  die "pg_dump $client is older than the server ($server): install postgresql-client-$server"
elif (( client > server )); then
  warn "pg_dump $client is newer than the server ($server): restoring this dump needs pg_restore $client or newer"
fi

# The name says which database (letters, digits, - and _ only) and when, in UTC.
db_tag="$(printf '%s' "$PGDATABASE" | tr -c 'A-Za-z0-9_-' '_')"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="imperio-$db_tag-$stamp.dump"
final="$BACKUP_DIR/$name"
partial="$BACKUP_DIR/.$name.partial"
[[ ! -e "$final" ]] || die "$final already exists"

cleanup() { rm -f "$partial" "$partial.sha256" "$partial.sig"; }
trap cleanup EXIT

log "dumping $PG_DESCRIPTION (pg_dump $client, server $server)"
started=$SECONDS
pg_dump --format=custom --compress="$BACKUP_COMPRESS" --no-password \
  --lock-wait-timeout=120000 --file="$partial" \
  || die "pg_dump of $PG_DESCRIPTION failed"

# Integrity: the archive's table of contents must read back, and hold the money tables.
toc="$(pg_restore --list "$partial")" || die "pg_restore cannot read the dump: not keeping it"
for table in users transactions; do
  grep -Eq "TABLE DATA [^ ]+ $table " <<<"$toc" || die "the dump has no data for table $table: not keeping it"
done
entries="$(grep -cv '^;' <<<"$toc" || true)"

digest=""
if [[ "$BACKUP_CHECKSUM" == 1 ]]; then
  digest="$(sha256sum "$partial" | cut -d' ' -f1)"
  printf '%s  %s\n' "$digest" "$name" > "$partial.sha256"
fi
# Signed under its final name (the signature binds it), from the bytes being kept.
"$PYTHON" "$SIGN" sign "$BACKUP_SIGNING_KEY_FILE" "$partial" "$name" > "$partial.sig" || die "cannot sign the dump"
mv "$partial" "$final"
mv "$partial.sig" "$final.sig"
if [[ "$BACKUP_CHECKSUM" == 1 ]]; then
  mv "$partial.sha256" "$final.sha256"
fi
trap - EXIT

size="$(du -h "$final" | cut -f1)"
log "wrote $final ($size, $entries archive entries, $(( SECONDS - started )) s)${digest:+, sha256 $digest}, signed"

# Retention: this database's dumps older than BACKUP_KEEP_DAYS go; the newest always stays.
if (( BACKUP_KEEP_DAYS > 0 )); then
  cutoff="$(date -u -d "$BACKUP_KEEP_DAYS days ago" +%Y%m%dT%H%M%SZ)"
  removed=0
  shopt -s nullglob
  for old in "$BACKUP_DIR"/imperio-"$db_tag"-????????T??????Z.dump; do
    base="${old##*/}"
    taken="${base#imperio-"$db_tag"-}"
    taken="${taken%.dump}"
    if [[ "$old" != "$final" && "$taken" < "$cutoff" ]]; then
      rm -f "$old" "$old.sha256" "$old.sig"
      removed=$(( removed + 1 ))
    fi
  done
  log "retention: kept the last $BACKUP_KEEP_DAYS days, removed $removed older dump(s)"
fi

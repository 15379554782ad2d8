#!/usr/bin/env bash
# Deploy a new version of ImperioCasino on this host (run as root, e.g. through sudo).
#
#   sudo /opt/imperio/deployment/scripts/deploy.sh [--ref REF] [--skip-pull] [--skip-backup]
#                                                  [--restart] [--dry-run]
#
# Every step is idempotent: run twice in a row, the second run installs and migrates nothing,
# takes one more backup and reloads or restarts the services.
#   1. code: `git fetch` and check out REF (default: fast-forward the current branch to its
#      upstream); then the script re-executes itself from the new checkout
#   2. dependencies and units: create .venv if missing, `pip install -r requirements.txt` when
#      it changed since the last deploy, byte-compile (the services cannot write __pycache__:
#      ProtectSystem=strict), copy changed deployment/systemd/ units to /etc/systemd/system
#      (customise them with `systemctl edit`, whose drop-ins survive) and daemon-reload
#   3. backup: `systemctl start imperio-backup.service` (pg_dump before touching the schema)
#   4. migrations: `systemctl start imperio-migrate.service` (`flask db upgrade`; a failure
#      stops the deploy before any process runs the new code)
#   5. REST: `systemctl reload-or-restart imperio-api.service` (HUP: new workers on the new
#      code, old ones finish their requests; a full restart instead when requirements or units
#      changed, or with --restart), then wait for GET /health
#   6. Socket.IO: restart the instances wanted by imperio.target one at a time, each back on
#      /health before the next (its clients reconnect; NGINX sends them elsewhere meanwhile)
#   7. report GET /health/ready
#
# Migrations must stay compatible with the code still running until step 5 (add columns
# and tables first, drop them a release later).
#
# Environment: IMPERIO_DIR (default: this checkout), IMPERIO_REMOTE (origin), API_PORT (5011),
# SOCKETIO_PORTS ("5012 5013": overrides the instances found under imperio.target),
# HEALTH_TIMEOUT (seconds per process, 60), SYSTEMD_DIR (/etc/systemd/system).
# --dry-run prints the commands without running them (and needs no root).
set -euo pipefail
PROG=deploy.sh
IMPERIO_DIR="${IMPERIO_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
IMPERIO_REMOTE="${IMPERIO_REMOTE:-origin}"
API_PORT="${API_PORT:-5011}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-60}"
SYSTEMD_DIR="${SYSTEMD_DIR:-/etc/systemd/system}"

log() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
step() { printf '\n%s: === %s\n' "$PROG" "$*"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }

# run CMD...: show it, and run it unless --dry-run.
run() {
  printf '+ %s\n' "$*"
  (( dry_run )) || "$@"
}

# wait_healthy UNIT PORT: the unit is active and GET /health answers on its port.
wait_healthy() {
  local unit="$1" port="$2" waited=0
  if (( dry_run )); then
    printf '+ wait for http://127.0.0.1:%s/health\n' "$port"
    return 0
  fi
  until curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$port/health"; do
    (( waited++ < HEALTH_TIMEOUT )) \
      || die "$unit: no answer on 127.0.0.1:$port/health within ${HEALTH_TIMEOUT}s (journalctl -u $unit)"
    sleep 1
  done
  # After a reload the old workers may answer while new ones fail to boot: the master then exits.
  sleep 2
  systemctl is-active --quiet "$unit" || die "$unit is not running (journalctl -u $unit)"
  log "$unit answers on 127.0.0.1:$port"
}

socketio_units() {
  local port unit
  if [[ -n "${SOCKETIO_PORTS:-}" ]]; then
    for port in $SOCKETIO_PORTS; do printf 'imperio-socketio@%s.service\n' "$port"; done
    return
  fi
  for unit in $(systemctl show --property=Wants --value imperio.target 2>/dev/null || true); do
    [[ "$unit" == imperio-socketio@*.service ]] && printf '%s\n' "$unit"
  done | sort
}

main() {
  ref="" pull=1 backup=1 dry_run=0 restart=0
  while (( $# )); do
    case "$1" in
      --ref) ref="${2:?--ref needs a branch, tag or commit}"; shift ;;
      --skip-pull) pull=0 ;;
      --skip-backup) backup=0 ;;
      --restart) restart=1 ;;
      --dry-run) dry_run=1 ;;
      -h|--help) usage 0 ;;
      *) printf '%s: unknown argument %s\n' "$PROG" "$1" >&2; usage 2 >&2 ;;
    esac
    shift
  done
  (( dry_run )) || [[ $EUID -eq 0 ]] || die "run as root (the services are managed with systemctl)"
  cd "$IMPERIO_DIR"

  if (( pull )); then
    step "1/7 code"
    [[ -z "$(git status --porcelain --untracked-files=no)" ]] \
      || die "$IMPERIO_DIR has local changes to tracked files: commit or discard them first"
    run git fetch --prune --tags "$IMPERIO_REMOTE"
    if [[ -n "$ref" ]]; then
      # A branch name means its newest commit on the remote.
      local target="$ref"
      if git rev-parse --verify --quiet "refs/remotes/$IMPERIO_REMOTE/$ref" >/dev/null; then
        target="$IMPERIO_REMOTE/$ref"
      fi
      run git checkout --quiet --detach "$target"
    else
      git symbolic-ref --quiet HEAD >/dev/null \
        || die "HEAD is detached (an earlier --ref deploy): say which version with --ref"
      run git merge --ff-only '@{upstream}'
    fi
    log "at $(git rev-parse --short HEAD): $(git log -1 --format=%s)"
    # Continue with the steps as the new version defines them.
    local again=(--skip-pull)
    (( backup )) || again+=(--skip-backup)
    (( restart )) && again+=(--restart)
    if (( dry_run )); then
      again+=(--dry-run)
      printf '+ exec %s %s\n' "$IMPERIO_DIR/deployment/scripts/deploy.sh" "${again[*]}"
    else
      exec "$IMPERIO_DIR/deployment/scripts/deploy.sh" "${again[@]}"
    fi
  fi

  step "2/7 dependencies and units"
  [[ -x .venv/bin/python ]] || run python3 -m venv .venv
  local requirements_hash stamp=.venv/.deployed-requirements.sha256
  requirements_hash="$(sha256sum requirements.txt | cut -d' ' -f1)"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$requirements_hash" ]]; then
    run .venv/bin/python -m pip install --quiet --upgrade pip
    run .venv/bin/python -m pip install --quiet -r requirements.txt
    (( dry_run )) || printf '%s\n' "$requirements_hash" > "$stamp"
    # New libraries (Gunicorn, gevent) are loaded by the master too: a reload is not enough.
    restart=1
  else
    log "requirements.txt unchanged since the last deploy"
  fi
  run .venv/bin/python -m compileall -q imperioApp migrations config.py bench/verify_ledger.py
  local unit_file changed=0
  for unit_file in deployment/systemd/*; do
    cmp -s "$unit_file" "$SYSTEMD_DIR/${unit_file##*/}" && continue
    run install -m 0644 "$unit_file" "$SYSTEMD_DIR/${unit_file##*/}"
    changed=1
  done
  if (( changed )); then
    run systemctl daemon-reload
    restart=1
  else
    log "systemd units unchanged"
  fi

  step "3/7 backup"
  if (( backup )); then
    run systemctl start imperio-backup.service
  else
    log "skipped (--skip-backup)"
  fi

  step "4/7 migrations"
  run systemctl start imperio-migrate.service

  step "5/7 REST API"
  if (( restart )); then
    run systemctl restart imperio-api.service
  else
    run systemctl reload-or-restart imperio-api.service
  fi
  wait_healthy imperio-api.service "$API_PORT"

  step "6/7 Socket.IO"
  local unit port found=0
  while read -r unit; do
    [[ -n "$unit" ]] || continue
    found=1
    port="${unit#imperio-socketio@}"
    port="${port%.service}"
    run systemctl restart "$unit"
    wait_healthy "$unit" "$port"
  done < <(socketio_units)
  (( found )) || log "no imperio-socketio@ instances wanted by imperio.target"

  step "7/7 readiness"
  if (( dry_run )); then
    printf '+ curl http://127.0.0.1:%s/health/ready\n' "$API_PORT"
  elif ! curl -fsS --max-time 5 "http://127.0.0.1:$API_PORT/health/ready"; then
    printf '\n%s: warning: /health/ready reports a dependency down (see above)\n' "$PROG" >&2
  fi
  printf '\n'
  log "deployed $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
}

main "$@"

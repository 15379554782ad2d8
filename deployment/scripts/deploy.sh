#!/usr/bin/env bash
# Deploy a new version of ImperioCasino on this host (run as root, e.g. through sudo).
#
#   sudo /opt/imperio/deployment/scripts/deploy.sh [--ref REF] [--skip-pull] [--skip-backup]
#                                                  [--restart] [--dry-run]
#   sudo /opt/imperio/deployment/scripts/deploy.sh --rollback [--dry-run]
#
# Every step is idempotent: run twice in a row, the second run installs and migrates nothing,
# takes one more backup and reloads or restarts the services.
#   1. code: `git fetch` and check out REF (default: fast-forward the current branch to its
#      upstream); then the script re-executes itself from the new checkout
#   2. dependencies and units: one virtualenv per requirements.lock, .venvs/<hash of the file>,
#      built with `pip install --require-hashes -r requirements.lock` (every package pinned by
#      version and hash) the first time that lock is deployed and kept for rollbacks; .venv is
#      a link to the release's one. Byte-compile (the services
#      cannot write __pycache__: ProtectSystem=strict), copy changed deployment/systemd/ units
#      to /etc/systemd/system (customise them with `systemctl edit`, whose drop-ins survive)
#      and daemon-reload
#   3. backup: `systemctl start imperio-backup.service` (pg_dump before touching the schema)
#   4. migrations: `systemctl start imperio-migrate.service` (`flask db upgrade` as the schema
#      owner, then the runtime role's grants: `flask grant-runtime-role`; a failure stops the
#      deploy before any process runs the new code, which connects as the runtime role)
#   5. REST: `systemctl reload-or-restart imperio-api.service` (HUP: new workers on the new
#      code, old ones finish their requests; a full restart instead when requirements or units
#      changed, or with --restart), then wait for GET /health
#   6. Socket.IO: restart the instances wanted by imperio.target one at a time, each back on
#      /health before the next (its clients reconnect; NGINX sends them elsewhere meanwhile)
#   7. report GET /health/ready of every process, and record the release (commit and
#      virtualenv) in .deploy/releases
#
# --rollback returns in one step to the release deployed before the current one: its commit,
# its virtualenv (still installed: no download), its units; then restarts the API and the
# Socket.IO instances as in steps 5-7. It takes no backup and runs no migration down: the
# schema stays where the newer release took it, which the older release runs on because
# migrations only add (expand) and remove only what the release before no longer uses
# (contract, a release later). Run it again to go back one more release.
#
# Environment: IMPERIO_DIR (default: this checkout), IMPERIO_REMOTE (origin), API_PORT (5011),
# SOCKETIO_PORTS ("5012 5013": overrides the instances found under imperio.target),
# HEALTH_TIMEOUT (seconds per process, 60), SYSTEMD_DIR (/etc/systemd/system),
# KEEP_ENVIRONMENTS (virtualenvs kept besides the current release's, 3).
# --dry-run prints the commands without running them (and needs no root).
set -euo pipefail
PROG=deploy.sh
IMPERIO_DIR="${IMPERIO_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
IMPERIO_REMOTE="${IMPERIO_REMOTE:-origin}"
API_PORT="${API_PORT:-5011}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-60}"
SYSTEMD_DIR="${SYSTEMD_DIR:-/etc/systemd/system}"
KEEP_ENVIRONMENTS="${KEEP_ENVIRONMENTS:-3}"
RELEASES=.deploy/releases

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

# environment_for_requirements: the virtualenv directory of this checkout's requirements.lock.
environment_for_requirements() {
  printf '.venvs/%s\n' "$(sha256sum requirements.lock | cut -c1-16)"
}

# use_environment DIR: point .venv at DIR (an atomic rename); a restart is due if it moved.
use_environment() {
  local environment="$1"
  [[ "$(readlink .venv 2>/dev/null)" == "$environment" ]] && return
  if [[ -e .venv && ! -L .venv ]]; then
    # A virtualenv from before releases had their own: keep it until the next cleanup.
    run mv .venv ".venvs/unversioned-$(date -u +%Y%m%dT%H%M%SZ)"
  fi
  run ln -sfn "$environment" .venv.next
  run mv -T .venv.next .venv
  restart=1
}

# install_release: step 2 for the checked-out code.
install_release() {
  step "2/7 dependencies and units"
  local environment
  environment="$(environment_for_requirements)"
  if [[ -e "$environment/.installed" ]]; then
    log "requirements.lock already installed in $environment"
  else
    run mkdir -p .venvs
    run rm -rf "$environment"
    run python3 -m venv "$environment"
    run "$environment/bin/python" -m pip install --quiet --upgrade pip
    # A file whose hash is not the lock's is refused: the host runs exactly what was tested.
    run "$environment/bin/python" -m pip install --quiet --require-hashes -r requirements.lock
    # Only a complete install is reused; an interrupted one is rebuilt next time.
    run touch "$environment/.installed"
  fi
  use_environment "$environment"
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
}

# restart_services: steps 5-7, the API, then each Socket.IO instance, then readiness.
restart_services() {
  step "5/7 REST API"
  if (( restart )); then
    run systemctl restart imperio-api.service
  else
    run systemctl reload-or-restart imperio-api.service
  fi
  wait_healthy imperio-api.service "$API_PORT"

  step "6/7 Socket.IO"
  local unit port found=0 ports=("$API_PORT")
  while read -r unit; do
    [[ -n "$unit" ]] || continue
    found=1
    port="${unit#imperio-socketio@}"
    port="${port%.service}"
    ports+=("$port")
    run systemctl restart "$unit"
    wait_healthy "$unit" "$port"
  done < <(socketio_units)
  (( found )) || log "no imperio-socketio@ instances wanted by imperio.target"

  step "7/7 readiness"
  for port in "${ports[@]}"; do
    if (( dry_run )); then
      printf '+ curl http://127.0.0.1:%s/health/ready\n' "$port"
    elif ! curl -fsS --max-time 5 "http://127.0.0.1:$port/health/ready"; then
      printf '\n%s: warning: 127.0.0.1:%s/health/ready reports a dependency down (see above)\n' "$PROG" "$port" >&2
    fi
    printf '\n'
  done
}

# record_release: append the running release to the history; drop unused environments.
record_release() {
  local commit environment
  commit="$(git rev-parse HEAD)"
  environment="$(readlink .venv 2>/dev/null || echo .venv)"
  if (( dry_run )); then
    printf '+ record %s %s in %s\n' "$commit" "$environment" "$RELEASES"
  else
    mkdir -p "${RELEASES%/*}"
    [[ "$(tail -n 1 "$RELEASES" 2>/dev/null | cut -d' ' -f1,2)" == "$commit $environment" ]] \
      || printf '%s %s %s\n' "$commit" "$environment" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$RELEASES"
    prune_environments
  fi
  log "deployed $(git rev-parse --short HEAD)"
}

# prune_environments: keep the current environment and those of the last releases.
prune_environments() {
  local keep directory
  keep="$(tail -n "$(( KEEP_ENVIRONMENTS + 1 ))" "$RELEASES" | cut -d' ' -f2 | sort -u)"
  for directory in .venvs/*; do
    [[ -e "$directory" ]] || continue
    grep -qxF "$directory" <<< "$keep" && continue
    [[ "$(readlink .venv)" == "$directory" ]] && continue
    log "removing $directory (no recent release uses it)"
    rm -rf "$directory"
  done
}

# rollback: the release before the current one, in one step.
rollback() {
  [[ -s "$RELEASES" ]] || die "no release history in $IMPERIO_DIR/$RELEASES: nothing to roll back to"
  (( $(wc -l < "$RELEASES") >= 2 )) || die "only one release was deployed here: nothing to roll back to"
  local current previous commit environment
  current="$(tail -n 1 "$RELEASES")"
  previous="$(tail -n 2 "$RELEASES" | head -n 1)"
  commit="${previous%% *}"
  environment="$(cut -d' ' -f2 <<< "$previous")"
  [[ "$(git rev-parse HEAD)" == "${current%% *}" ]] \
    || log "warning: HEAD is not the last deployed release ${current%% *}"
  [[ -e "$environment/.installed" ]] \
    || die "$environment of release $commit is gone: deploy it again with --ref $commit"
  step "rollback to $(git rev-parse --short "$commit"): $(git log -1 --format=%s "$commit")"
  [[ -z "$(git status --porcelain --untracked-files=no)" ]] \
    || die "$IMPERIO_DIR has local changes to tracked files: commit or discard them first"
  run git checkout --quiet --detach "$commit"
  use_environment "$environment"
  run .venv/bin/python -m compileall -q imperioApp migrations config.py bench/verify_ledger.py
  local unit_file
  for unit_file in deployment/systemd/*; do
    cmp -s "$unit_file" "$SYSTEMD_DIR/${unit_file##*/}" || run install -m 0644 "$unit_file" "$SYSTEMD_DIR/${unit_file##*/}"
  done
  run systemctl daemon-reload
  log "no migration runs down: the schema stays, and this release runs on it (expand/contract)"
  restart=1
  restart_services
  if (( dry_run )); then
    printf '+ forget %s in %s\n' "${current%% *}" "$RELEASES"
  else
    printf '%s rolled back %s\n' "$current" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >> .deploy/rolled-back
    sed -i '$d' "$RELEASES"
  fi
  log "rolled back to $(git rev-parse --short HEAD)"
}

main() {
  ref="" pull=1 backup=1 dry_run=0 restart=0 roll_back=0
  while (( $# )); do
    case "$1" in
      --ref) ref="${2:?--ref needs a branch, tag or commit}"; shift ;;
      --skip-pull) pull=0 ;;
      --skip-backup) backup=0 ;;
      --restart) restart=1 ;;
      --dry-run) dry_run=1 ;;
      --rollback) roll_back=1 ;;
      -h|--help) usage 0 ;;
      *) printf '%s: unknown argument %s\n' "$PROG" "$1" >&2; usage 2 >&2 ;;
    esac
    shift
  done
  (( dry_run )) || [[ $EUID -eq 0 ]] || die "run as root (the services are managed with systemctl)"
  cd "$IMPERIO_DIR"
  if (( roll_back )); then
    rollback
    return
  fi

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

  install_release
  step "3/7 backup"
  if (( backup )); then
    run systemctl start imperio-backup.service
  else
    log "skipped (--skip-backup)"
  fi
  step "4/7 migrations"
  run systemctl start imperio-migrate.service
  restart_services
  record_release
}

main "$@"; exit $?  # on one line: bash must not read on from a file a checkout changed

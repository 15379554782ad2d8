"""Static checks of deployment/: shell syntax, the NGINX site, the systemd units, the workflows.

Nothing here needs a database. `shellcheck` and `nginx -t` are skipped where those programs
are missing, except in the services run (REQUIRE_SERVICES=1, after .ci/run installed them),
where a missing one fails; `systemd-analyze verify` runs where systemd is installed.
"""

import inspect
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import Config
from tests.deployment.tools import require_tools

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = ROOT / "deployment"
SCRIPTS = DEPLOYMENT / "scripts"
SYSTEMD = DEPLOYMENT / "systemd"
NGINX_CONF = DEPLOYMENT / "nginx" / "imperio.conf"
WORKFLOWS = ROOT / ".github" / "workflows"
SHELL_SCRIPTS = sorted(SCRIPTS.glob("*.sh")) + [ROOT / ".ci" / "run"]
EXECUTABLES = ["backup.sh", "restore.sh", "deploy.sh"]


def run(args, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 60)
    return subprocess.run(args, **kwargs)


# --- shell scripts ---------------------------------------------------------------------------


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_script_parses(script):
    result = run(["bash", "-n", str(script)])
    assert result.returncode == 0, result.stderr


def test_shellcheck_is_clean():
    require_tools("shellcheck")
    result = run(["shellcheck", "-x", "-S", "warning", *map(str, SCRIPTS.glob("*.sh"))], cwd=ROOT)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", EXECUTABLES)
def test_entry_scripts_are_executable(name):
    assert os.access(SCRIPTS / name, os.X_OK)


def script_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k not in {"DATABASE_URL", "RESTORE_DATABASE_URL"}}
    env.update(IMPERIO_PYTHON=sys.executable, **extra)
    return env


def eval_pgenv(url, *args):
    """The PG* variables a script gets from `url`, read back through bash."""
    script = f'eval "$("$IMPERIO_PYTHON" {SCRIPTS / "pgenv.py"} THE_URL {" ".join(args)})"; env | grep "^PG" | sort; echo "DESC=$PG_DESCRIPTION"'
    result = run(["bash", "-c", script], env=script_env(THE_URL=url))
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines())


def test_pgenv_turns_a_url_into_libpq_variables():
    env = eval_pgenv("postgresql+psycopg2://app%40x:p%24ss%20w'o\"rd@db.internal:6432/imperio?sslmode=require")
    assert env["PGHOST"] == "db.internal"
    assert env["PGPORT"] == "6432"
    assert env["PGUSER"] == "app@x"
    assert env["PGPASSWORD"] == "p$ss w'o\"rd"
    assert env["PGDATABASE"] == "imperio"
    assert env["PGSSLMODE"] == "require"
    assert env["DESC"] == "db.internal:6432/imperio"  # no user, no password


def test_pgenv_can_name_another_database_and_clears_inherited_variables():
    script = f'export PGPASSWORD=inherited PGSERVICE=x; eval "$("$IMPERIO_PYTHON" {SCRIPTS / "pgenv.py"} U --dbname postgres)"; echo "${{PGPASSWORD-unset}} ${{PGSERVICE-unset}} $PGDATABASE"'
    result = run(["bash", "-c", script], env=script_env(U="postgres://u@h/imperio"))
    assert result.stdout.split() == ["unset", "unset", "postgres"]


@pytest.mark.parametrize("url", ["sqlite:///instance/imperio.db", "postgresql://u:p@h:5432/", "postgresql://h/db?bogus=1"])
def test_pgenv_refuses_what_is_not_a_postgres_database(url):
    result = run([sys.executable, str(SCRIPTS / "pgenv.py"), "U"], env=script_env(U=url))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "p@" not in result.stderr


def test_backup_fails_cleanly_without_a_postgres_database(tmp_path):
    result = run([str(SCRIPTS / "backup.sh")], env=script_env(BACKUP_DIR=str(tmp_path)))
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
    result = run([str(SCRIPTS / "backup.sh")], env=script_env(BACKUP_DIR=str(tmp_path), DATABASE_URL="sqlite:///x.db"))
    assert result.returncode != 0
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_backup_refuses_bad_settings(tmp_path):
    for setting in ({"BACKUP_KEEP_DAYS": "seven"}, {"BACKUP_COMPRESS": "11"}):
        result = run([str(SCRIPTS / "backup.sh")], env=script_env(DATABASE_URL="postgresql://h/db", **setting))
        assert result.returncode != 0
        assert "must be" in result.stderr


def test_restore_needs_a_dump_and_a_target(tmp_path):
    assert run([str(SCRIPTS / "restore.sh"), "--help"]).returncode == 0
    assert run([str(SCRIPTS / "restore.sh")], env=script_env()).returncode == 2
    result = run([str(SCRIPTS / "restore.sh"), str(tmp_path / "missing.dump")], env=script_env())
    assert result.returncode == 1 and "no readable dump" in result.stderr
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP")
    result = run([str(SCRIPTS / "restore.sh"), str(dump)], env=script_env())
    assert result.returncode == 1 and "RESTORE_DATABASE_URL" in result.stderr


def deploy_dry_run(tmp_path, *args):
    result = run(
        [str(SCRIPTS / "deploy.sh"), "--dry-run", "--skip-pull", *args],
        env=script_env(SOCKETIO_PORTS="5012 5013", SYSTEMD_DIR=str(tmp_path)),
    )
    assert result.returncode == 0, result.stderr
    return [line[2:] for line in result.stdout.splitlines() if line.startswith("+ ")]


def test_deploy_runs_backup_migrations_then_restarts_in_order(tmp_path):
    commands = deploy_dry_run(tmp_path)
    order = [
        "systemctl start imperio-backup.service",
        "systemctl start imperio-migrate.service",
        "systemctl restart imperio-api.service",  # units changed (all new here): a full restart
        "wait for http://127.0.0.1:5011/health",
        "systemctl restart imperio-socketio@5012.service",
        "wait for http://127.0.0.1:5012/health",
        "systemctl restart imperio-socketio@5013.service",
        "wait for http://127.0.0.1:5013/health",
    ]
    positions = [next(i for i, c in enumerate(commands) if step in c) for step in order]
    assert positions == sorted(positions), commands
    assert any("pip install --quiet --require-hashes -r requirements.lock" in c for c in commands)
    # Every unit is installed (the directory is empty), then systemd reloads them.
    installed = {c.split()[-1].rsplit("/", 1)[-1] for c in commands if c.startswith("install ")}
    assert installed == {p.name for p in SYSTEMD.iterdir()}
    assert "systemctl daemon-reload" in commands


def test_rollback_needs_a_release_before_the_current_one(tmp_path):
    env = script_env(SYSTEMD_DIR=str(tmp_path), IMPERIO_DIR=str(tmp_path))
    result = run([str(SCRIPTS / "deploy.sh"), "--rollback", "--dry-run"], env=env)
    assert result.returncode != 0 and "nothing to roll back to" in result.stderr
    (tmp_path / ".deploy").mkdir()
    (tmp_path / ".deploy" / "releases").write_text("abc123 .venvs/0123456789abcdef 2026-01-01T00:00:00Z\n")
    result = run([str(SCRIPTS / "deploy.sh"), "--rollback", "--dry-run"], env=env)
    assert result.returncode != 0 and "only one release" in result.stderr


def test_deploy_can_skip_the_backup(tmp_path):
    commands = deploy_dry_run(tmp_path, "--skip-backup")
    assert not any(c.startswith("systemctl") and "imperio-backup" in c for c in commands)
    assert "systemctl start imperio-migrate.service" in commands


# --- NGINX -----------------------------------------------------------------------------------


def nginx_text():
    return re.sub(r"#[^\n]*", "", NGINX_CONF.read_text())


def block(text, header):
    """The body of the first `header { ... }` block (braces balanced)."""
    start = text.index(header)
    opening = text.index("{", start)
    depth = 0
    for index in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[opening + 1 : index]
    raise AssertionError(f"unbalanced block {header}")


def directives(body, name):
    return [m.group(1).strip() for m in re.finditer(rf"(?m)^\s*{re.escape(name)}\s+([^;]*);", body)]


def server_blocks():
    text = nginx_text()
    return [block(text[m.start() :], "server") for m in re.finditer(r"(?m)^server\s*\{", text)]


def https_server():
    return next(server for server in server_blocks() if "ssl_certificate" in server)


def test_nginx_braces_balance():
    text = nginx_text()
    assert text.count("{") == text.count("}")


def test_nginx_socketio_location_upgrades_to_websocket_on_a_sticky_upstream():
    text = nginx_text()
    location = block(https_server(), "location /socket.io/")
    assert directives(location, "proxy_pass") == ["http://imperio_socketio"]
    assert directives(location, "proxy_http_version") == ["1.1"]
    headers = directives(location, "proxy_set_header")
    normalised = {" ".join(h.split()) for h in headers}
    assert {"Upgrade $http_upgrade", "Connection $connection_upgrade"} <= normalised
    # A location with its own proxy_set_header loses the server's: the proxy headers are repeated.
    for header in (
        "Host $host",
        "X-Forwarded-For $proxy_add_x_forwarded_for",
        "X-Forwarded-Proto $scheme",
        "X-Request-ID $request_id",
    ):
        assert header in normalised
    assert re.search(r"map\s+\$http_upgrade\s+\$connection_upgrade", text)
    upstream = block(text, "upstream imperio_socketio")
    assert re.search(r"(?m)^\s*ip_hash\s*;", upstream)
    ports = [s.split()[0].rsplit(":", 1)[1] for s in directives(upstream, "server")]
    assert len(ports) >= 2 and len(set(ports)) == len(ports)
    # Reads must outlive Socket.IO's ping interval + timeout, or NGINX cuts idle sockets.
    signature = inspect.signature(__import__("engineio").Server.__init__).parameters
    ping = signature["ping_interval"].default + signature["ping_timeout"].default
    (read_timeout,) = directives(location, "proxy_read_timeout")
    assert int(read_timeout.rstrip("s")) > ping
    assert directives(location, "proxy_buffering") == ["off"]


def test_nginx_rest_upstream_is_the_api_unit_port():
    text = nginx_text()
    (server,) = directives(block(text, "upstream imperio_api"), "server")
    api_unit = (SYSTEMD / "imperio-api.service").read_text()
    (bind,) = re.findall(r"GUNICORN_BIND=(\S+)", api_unit)
    assert server.split()[0] == bind
    socket_ports = {s.split()[0] for s in directives(block(text, "upstream imperio_socketio"), "server")}
    assert bind not in socket_ports


def test_nginx_forwards_client_details_and_request_id():
    server = https_server()
    headers = {" ".join(h.split()) for h in directives(server, "proxy_set_header")}
    assert {
        "X-Forwarded-For $proxy_add_x_forwarded_for",
        "X-Forwarded-Proto $scheme",
        "X-Request-ID $request_id",
        "Host $host",
    } <= headers
    (log_format,) = re.findall(r"log_format\s+imperio_json\b[^;]*;", nginx_text())
    assert '"request_id":"$request_id"' in log_format
    assert "imperio_json" in " ".join(directives(server, "access_log"))


def test_nginx_body_limit_matches_the_app():
    (limit,) = directives(https_server(), "client_max_body_size")
    assert limit.endswith("k") and int(limit[:-1]) * 1024 == Config.MAX_CONTENT_LENGTH


def test_nginx_redirects_http_and_serves_tls_without_hsts():
    text = nginx_text()
    (plain,) = [server for server in server_blocks() if "ssl_certificate" not in server]
    assert "listen 80;" in plain
    assert "return 301 https://$host$request_uri;" in " ".join(plain.split())
    server = https_server()
    assert re.search(r"listen 443 ssl", server)
    assert directives(server, "ssl_certificate") and directives(server, "ssl_certificate_key")
    assert "Strict-Transport-Security" not in text  # the app sets HSTS


def test_nginx_rate_limits_use_defined_zones_and_gzip_json():
    text = nginx_text()
    zones = {re.search(r"zone=(\w+):", z).group(1) for z in directives(text, "limit_req_zone")}
    used = {re.search(r"zone=(\w+)", u).group(1) for u in directives(text, "limit_req")}
    assert used and used <= zones
    assert all("$binary_remote_addr" in z for z in directives(text, "limit_req_zone"))
    assert directives(text, "limit_req_status") == ["429"]
    assert "application/json" in directives(https_server(), "gzip_types")[0].split()


def test_nginx_errors_it_answers_are_json():
    text = nginx_text()
    for status in ("413", "429", "503"):
        assert re.search(rf"return {status} '\{{\"error\": \{{\"code\": \"\w+\"", text), status


def test_nginx_accepts_the_configuration(tmp_path):
    require_tools("nginx", "openssl")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (
        NGINX_CONF.read_text()
        .replace("/etc/ssl/imperio/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/imperio/privkey.pem", str(tmp_path / "key.pem"))
        .replace("/var/log/nginx/", f"{tmp_path}/")
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf;\n}}\n"
    )
    result = run(
        ["nginx", "-t", "-q", "-e", str(tmp_path / "startup.log"), "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    )
    assert result.returncode == 0, result.stderr


# --- systemd ---------------------------------------------------------------------------------


def unit(name):
    """{section: [(key, value), ...]} with continuation lines joined."""
    sections, current = {}, None
    text = re.sub(r"\\\n\s*", " ", (SYSTEMD / name).read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        key, _, value = line.partition("=")
        current.append((key, value))
    return sections


def values(sections, section, key):
    return [v for k, v in sections.get(section, []) if k == key]


SERVICES = sorted(p.name for p in SYSTEMD.glob("*.service"))
LONG_RUNNING = ["imperio-api.service", "imperio-socketio@.service"]


def test_only_the_migrations_read_the_owners_credentials():
    readers = [name for name in SERVICES if "/etc/imperio/migrate.env" in values(unit(name), "Service", "EnvironmentFile")]
    assert readers == ["imperio-migrate.service"]


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_runs_hardened_as_the_dedicated_user(name):
    service = unit(name)
    assert values(service, "Service", "User") == ["imperio"]
    assert values(service, "Service", "EnvironmentFile")[0] == "/etc/imperio/imperio.env"
    assert values(service, "Service", "WorkingDirectory") == ["/opt/imperio"]
    for key, expected in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"), ("ProtectHome", "yes")):
        assert values(service, "Service", key) == [expected], key
    assert values(service, "Service", "CapabilityBoundingSet") == [""]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_app_services_migrate_first_and_restart_on_failure(name):
    service = unit(name)
    assert "imperio-migrate.service" in " ".join(values(service, "Unit", "Requires")).split()
    assert "imperio-migrate.service" in " ".join(values(service, "Unit", "After")).split()
    assert values(service, "Service", "Restart") == ["on-failure"]
    assert values(service, "Service", "Type") == ["notify"]
    assert values(service, "Service", "KillMode") == ["mixed"]
    assert int(values(service, "Service", "LimitNOFILE")[0]) >= 65536
    (exec_start,) = values(service, "Service", "ExecStart")
    assert re.fullmatch(r"/opt/imperio/\.venv/bin/gunicorn -c deployment/gunicorn_\w+\.py .*imperioApp\.wsgi:app", exec_start)
    assert values(service, "Install", "WantedBy") == ["imperio.target"]


def unit_environment(name):
    return dict(v.split("=", 1) for v in values(unit(name), "Service", "Environment"))


def gunicorn_settings(monkeypatch, config, environment):
    """The settings a Gunicorn config file yields in a unit's environment (%i = 5012, %t = /run)."""
    for key in list(os.environ):
        if key.startswith(("GUNICORN_", "SOCKETIO_")):
            monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value.replace("%i", "5012").replace("%t", "/run"))
    return runpy.run_path(str(DEPLOYMENT / config))


def test_api_service_runs_gevent_workers_that_only_publish_emits(monkeypatch):
    service = unit("imperio-api.service")
    environment = unit_environment("imperio-api.service")
    assert environment["SOCKETIO_WRITE_ONLY"] == "1"
    assert values(service, "Service", "ExecReload") == ["/bin/kill -s HUP $MAINPID"]
    settings = gunicorn_settings(monkeypatch, "gunicorn_config.py", environment)
    assert settings["worker_class"] == "gevent"
    assert settings["bind"] == "127.0.0.1:5011"
    # Its own control socket in its own runtime directory (the default path is one per user).
    (exec_start,) = values(service, "Service", "ExecStart")
    (runtime,) = values(service, "Service", "RuntimeDirectory")
    assert f"--control-socket %t/{runtime}/gunicorn.ctl" in exec_start


def test_socketio_instances_are_single_gevent_workers_on_their_own_port(monkeypatch):
    service = unit("imperio-socketio@.service")
    (exec_start,) = values(service, "Service", "ExecStart")
    assert "-c deployment/gunicorn_socketio.py" in exec_start
    environment = unit_environment("imperio-socketio@.service")
    assert environment["SOCKETIO_WRITE_ONLY"] == "0"
    settings = gunicorn_settings(monkeypatch, "gunicorn_socketio.py", environment)
    assert settings["bind"] == "127.0.0.1:5012"
    assert settings["workers"] == 1
    assert settings["worker_class"] == "gevent"
    assert settings["worker_connections"] >= 1000
    assert settings.get("max_requests", 0) == 0
    (runtime,) = values(service, "Service", "RuntimeDirectory")
    assert settings["control_socket"] == f"/run/{runtime.replace('%i', '5012')}/gunicorn.ctl"
    assert values(service, "Install", "WantedBy") == ["imperio.target"]


def test_nginx_socketio_upstream_matches_the_documented_instances():
    ports = [s.split()[0].rsplit(":", 1)[1] for s in directives(block(nginx_text(), "upstream imperio_socketio"), "server")]
    header = (SYSTEMD / "imperio-socketio@.service").read_text()
    assert f"systemctl enable --now {' '.join(f'imperio-socketio@{p}' for p in ports)}" in header


def test_migrations_are_a_oneshot_flask_db_upgrade():
    service = unit("imperio-migrate.service")
    assert values(service, "Service", "Type") == ["oneshot"]
    # As the schema's owner, whose credentials only this unit reads; then the runtime role's grants.
    assert values(service, "Service", "EnvironmentFile") == ["/etc/imperio/imperio.env", "/etc/imperio/migrate.env"]
    owner = "/usr/bin/env DATABASE_URL=${MIGRATION_DATABASE_URL} /opt/imperio/.venv/bin/flask"
    assert values(service, "Service", "ExecStart") == [
        f"{owner} db upgrade",
        f"{owner} grant-runtime-role ${{RUNTIME_DATABASE_ROLE}}",
    ]
    assert "FLASK_APP=imperioApp:create_app" in values(service, "Service", "Environment")


def test_backup_runs_daily_and_may_write_only_its_directory():
    service = unit("imperio-backup.service")
    assert values(service, "Service", "Type") == ["oneshot"]
    assert values(service, "Service", "ExecStart") == ["/opt/imperio/deployment/scripts/backup.sh"]
    (backup_dir,) = [v.split("=", 1)[1] for v in values(service, "Service", "Environment") if v.startswith("BACKUP_DIR=")]
    assert values(service, "Service", "ReadWritePaths") == [backup_dir]
    assert values(service, "Service", "UMask") == ["0077"]
    timer = unit("imperio-backup.timer")
    assert values(timer, "Timer", "Unit") == ["imperio-backup.service"]
    assert values(timer, "Timer", "Persistent") == ["true"]
    assert values(timer, "Timer", "OnCalendar")
    assert values(timer, "Install", "WantedBy") == ["timers.target"]


def example_settings():
    """The settings deployment/imperio.env.example gives, as a dict."""
    lines = [line for line in (DEPLOYMENT / "imperio.env.example").read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_environment_example_is_production_and_leaves_process_settings_to_the_units():
    settings = example_settings()
    assert settings["APP_ENV"] == "production"
    assert settings["TRUST_PROXY_HEADERS"] == "1"
    assert "RATELIMIT_DEFAULT" not in settings
    assert not [key for key in settings if key.startswith("GUNICORN_") or key == "SOCKETIO_WRITE_ONLY"]
    config_names = set(re.findall(r'_env(?:_int|_list)?\("(\w+)"', (ROOT / "config.py").read_text()))
    deployment_names = {
        "SOCKETIO_WORKER_CONNECTIONS",
        "BACKUP_DIR",
        "BACKUP_KEEP_DAYS",
        "BACKUP_CHECKSUM",
        "BACKUP_SIGNING_KEY_FILE",
        "BACKUP_DATABASE_URL",
    }
    assert set(settings) - {"APP_ENV"} <= config_names | deployment_names


@pytest.mark.skipif(
    not shutil.which("systemd-analyze"),
    reason="no systemd on this machine (systemd-analyze missing): the units are verified where systemd exists",
)
def test_systemd_units_verify(tmp_path):
    # The units name /opt/imperio; point them at this checkout so their programs exist.
    if not (ROOT / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("needs the virtualenv at .venv")
    for path in SYSTEMD.iterdir():
        (tmp_path / path.name).write_text(path.read_text().replace("/opt/imperio", str(ROOT)))
    names = [p.name for p in SYSTEMD.iterdir() if "@." not in p.name] + ["imperio-socketio@5012.service"]
    # A unit of a system package (PgBouncer's) is verified where that package is installed:
    # CI's services run installs it, a fresh machine has not yet.
    absent = {name: program for name in names if (program := _missing_program(tmp_path / name.replace("@5012", "@")))}
    names = [name for name in names if name not in absent]
    result = run(
        ["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"}
    )
    problems = [line for line in result.stderr.splitlines() if str(tmp_path) in line or "imperio" in line]
    if result.returncode != 0 and not problems:
        pytest.skip(f"systemd-analyze cannot verify here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0 and not problems, result.stderr
    if absent:
        pytest.skip(f"verified all units but {sorted(absent)}: {sorted(set(absent.values()))} not installed here")


def _missing_program(unit):
    """The first program a unit starts that is neither this checkout's nor installed, or None."""
    for line in unit.read_text().splitlines():
        if re.match(r"Exec\w*=", line):
            program = line.split("=", 1)[1].split()[0].lstrip("-@:+!")
            if program.startswith("/") and not program.startswith(str(ROOT)) and not Path(program).exists():
                return program
    return None


# --- GitHub workflows ------------------------------------------------------------------------


def test_workflows_exist_and_do_what_they_say():
    test = (WORKFLOWS / "test.yml").read_text()
    for needle in ("postgres:15", "redis:7", 'python-version: "3.11"', "bash .ci/run", "postgresql-client-15"):
        assert needle in test, needle
    deploy = (WORKFLOWS / "deploy.yml").read_text()
    for needle in ("workflow_dispatch", "secrets.DEPLOY_SSH_KEY", "deployment/scripts/deploy.sh"):
        assert needle in deploy, needle
    # Inputs reach shell commands through env variables, never pasted into the script.
    for line in deploy.splitlines():
        if "${{" in line and ("inputs." in line or "secrets." in line):
            assert re.match(r"^\s*[A-Za-z_][\w-]*:\s", line), line
    backup = (WORKFLOWS / "backup.yml").read_text()
    for needle in ("schedule", "postgres:15", "deployment/scripts/backup.sh", "deployment/scripts/restore.sh"):
        assert needle in backup, needle


def test_workflows_are_valid_yaml():
    yaml = pytest.importorskip("yaml")
    for path in WORKFLOWS.glob("*.yml"):
        document = yaml.safe_load(path.read_text())
        assert document["jobs"], path.name
        assert True in document or "on" in document, path.name  # YAML 1.1 reads `on:` as True


def test_ci_gates_coverage_floor_bandit_and_uploads_the_reports():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.count("make coverage") == 2  # both runs
    assert "make bandit" in ci
    makefile = (ROOT / "Makefile").read_text()
    assert "--cov-fail-under=$(COVERAGE_FLOOR)" in makefile and "COVERAGE_FLOOR ?= 90" in makefile
    assert "ruff format --check" in makefile
    assert "branch = True" in (ROOT / ".coveragerc").read_text()
    workflow = (WORKFLOWS / "test.yml").read_text()
    assert "actions/upload-artifact" in workflow and "coverage-*.xml" in workflow


# --- beyond one box: PgBouncer, Sentinel --------------------------------------------------------


def test_the_app_reaches_postgresql_through_a_transaction_pooling_pgbouncer_without_prepared_statements():
    ini = (DEPLOYMENT / "pgbouncer" / "pgbouncer.ini").read_text()
    assert re.search(r"(?m)^pool_mode = transaction$", ini)
    assert re.search(r"(?m)^listen_addr = 127\.0\.0\.1$", ini) and re.search(r"(?m)^listen_port = 6432$", ini)
    assert re.search(r"(?m)^auth_file = /etc/imperio/pgbouncer-userlist\.txt$", ini)
    settings = example_settings()
    assert "@127.0.0.1:6432/" in settings["DATABASE_URL"]
    assert settings["DB_PREPARED_STATEMENTS"] == "0"
    # pg_dump keeps session settings: the backup reaches the primary itself.
    assert ":6432/" not in settings["BACKUP_DATABASE_URL"]
    service = unit("imperio-pgbouncer.service")
    assert values(service, "Service", "ExecStart") == ["/usr/sbin/pgbouncer /etc/imperio/pgbouncer.ini"]
    assert values(service, "Service", "Type") == ["notify"]
    for name in LONG_RUNNING:
        after = " ".join(values(unit(name), "Unit", "After")).split()
        wants = " ".join(values(unit(name), "Unit", "Wants")).split()
        assert "imperio-pgbouncer.service" in after and "imperio-pgbouncer.service" in wants, name


def test_the_redis_url_names_the_master_the_sentinels_watch():
    conf = (DEPLOYMENT / "redis" / "sentinel.conf").read_text()
    name = re.search(r"(?m)^sentinel monitor (\S+) \S+ \d+ 2$", conf).group(1)
    assert re.search(rf"(?m)^sentinel down-after-milliseconds {name} \d+$", conf)
    url = example_settings()["REDIS_URL"]
    assert re.fullmatch(rf"redis\+sentinel://([\w.]+:26379,){{2}}[\w.]+:26379/0/{name}", url), url

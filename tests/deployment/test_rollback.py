"""deploy.sh for real: release N, then N+1 with a migration and a new requirement, then
`--rollback` to N, which serves on N+1's schema with N's own virtualenv.

The code is this working tree, committed into a scratch repository (N) and changed (N+1);
the host is a clone of it. No systemd runs here: tests/deployment/fake_systemctl.py starts
the installed units' commands instead. The database is a scratch PostgreSQL database.
"""

import os
import secrets
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text

from config import normalise_database_url
from tests.deployment.tools import require_tools
from tests.integration.test_realtime_processes import PASSWORD
from tests.processes import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
# In the development lock (pytest needs it), not the runtime one: its entry there has the hashes.
NEW_REQUIREMENT = "iniconfig==2.3.1"
PROBE_TABLE = "release_probe"


def git(cwd, *args):
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def current_head():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return head


def publish_release_n(origin, source):
    """This working tree (tracked and new files) as one commit on origin's main."""
    files = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    git(source, "add", "-A")
    git(source, "commit", "-qm", "release N")
    git(source, "push", "-q", "origin", "HEAD:main")
    return git(source, "rev-parse", "HEAD")


def locked_entry(requirement):
    """The lock entry (with its hashes) of `requirement` as the development lock has it."""
    lines = (ROOT / "requirements-dev.lock").read_text().splitlines()
    start = lines.index(f"{requirement} \\")
    entry = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    --hash="):
            break
        entry.append(line)
    return "\n".join(entry) + "\n"


def publish_release_n_plus_1(source):
    """N plus an expand-only migration (a new table) and one more requirement."""
    head = current_head()
    (source / "migrations" / "versions" / "9001_release_probe.py").write_text(
        f'''"""a table the next release adds (expand only)"""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("{PROBE_TABLE}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("{PROBE_TABLE}")
'''
    )
    with open(source / "requirements.txt", "a") as requirements:
        requirements.write(f"{NEW_REQUIREMENT}\n")
    # As `make lock` would record it: the release installs the lock, hashes and all.
    with open(source / "requirements.lock", "a") as lock:
        lock.write(locked_entry(NEW_REQUIREMENT))
    git(source, "add", "-A")
    git(source, "commit", "-qm", "release N+1")
    git(source, "push", "-q", "origin", "HEAD:main")
    return git(source, "rev-parse", "HEAD")


@pytest.fixture
def scratch_database():
    """A PostgreSQL database of its own (migrations here must not touch the suite's schema)."""
    url = make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"imperio_rollback_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # The runtime role imperio-migrate.service grants to (it owns nothing; dropped with the database).
        connection.execute(text(f"CREATE ROLE {name}_app NOLOGIN"))
    try:
        yield url.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f"DROP ROLE IF EXISTS {name}_app"))
        admin.dispose()


class Host:
    """The deployment host: the clone, the units directory and the fake service manager."""

    def __init__(self, directory, database_url):
        self.directory = directory
        self.checkout = directory / "imperio"
        self.state = directory / "systemd-state"
        self.api_port, self.socketio_port = free_port(), free_port()
        bin_dir = directory / "bin"
        bin_dir.mkdir()
        (bin_dir / "systemctl").write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "tests/deployment/fake_systemctl.py"}" "$@"\n'
        )
        (bin_dir / "systemctl").chmod(0o755)
        (directory / "units").mkdir()
        self.env_file = directory / "imperio.env"
        self.env_file.write_text(
            "\n".join(
                [
                    "APP_ENV=production",
                    f"SECRET_KEY={secrets.token_urlsafe(48)}",
                    f"JWT_SECRET_KEY={secrets.token_urlsafe(48)}",
                    f"DATABASE_URL={database_url}",
                    f"REDIS_URL={os.environ['TEST_REDIS_URL']}",
                    f"SOCKETIO_CHANNEL=imperio-socketio-test-{secrets.token_hex(4)}",
                    "LOG_LEVEL=WARNING",
                    "ARGON2_TIME_COST=1",
                    "ARGON2_MEMORY_COST=8",
                    "ARGON2_PARALLELISM=1",
                    # Free ports instead of the units' 5011 (the file wins over Environment=, as in systemd).
                    f"GUNICORN_BIND=127.0.0.1:{self.api_port}",
                    "GUNICORN_WORKERS=1",
                ]
            )
            + "\n"
        )
        # The owner's credentials (here the same test login) and the runtime role to grant.
        (directory / "migrate.env").write_text(
            f"MIGRATION_DATABASE_URL={database_url}\nRUNTIME_DATABASE_ROLE={make_url(database_url).database}_app\n"
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PROMETHEUS_", "GUNICORN_", "SOCKETIO_"))},
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "IMPERIO_DIR": str(self.checkout),
            "SYSTEMD_DIR": str(directory / "units"),
            "API_PORT": str(self.api_port),
            "SOCKETIO_PORTS": str(self.socketio_port),
            "HEALTH_TIMEOUT": "90",
            "FAKE_SYSTEMD_STATE": str(self.state),
            "FAKE_SYSTEMD_ROOT": str(self.checkout),
            "FAKE_SYSTEMD_ENV_FILE": str(self.env_file),
        }

    def deploy(self, *args):
        result = subprocess.run(
            [str(self.checkout / "deployment/scripts/deploy.sh"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        logs = (
            "".join(f"\n--- {p.name}\n{p.read_text()[-2000:]}" for p in self.state.glob("*.log")) if self.state.exists() else ""
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:] + logs
        return result.stdout

    def venv_python(self):
        return str(self.checkout / ".venv" / "bin" / "python")

    def has_new_requirement(self):
        probe = subprocess.run([self.venv_python(), "-c", "import iniconfig"], capture_output=True, timeout=60)
        return probe.returncode == 0

    def plays(self, name):
        """A player signs up, logs in and spins on the REST service the units started."""
        url = f"http://127.0.0.1:{self.api_port}"
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        assert requests.post(url + "/signup", json=body, timeout=15).status_code == 201
        token = requests.post(url + "/login", json={"username": name, "password": PASSWORD}, timeout=15).json()["access_token"]
        spin = requests.post(url + "/spin", json={"bet": 1}, headers={"Authorization": f"Bearer {token}"}, timeout=15)
        assert spin.status_code == 200, spin.text
        ready = requests.get(f"http://127.0.0.1:{self.socketio_port}/health/ready", timeout=15)
        assert ready.status_code == 200, ready.text

    def stop_everything(self):
        for pid_file in self.state.glob("*.pid"):
            subprocess.run(["systemctl", "stop", pid_file.name.removesuffix(".pid")], env=self.env, timeout=60)


def schema_revision(database_url):
    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            probe = connection.execute(text(f"SELECT to_regclass('{PROBE_TABLE}')")).scalar_one()
        return revision, probe is not None
    finally:
        engine.dispose()


def test_deploy_n_then_n_plus_1_then_roll_back_to_n(app, tmp_path, scratch_database):
    # `app`: the suite's fixture empties the Redis database the services wrote to, afterwards.
    require_tools("git", "curl", "python3")
    if os.geteuid() != 0:
        pytest.skip("deploy.sh runs as root (it manages services); run the suite as root to try it")
    origin, source = tmp_path / "origin.git", tmp_path / "source"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(tmp_path, "init", "-q", "-b", "main", str(source))
    for key, value in (("user.name", "Release"), ("user.email", "release@example.com")):
        git(source, "config", key, value)
    git(source, "remote", "add", "origin", str(origin))
    release_n = publish_release_n(origin, source)
    (tmp_path / "host").mkdir()
    git(tmp_path / "host", "clone", "-q", str(origin), "imperio")
    host = Host(tmp_path / "host", scratch_database)
    try:
        host.deploy("--ref", release_n, "--skip-backup")
        assert git(host.checkout, "rev-parse", "HEAD") == release_n
        env_n = os.readlink(host.checkout / ".venv")
        assert schema_revision(scratch_database) == (current_head(), False)
        assert not host.has_new_requirement()
        host.plays("on_n")

        release_n1 = publish_release_n_plus_1(source)
        host.deploy("--ref", release_n1, "--skip-backup")
        assert git(host.checkout, "rev-parse", "HEAD") == release_n1
        assert os.readlink(host.checkout / ".venv") != env_n
        assert schema_revision(scratch_database) == ("9001", True)
        assert host.has_new_requirement()
        host.plays("on_n_plus_1")

        output = host.deploy("--rollback")
        assert "no migration runs down" in output
        assert git(host.checkout, "rev-parse", "HEAD") == release_n
        assert os.readlink(host.checkout / ".venv") == env_n
        assert not host.has_new_requirement()
        # The schema stays at N+1's revision, and N serves on it.
        assert schema_revision(scratch_database) == ("9001", True)
        host.plays("on_n_again")
        migrate_log = (host.state / "imperio-migrate.service.log").read_text()
        assert "which this release does not know" in migrate_log
        releases = (host.checkout / ".deploy" / "releases").read_text().splitlines()
        assert [line.split()[0] for line in releases] == [release_n]
    finally:
        host.stop_everything()

"""backup.sh and restore.sh against a real PostgreSQL (the server TEST_DATABASE_URL names).

A scratch database is migrated, played on through the app, dumped by backup.sh, restored by
restore.sh into a second scratch database and compared row for row; the retention and the
scripts' refusals (non-empty target, bad checksum, drifted ledger) are checked on the way.
Both scratch databases are dropped afterwards.
"""

import os
import re
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from imperioApp.extensions import db as _db
from imperioApp.services.operators import actions
from imperioApp.services.operators.audit import Operator
from tests import factories

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "deployment" / "scripts"
# Put in the scripts' URLs when the test URL has no password (trust or .pgpass
# authentication ignore it): it must never be printed.
CANARY_PASSWORD = "canary-Pa55word"


def server_url(database):
    """`database` on the test server, for SQLAlchemy (psycopg2, as the app uses)."""
    return make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg2", database=database)


def script_url(database):
    """`database` on the test server as an operator writes it in DATABASE_URL."""
    url = server_url(database).set(drivername="postgresql")
    if url.password is None:
        url = url.set(password=CANARY_PASSWORD)
    return url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def signing_key(tmp_path_factory, monkeypatch):
    """The backup signing key, kept outside every backup directory the tests use."""
    key = tmp_path_factory.mktemp("keys") / "backup.key"
    key.write_bytes(os.urandom(32).hex().encode())
    monkeypatch.setenv("BACKUP_SIGNING_KEY_FILE", str(key))
    return key


def run_script(name, *args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k not in {"DATABASE_URL", "RESTORE_DATABASE_URL"}}
    return subprocess.run(
        [str(SCRIPTS / name), *args],
        env={**base, "IMPERIO_PYTHON": sys.executable, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def scratch_databases():
    """Two empty databases on the test server, dropped afterwards whatever happened."""
    suffix = uuid.uuid4().hex[:10]
    names = [f"imperio_backup_src_{suffix}", f"imperio_backup_dst_{suffix}"]
    admin = create_engine(server_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{names[0]}"'))
    try:
        yield names
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def snapshot(database):
    engine = create_engine(server_url(database))
    try:
        with engine.connect() as conn:
            return {
                "users": conn.execute(text("SELECT id, username, email, balance FROM users ORDER BY id")).all(),
                "ledger": conn.execute(
                    text("SELECT id, user_id, type, amount, balance_after, round_id FROM transactions ORDER BY id")
                ).all(),
                "rounds": conn.execute(
                    text("SELECT id, user_id, game_type, status, bet, payout FROM game_rounds ORDER BY id")
                ).all(),
                "revision": conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one(),
                "drift": conn.execute(
                    text("""
                    SELECT u.id FROM users u LEFT JOIN transactions t ON t.user_id = u.id
                    GROUP BY u.id, u.balance HAVING u.balance <> COALESCE(SUM(t.amount), 0)""")
                ).all(),
            }
    finally:
        engine.dispose()


def execute(database, statement):
    engine = create_engine(server_url(database))
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def play(make_app, database):
    """Migrate the database as `flask db upgrade` would, then sign up and play through the app."""
    from flask_migrate import upgrade

    app = make_app("testing", SQLALCHEMY_DATABASE_URI=server_url(database).render_as_string(hide_password=False), REDIS_URL=None)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    rich = factories.make_player(app, balance=500)
    factories.make_player(app)
    admin = factories.make_player(app, role="admin")
    with app.app_context():
        _db.session.execute(text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": admin.id})
        _db.session.commit()
        actions.adjust_balance(Operator(admin.id), rich.id, 5, "backup walk")
        actions.check_ledger(Operator(admin.id))
    client = app.test_client()
    for bet in (1, 5, 10):
        assert client.post("/spin", json={"bet": bet}, headers=rich.headers).status_code == 200
    with app.app_context():
        _db.engine.dispose()


def test_pg_dump_is_the_servers_major_version():
    engine = create_engine(server_url("postgres"))
    with engine.connect() as conn:
        server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    engine.dispose()
    version = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True, check=True).stdout
    client = int(re.search(r"(\d+)", version).group(1))
    assert client == server, f"pg_dump {client} against a PostgreSQL {server} server: install postgresql-client-{server}"


def test_backup_then_restore_round_trip(make_app, scratch_databases, tmp_path):
    source, target = scratch_databases
    play(make_app, source)
    before = snapshot(source)
    assert before["users"] and before["rounds"] and not before["drift"]

    # Earlier dumps: this database's from long ago (pruned), from yesterday (kept), and an old
    # dump of another database (not this run's business).
    backups = tmp_path / "backups"
    backups.mkdir()
    ancient = backups / f"imperio-{source}-20000101T000000Z.dump"
    recent = backups / f"imperio-{source}-{(datetime.now(timezone.utc) - timedelta(days=1)):%Y%m%dT%H%M%SZ}.dump"
    other = backups / "imperio-otherdb-20000101T000000Z.dump"
    for path in (ancient, recent, other):
        path.write_bytes(b"old")
    (backups / f"{ancient.name}.sha256").write_text("x")

    result = run_script("backup.sh", DATABASE_URL=script_url(source), BACKUP_DIR=str(backups), BACKUP_KEEP_DAYS="3")
    assert result.returncode == 0, result.stderr
    assert CANARY_PASSWORD not in result.stdout + result.stderr
    (dump,) = [p for p in backups.glob(f"imperio-{source}-*.dump") if p not in (ancient, recent)]
    assert re.fullmatch(rf"imperio-{source}-\d{{8}}T\d{{6}}Z\.dump", dump.name)
    assert (backups / f"{dump.name}.sha256").read_text().split() == [
        subprocess.run(["sha256sum", str(dump)], capture_output=True, text=True).stdout.split()[0],
        dump.name,
    ]
    assert (backups / f"{dump.name}.sig").read_text().split()[1] == dump.name
    assert not ancient.exists() and not (backups / f"{ancient.name}.sha256").exists()
    assert recent.exists() and other.exists()
    assert not list(backups.glob(".*.partial*"))
    assert oct(dump.stat().st_mode & 0o777) == "0o600"

    # Restore into a database that does not exist yet: created, filled, ledger checked.
    result = run_script("restore.sh", "--create", str(dump), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 0, result.stderr
    assert "ledger invariant holds for every player" in result.stdout
    assert CANARY_PASSWORD not in result.stdout + result.stderr
    after = snapshot(target)
    assert after == before

    # A database holding tables is not overwritten without --force.
    execute(target, "UPDATE users SET email = 'changed@example.com' WHERE id = 1")
    result = run_script("restore.sh", str(dump), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 1
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert snapshot(target)["users"][0].email == "changed@example.com"

    # With --force the dump replaces it.
    result = run_script("restore.sh", "--force", str(dump), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 0, result.stderr
    assert snapshot(target) == before

    # A dump that no longer matches its signature is refused before anything is touched, even
    # with its checksum file regenerated to match.
    tampered = tmp_path / dump.name
    tampered.write_bytes(dump.read_bytes() + b"\0")
    (tmp_path / f"{dump.name}.sig").write_text((backups / f"{dump.name}.sig").read_text())
    (tmp_path / f"{dump.name}.sha256").write_text(
        subprocess.run(["sha256sum", str(tampered)], capture_output=True, text=True).stdout.split()[0] + f"  {dump.name}\n"
    )
    result = run_script("restore.sh", "--force", str(tampered), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 1
    assert "does not match its signature" in result.stderr and "origin is not proven" in result.stderr
    # Signed correctly but checksum file stale: still refused by the checksum.
    (tmp_path / f"{dump.name}.sha256").write_text("0" * 64 + f"  {dump.name}\n")
    tampered.write_bytes(dump.read_bytes())
    result = run_script("restore.sh", "--force", str(tampered), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 1 and "does not match its SHA-256 file" in result.stderr

    # A balance changed behind the ledger's back (what the check exists to catch): the dump
    # restores, and restore.sh says loudly that it must not go into service.
    execute(source, "UPDATE users SET balance = balance + 7 WHERE id = 1")
    drifted = tmp_path / "drifted"
    result = run_script("backup.sh", DATABASE_URL=script_url(source), BACKUP_DIR=str(drifted), BACKUP_CHECKSUM="0")
    assert result.returncode == 0, result.stderr
    (dump,) = drifted.glob("imperio-*.dump")
    assert not list(drifted.glob("*.sha256"))
    result = run_script("restore.sh", "--force", str(dump), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 3
    assert "checksum not verified" in result.stderr
    assert "FAILS the ledger check" in result.stderr
    assert snapshot(target)["drift"] == [(1,)]


def test_an_unsigned_or_forged_dump_is_refused_before_any_database_is_touched(scratch_databases, tmp_path, signing_key):
    _, target = scratch_databases  # does not exist: --create would make it
    dump = tmp_path / "imperio-imperio-20260101T000000Z.dump"
    dump.write_bytes(b"PGDMP forged")
    result = run_script("restore.sh", "--create", str(dump), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 1 and "is not signed" in result.stderr
    # Signed with another key (a forger's): refused too.
    other = tmp_path / "other.key"
    other.write_bytes(b"f" * 64)
    signed = subprocess.run(
        [sys.executable, str(SCRIPTS / "backup_signature.py"), "sign", str(other), str(dump), dump.name],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / f"{dump.name}.sig").write_text(signed.stdout)
    result = run_script("restore.sh", "--create", str(dump), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 1 and "does not match its signature" in result.stderr
    admin = create_engine(server_url("postgres"))
    with admin.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target}).first() is None
    admin.dispose()


def test_the_signing_key_must_live_outside_the_backup_directory(tmp_path):
    inside = tmp_path / "backup.key"
    inside.write_bytes(b"k" * 64)
    result = run_script(
        "backup.sh", DATABASE_URL=script_url("postgres"), BACKUP_DIR=str(tmp_path), BACKUP_SIGNING_KEY_FILE=str(inside)
    )
    assert result.returncode != 0 and "outside the backup directory" in result.stderr


def test_a_restore_whose_audit_chain_is_broken_fails_its_check(make_app, scratch_databases, tmp_path):
    source, target = scratch_databases
    play(make_app, source)
    execute(source, "ALTER TABLE admin_audit DISABLE TRIGGER admin_audit_append_only")
    execute(source, "UPDATE admin_audit SET reason = 'rewritten' WHERE id = (SELECT min(id) FROM admin_audit)")
    backups = tmp_path / "backups"
    assert run_script("backup.sh", DATABASE_URL=script_url(source), BACKUP_DIR=str(backups)).returncode == 0
    (dump,) = backups.glob("imperio-*.dump")
    result = run_script("restore.sh", "--create", str(dump), RESTORE_DATABASE_URL=script_url(target))
    assert result.returncode == 3, result.stderr
    assert "AUDIT BROKEN at #" in result.stdout and "FAILS the audit chain check" in result.stderr


def test_backup_fails_when_the_database_is_unreachable(tmp_path):
    url = make_url(script_url("postgres")).set(port=1)  # nothing listens on port 1
    result = run_script("backup.sh", DATABASE_URL=url.render_as_string(hide_password=False), BACKUP_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "cannot connect" in result.stderr
    assert CANARY_PASSWORD not in result.stdout + result.stderr
    assert not list(tmp_path.glob("*.dump"))

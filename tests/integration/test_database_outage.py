"""PostgreSQL going away under a running app: 503 with Retry-After, then recovery without a restart.

The test starts a PostgreSQL cluster of its own (initdb in a temporary directory, a free
port) and stops that one; the shared server the rest of the suite uses is never touched.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from imperioApp.extensions import db
from tests.concurrency import wait_for
from tests.factories import make_player
from tests.processes import free_port

pytestmark = pytest.mark.postgres

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class PrivateCluster:
    """A throwaway PostgreSQL cluster, run as the postgres user when the tests run as root."""

    def __init__(self):
        self.bin = BINARIES[-1]
        self.dir = tempfile.mkdtemp(prefix="imperio-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool, *args):
        subprocess.run([*self.as_user, os.path.join(self.bin, tool), *args], check=True, capture_output=True, timeout=120)

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", os.path.join(self.dir, "log"), "-w", "-t", "60", "start")

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def remove(self):
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    if not BINARIES or (os.geteuid() == 0 and not shutil.which("runuser")):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    private = PrivateCluster()
    try:
        private.start()
        yield private
    finally:
        private.remove()


def test_a_database_outage_is_503_with_retry_after_then_recovers(make_app, cluster):
    app = make_app(SQLALCHEMY_DATABASE_URI=cluster.url, REDIS_URL=None, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        upgrade()
    player = make_player(app)
    client = app.test_client()
    assert client.get("/wallet", headers=player.headers).status_code == 200

    cluster.stop()
    for method, path, body in (
        ("get", "/wallet", None),
        ("post", "/spin", {"bet": 1}),
        ("post", "/login", {"username": player.username, "password": player.password}),
    ):
        started = time.monotonic()
        response = getattr(client, method)(path, json=body, headers=player.headers)
        assert response.status_code == 503, (path, response.get_json())
        assert response.get_json()["error"]["code"] == "service_unavailable"
        assert int(response.headers["Retry-After"]) > 0
        assert time.monotonic() - started < 10

    cluster.start()
    back = time.monotonic()
    assert wait_for(lambda: client.get("/wallet", headers=player.headers).status_code == 200, 30)
    recovered_in = time.monotonic() - back
    print(f"recovered {recovered_in:.3f}s after PostgreSQL accepted connections again")
    spin = client.post("/spin", json={"bet": 1}, headers=player.headers)
    assert spin.status_code == 200
    balance = client.get("/wallet", headers=player.headers).get_json()
    with app.app_context():
        ledger = db.session.execute(
            text("SELECT COALESCE(SUM(amount), 0) FROM transactions WHERE user_id = :u"), {"u": player.id}
        ).scalar_one()
        db.session.remove()
        db.engine.dispose()
    assert balance["coins"] == ledger

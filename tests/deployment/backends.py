"""PostgreSQL and Redis as production runs them, for the topology test: each started here on
free ports in a temporary directory, never the shared servers.

- a primary cluster (`initdb`), a streaming replica of it (`pg_basebackup -R`), and
  PgBouncer in transaction mode in front of the primary, from the shipped
  deployment/pgbouncer/pgbouncer.ini;
- a Redis master, a replica of it, and three sentinels watching them.

PostgreSQL and PgBouncer refuse to run as root: when the tests are root they run as the
`postgres` user, in a directory of their own (pytest's are private to root).
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import redis

from tests.deployment.tools import Process
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
PGBOUNCER_INI = ROOT / "deployment" / "pgbouncer" / "pgbouncer.ini"
SENTINEL_CONF = ROOT / "deployment" / "redis" / "sentinel.conf"
MASTER_NAME = "imperio"


def postgres_binaries():
    """The directory of this machine's newest PostgreSQL server programs (Debian keeps them off the PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def service_user():
    """(user to run PostgreSQL and PgBouncer as, or None for ourselves)."""
    return "postgres" if os.geteuid() == 0 else None


def own_directory(prefix, user):
    """A fresh temporary directory the service user owns."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    return directory


# What a server still starting up answers: refused connections, "the database system is starting up".
STARTING = (OSError, psycopg2.Error, redis.RedisError)


def pg_url(port, database="postgres"):
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def pg_query(port, sql, database="postgres"):
    """The first column of the first row of `sql`, on a fresh connection."""
    connection = psycopg2.connect(pg_url(port, database), connect_timeout=3)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None
    finally:
        connection.close()


class PostgresTopology:
    """A primary, its streaming replica and PgBouncer; `stop()` ends all three."""

    def __init__(self, log_dir, deadline):
        self.binaries = postgres_binaries()
        self.user = service_user()
        self.home = own_directory("imperio-pg-", self.user)
        self.log_dir = log_dir
        self.processes = {}
        self.primary_port, self.replica_port, self.bouncer_port = free_port(), free_port(), free_port()
        try:
            self._start_primary(deadline)
            self._start_replica(deadline)
            self._start_bouncer(deadline)
        except BaseException:
            self.stop()
            raise

    def _run(self, *args):
        subprocess.run([str(arg) for arg in args], check=True, capture_output=True, timeout=120, user=self.user)

    def _postgres(self, name, data, port, deadline, ready_sql):
        process = Process(
            name,
            [
                str(self.binaries / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(self.home),
                "-c",
                "listen_addresses=127.0.0.1",
            ],
            dict(os.environ),
            self.log_dir,
            user=self.user,
            stop_signal=signal.SIGINT,  # fast shutdown: clients are disconnected, not waited for
        )
        self.processes[name] = process
        process.wait_until(lambda: pg_query(port, ready_sql), deadline, STARTING)
        return process

    def _start_primary(self, deadline):
        data = self.home / "primary"
        self._run(self.binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(data / "postgresql.conf", "a") as conf:
            # A test cluster: durability is not what is under test, speed on a shared machine is.
            conf.write(
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nwal_level = replica\nmax_connections = 200\n"
            )
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._postgres("postgres-primary", data, self.primary_port, deadline, "SELECT 1")
        pg_query(self.primary_port, "CREATE DATABASE imperio")

    def _start_replica(self, deadline):
        data = self.home / "replica"
        self._run(
            self.binaries / "pg_basebackup", "-h", "127.0.0.1", "-p", self.primary_port, "-U", "postgres",
            "-D", data, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
        )  # fmt: skip
        self._postgres("postgres-replica", data, self.replica_port, deadline, "SELECT pg_is_in_recovery()")

    def _start_bouncer(self, deadline):
        ini = PGBOUNCER_INI.read_text()
        replacements = {
            "listen_addr = 127.0.0.1": "listen_addr = 127.0.0.1",
            "listen_port = 6432": f"listen_port = {self.bouncer_port}",
            "host=10.0.0.21 port=5432": f"host=127.0.0.1 port={self.primary_port}",
            "auth_type = scram-sha-256": "auth_type = trust",
            "/etc/imperio/pgbouncer-userlist.txt": str(self.home / "userlist.txt"),
            "unix_socket_dir = /run/imperio-pgbouncer": f"unix_socket_dir = {self.home}",
        }
        for old, new in replacements.items():
            assert old in ini, f"the shipped pgbouncer.ini no longer has {old!r}"
            ini = ini.replace(old, new)
        (self.home / "pgbouncer.ini").write_text(ini)
        (self.home / "userlist.txt").write_text('"postgres" ""\n"imperio_app" ""\n')
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for name in ("pgbouncer.ini", "userlist.txt"):
                os.chown(self.home / name, entry.pw_uid, entry.pw_gid)
        process = Process(
            "pgbouncer",
            ["pgbouncer", str(self.home / "pgbouncer.ini")],
            dict(os.environ),
            self.log_dir,
            user=self.user,
            stop_signal=signal.SIGINT,
        )
        self.processes["pgbouncer"] = process
        process.wait_until(lambda: pg_query(self.bouncer_port, "SELECT 1", "imperio") == 1, deadline, STARTING)

    @property
    def primary_url(self):
        return pg_url(self.primary_port, "imperio")

    @property
    def bouncer_url(self):
        return pg_url(self.bouncer_port, "imperio")

    @property
    def replica_url(self):
        return pg_url(self.replica_port, "imperio")

    def stop(self):
        for name in ("pgbouncer", "postgres-replica", "postgres-primary"):
            if name in self.processes:
                self.processes[name].stop()
        shutil.rmtree(self.home, ignore_errors=True)


class RedisTopology:
    """A Redis master, one replica and three sentinels; `stop()` ends them all."""

    def __init__(self, log_dir, deadline):
        self.home = Path(tempfile.mkdtemp(prefix="imperio-redis-"))
        self.log_dir = log_dir
        self.processes = {}
        self.ports = {"master": free_port(), "replica": free_port()}
        self.sentinel_ports = [free_port(), free_port(), free_port()]
        try:
            self._start(deadline)
        except BaseException:
            self.stop()
            raise

    def _server(self, name, port, *extra):
        args = [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.home),
            *extra,
        ]
        self.processes[name] = Process(f"redis-{name}", args, dict(os.environ), self.log_dir)
        return self.processes[name]

    def _start(self, deadline):
        master = self._server("master", self.ports["master"])
        master.wait_until(lambda: redis.Redis(port=self.ports["master"]).ping(), deadline, STARTING)
        replica = self._server("replica", self.ports["replica"], "--replicaof", "127.0.0.1", str(self.ports["master"]))
        replica.wait_until(
            lambda: redis.Redis(port=self.ports["replica"]).info("replication").get("master_link_status") == "up",
            deadline,
            STARTING,
        )
        template = SENTINEL_CONF.read_text()
        for index, port in enumerate(self.sentinel_ports):
            conf = template
            replacements = {
                "port 26379": f"port {port}",
                "sentinel monitor imperio 10.0.0.11 6379 2": f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.ports['master']} 2",
                "sentinel down-after-milliseconds imperio 5000": f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
                "sentinel failover-timeout imperio 60000": f"sentinel failover-timeout {MASTER_NAME} 10000",
                "dir /var/lib/redis": f"dir {self.home}",
                "logfile /var/log/redis/redis-sentinel.log": 'logfile ""',
                "pidfile /run/sentinel/redis-sentinel.pid": f"pidfile {self.home}/sentinel-{index}.pid",
                "bind 10.0.0.11 127.0.0.1": "bind 127.0.0.1",
            }
            for old, new in replacements.items():
                assert old in conf, f"the shipped sentinel.conf no longer has {old!r}"
                conf = conf.replace(old, new)
            path = self.home / f"sentinel-{index}.conf"  # a sentinel rewrites its own file
            path.write_text(conf)
            self.processes[f"sentinel{index}"] = Process(
                f"sentinel{index}", ["redis-sentinel", str(path)], dict(os.environ), self.log_dir
            )
        for index, port in enumerate(self.sentinel_ports):
            self.processes[f"sentinel{index}"].wait_until(lambda port=port: self.sentinels_known(port), deadline, STARTING)

    def sentinels_known(self, port):
        """True once the sentinel on `port` sees the master, its replica and the two other sentinels."""
        # Asked raw: redis-py's parsing of SENTINEL MASTER does not accept its own reply here.
        reply = redis.Redis(port=port, decode_responses=True).execute_command("SENTINEL", "MASTER", MASTER_NAME)
        master = dict(zip(reply[::2], reply[1::2], strict=True))
        return master["num-other-sentinels"] == "2" and master["num-slaves"] == "1"

    def master_port(self):
        """The port of the master the sentinels name now."""
        for port in self.sentinel_ports:
            try:
                client = redis.Redis(port=port, decode_responses=True, socket_timeout=2)
                return int(client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)[1])
            except redis.RedisError:
                continue
        raise RuntimeError("no sentinel answers")

    def url(self, db=0):
        """The app's REDIS_URL: the sentinels, the database, the master's name."""
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{db}/{MASTER_NAME}"

    def name_of(self, port):
        return next(name for name, known in self.ports.items() if known == port)

    def stop(self):
        for process in self.processes.values():
            process.stop()
        shutil.rmtree(self.home, ignore_errors=True)

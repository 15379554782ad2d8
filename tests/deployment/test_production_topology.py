"""The production topology, started as the units start it and driven through NGINX over TLS.

NGINX runs the shipped deployment/nginx/imperio.conf (server name, certificate, log paths
and ports substituted: free unprivileged ports instead of 80, 443, 5011-5013) in front of
the REST service (deployment/gunicorn_config.py, two gevent workers, write-only Socket.IO
emits) and two Socket.IO instances (deployment/gunicorn_socketio.py). Below them, started
here on free ports (tests/deployment/backends.py): PgBouncer in transaction mode in front
of a PostgreSQL primary, a streaming replica of it for the reads that may lag, and a Redis
master with a replica and three sentinels. Everything started here is stopped at the end
of the module.
"""

import json
import os
import pwd
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import redis
import requests
import websocket
from prometheus_client.parser import text_string_to_metric_families
from requests.adapters import HTTPAdapter

from tests.deployment.backends import PostgresTopology, RedisTopology, pg_query, postgres_binaries
from tests.deployment.tools import Process, require_tools
from tests.integration.test_realtime_processes import PASSWORD, Listener, production_environment
from tests.ledger import ledger_drift
from tests.processes import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = ROOT / "deployment"
HOST = "localhost"
STARTUP_SECONDS = 90
# How long after the Redis master dies broadcasts may stay lost: the sentinels' 1 s down-after
# and failover, then the queue subscribers' reconnect backoff (1, 2, 4, 8 s) in python-socketio.
BROADCAST_RESUME_SECONDS = 45
REPLICA_MAX_LAG_SECONDS = 2  # the default the services run with


def unit_environment(name):
    """The Environment= lines of a shipped unit, as a dict."""
    text = (DEPLOYMENT / "systemd" / name).read_text()
    return dict(line.split("=", 1) for line in re.findall(r"(?m)^Environment=(\S+)", text))


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def make_certificate(directory):
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
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
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def nginx_site(ports, cert, key, directory):
    """The shipped site with this machine's names, paths and ports."""
    site = (DEPLOYMENT / "nginx" / "imperio.conf").read_text()
    replacements = {
        "server_name casino.example.com;": f"server_name {HOST};",
        "/etc/ssl/imperio/fullchain.pem": str(cert),
        "/etc/ssl/imperio/privkey.pem": str(key),
        "/var/log/nginx/": f"{directory}/",
        "/var/www/letsencrypt": str(directory / "acme"),
        "listen 80;": f"listen 127.0.0.1:{ports['http']};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{ports['https']} ssl http2;",
        "listen [::]:80;": f"listen [::1]:{ports['http']};" if ipv6_loopback() else "",
        "listen [::]:443 ssl http2;": f"listen [::1]:{ports['https']} ssl http2;" if ipv6_loopback() else "",
        "server 127.0.0.1:5011 ": f"server 127.0.0.1:{ports['api']} ",
        "server 127.0.0.1:5012 ": f"server 127.0.0.1:{ports['socketio'][0]} ",
        "server 127.0.0.1:5013 ": f"server 127.0.0.1:{ports['socketio'][1]} ",
    }
    for old, new in replacements.items():
        assert old in site, f"the shipped site no longer has {old!r}"
        site = site.replace(old, new)
    return site


def start_nginx(directory, site):
    (directory / "site.conf").write_text(site)
    # A root master would hand its workers to `nobody`, who cannot enter pytest's private tmp.
    user = f"user {pwd.getpwuid(os.getuid()).pw_name};\n" if os.geteuid() == 0 else ""
    (directory / "nginx.conf").write_text(
        f"{user}pid {directory}/nginx.pid;\nerror_log {directory}/error.log warn;\nworker_processes 1;\nevents {{}}\n"
        f"http {{\n"
        + "".join(f"  {kind}_temp_path {directory}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"  include {directory}/site.conf;\n}}\n"
    )
    return Process(
        "nginx",
        [
            "nginx",
            "-p",
            str(directory),
            "-c",
            str(directory / "nginx.conf"),
            "-e",
            str(directory / "startup.log"),
            "-g",
            "daemon off;",
        ],
        dict(os.environ),
        directory,
    )


def service_environment(ports, postgres, redis_servers):
    """What /etc/imperio/imperio.env would hold: PgBouncer, the replica, the sentinels."""
    outer = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PROMETHEUS_", "GUNICORN_", "SOCKETIO_"))}
    outer.pop("DATABASE_URL", None)
    outer.pop("REDIS_URL", None)
    return production_environment(
        outer,
        DATABASE_URL=postgres.bouncer_url,
        DB_PREPARED_STATEMENTS="0",
        DATABASE_REPLICA_URL=postgres.replica_url,
        REDIS_URL=redis_servers.url(),
        # The site's origin (sent by browsers and by websocket-client) carries the test's port.
        CORS_ORIGINS=f"https://{HOST}:{ports['https']}",
        TRUST_PROXY_HEADERS="1",
        # Request lines are logged at INFO; the app's login limits stay generous, so the 429s under test are NGINX's.
        LOG_LEVEL="INFO",
    )


def migrate(env, directory, deadline):
    """`flask db upgrade` on the primary itself, as imperio-migrate.service runs it (not through PgBouncer)."""
    migration = Process(
        "migrate",
        [sys.executable, "-m", "flask", "db", "upgrade"],
        {**env, "DATABASE_URL": env["MIGRATION_DATABASE_URL"], "FLASK_APP": "imperioApp:create_app"},
        directory,
    )
    while migration.running():
        assert time.monotonic() < deadline, f"migrations still running:\n{migration.log()[-3000:]}"
        time.sleep(0.2)
    assert migration.process.returncode == 0, migration.log()[-3000:]


class Topology:
    def __init__(self, directory, ports, cert, processes, postgres=None, redis_servers=None):
        self.postgres = postgres
        self.redis = redis_servers
        self.directory = directory
        self.ports = ports
        self.cert = str(cert)
        self.processes = processes
        self.https = f"https://{HOST}:{ports['https']}"
        self.http = f"http://{HOST}:{ports['http']}"
        self.session = requests.Session()

    def request(self, method, path, session=None, **kwargs):
        """Through NGINX over HTTPS; an NGINX 429 (edge limit) is waited out and retried."""
        kwargs.setdefault("timeout", 15)
        # Per request: REQUESTS_CA_BUNDLE in the environment would override a session's verify.
        kwargs.setdefault("verify", self.cert)
        for _ in range(30):
            response = (session or self.session).request(method, self.https + path, **kwargs)
            if response.status_code != 429 or "from this address" not in response.text:
                return response
            time.sleep(float(response.headers.get("Retry-After", 1)))
        return response

    def player(self, name):
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        assert self.request("POST", "/signup", json=body).status_code == 201
        response = self.request("POST", "/login", json={"username": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}, response.json()["access_token"]

    def scrape(self, port):
        """{(name, frozenset(labels)): value} from a service's own /metrics port."""
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@pytest.fixture(scope="module")
def topology(app, tmp_path_factory):
    require_tools("nginx", "openssl", "pgbouncer", "redis-server", "redis-sentinel")
    if postgres_binaries() is None:
        require_tools("initdb")
    directory = tmp_path_factory.mktemp("topology")
    (directory / "acme").mkdir()
    ports = {"http": free_port(), "https": free_port(), "api": free_port(), "socketio": [free_port(), free_port()]}
    cert, key = make_certificate(directory)
    processes, backends = {}, []
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        backends.append(RedisTopology(directory, deadline))
        backends.append(PostgresTopology(directory, deadline))
        redis_servers, postgres = backends
        env = service_environment(ports, postgres, redis_servers)
        migrate({**env, "MIGRATION_DATABASE_URL": postgres.primary_url}, directory, deadline)
        api_env = {**env, **unit_environment("imperio-api.service")}
        api_env.update(
            GUNICORN_BIND=f"127.0.0.1:{ports['api']}",
            GUNICORN_WORKERS="2",
            PROMETHEUS_MULTIPROC_DIR=str(directory / "metrics-api"),
        )
        assert api_env["SOCKETIO_WRITE_ONLY"] == "1" and api_env["GUNICORN_WORKER_CLASS"] == "gevent"
        processes["api"] = Process(
            "api",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "deployment/gunicorn_config.py",
                "--control-socket",
                str(directory / "api.ctl"),
                "imperioApp.wsgi:app",
            ],
            api_env,
            directory,
        )
        for index, port in enumerate(ports["socketio"]):
            sio_env = {**env, **unit_environment("imperio-socketio@.service")}
            sio_env.update(
                SOCKETIO_BIND=f"127.0.0.1:{port}",
                PROMETHEUS_MULTIPROC_DIR=str(directory / f"metrics-socketio-{port}"),
                GUNICORN_CONTROL_SOCKET=str(directory / f"socketio-{port}.ctl"),
            )
            assert sio_env["SOCKETIO_WRITE_ONLY"] == "0"
            processes[f"socketio{index}"] = Process(
                f"socketio{index}",
                [sys.executable, "-m", "gunicorn", "-c", "deployment/gunicorn_socketio.py", "imperioApp.wsgi:app"],
                sio_env,
                directory,
            )
        processes["nginx"] = start_nginx(directory, nginx_site(ports, cert, key, directory))
        deadline = time.monotonic() + STARTUP_SECONDS
        for name, port in [("api", ports["api"]), ("socketio0", ports["socketio"][0]), ("socketio1", ports["socketio"][1])]:
            processes[name].wait_until(lambda port=port: requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok, deadline)
        topology = Topology(directory, ports, cert, processes, postgres, redis_servers)
        processes["nginx"].wait_until(lambda: topology.request("GET", "/health", timeout=2).ok, deadline)
        yield topology
    finally:
        for process in processes.values():
            process.stop()
        for backend in backends:
            backend.stop()


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def test_a_player_plays_every_game_through_nginx_and_the_metrics_add_up(topology):
    before = topology.scrape(topology.ports["api"])
    headers, _ = topology.player("tls_player")

    spins = [topology.request("POST", "/spin", json={"bet": bet}, headers=headers) for bet in (2, 3, 1, 4)]
    assert all(response.status_code == 200 for response in spins), [r.text for r in spins]
    deal = topology.request("POST", "/blackjack/start", json={"wager": 5}, headers=headers)
    assert deal.status_code == 200, deal.text
    state = deal.json()
    if not state["game_over"]:
        state = topology.request(
            "POST", "/blackjack/action", json={"action": "stand", "game_id": state["id"]}, headers=headers
        ).json()
    assert state["game_over"]
    roulette = topology.request("POST", "/roulette/spin", json={"bets": [{"type": "red", "amount": 3}]}, headers=headers)
    assert roulette.status_code == 200, roulette.text
    coins = topology.request("GET", "/getCoins", headers=headers).json()["coins"]
    assert coins == roulette.json()["new_coins"]

    # Two workers served these; one scrape of the service port adds up both.
    after = topology.scrape(topology.ports["api"])
    assert len(list((topology.directory / "metrics-api").glob("counter_*.db"))) >= 2

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("imperio_rounds_settled_total", game="slots") == 4
    assert delta("imperio_coins_wagered_total", game="slots") == 2 + 3 + 1 + 4
    assert delta("imperio_coins_paid_total", game="slots") == sum(r.json()["payout"] for r in spins)
    assert delta("imperio_rounds_settled_total", game="blackjack") == 1
    assert delta("imperio_coins_wagered_total", game="blackjack") == 5  # stood: no double, no split
    assert delta("imperio_coins_paid_total", game="blackjack") == state["total_payout"]
    assert delta("imperio_coins_wagered_total", game="roulette") == 3
    assert delta("imperio_coins_paid_total", game="roulette") == roulette.json()["total_win"]
    assert delta("imperio_http_requests_total", endpoint="/spin", method="POST", status="200") == 4
    assert delta("imperio_http_request_duration_seconds_count", endpoint="/spin", method="POST") == 4
    assert value(after, "imperio_db_pool_connections_in_use") >= 0


def test_every_service_is_ready_on_its_own_port(topology):
    for port in [topology.ports["api"], *topology.ports["socketio"]]:
        response = requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "replica": "ok"}}


class FromAddress(websocket.WebSocket):
    """A WebSocket whose every connection leaves from `source`: NGINX's ip_hash sees another client.

    websocket-client takes a connected socket through the `socket` option; a fresh one is made
    for every (re)connection.
    """

    source = "127.0.0.1"
    cafile = None

    def connect(self, url, **options):
        parts = urlsplit(url)
        raw = socket.create_connection((parts.hostname, parts.port), timeout=10, source_address=(self.source, 0))
        options["socket"] = ssl.create_default_context(cafile=self.cafile).wrap_socket(raw, server_hostname=parts.hostname)
        super().connect(url, **options)


def listener_from(topology, source, token):
    websocket_class = type("FromAddress", (FromAddress,), {"source": source, "cafile": topology.cert})
    return Listener(
        topology.https,
        token,
        reconnection=True,
        reconnection_delay=0.2,
        reconnection_delay_max=1,
        randomization_factor=0,
        websocket_extra_options={"class_": websocket_class},
    )


def sockets_on(topology):
    return [value(topology.scrape(port), "imperio_socketio_sockets_connected") for port in topology.ports["socketio"]]


def wait_for_sockets(topology, expected, timeout=60):
    deadline = time.monotonic() + timeout
    while (counts := sockets_on(topology)) != expected:
        assert time.monotonic() < deadline, f"sockets per instance {counts}, expected {expected}"
        time.sleep(0.2)


def big_win(topology, headers):
    """Even-money roulette bets until one wins (BIG_WIN_THRESHOLD is 1); the net won."""
    for _ in range(40):
        body = topology.request("POST", "/roulette/spin", json={"bets": [{"type": "red", "amount": 2}]}, headers=headers).json()
        if body["total_win"] > body["total_bet"]:
            return body["total_win"] - body["total_bet"]
    pytest.fail("no win in 40 even-money spins")


def test_socketio_sticky_upstream_fan_out_and_failover(topology):
    winner_headers, _ = topology.player("tls_winner")
    _, watcher_token = topology.player("tls_watcher")
    listeners, placed = [], {0: [], 1: []}
    try:
        # ip_hash keys on the first three octets of the address: 127.N.0.1 are different clients.
        for n in range(1, 30):
            before = sockets_on(topology)
            listener = listener_from(topology, f"127.{n}.0.1", watcher_token)
            listeners.append(listener)
            deadline = time.monotonic() + 60
            while (after := sockets_on(topology)) == before:
                assert time.monotonic() < deadline, "the new socket shows on no instance"
                time.sleep(0.1)
            placed[next(i for i in (0, 1) if after[i] > before[i])].append(listener)
            if placed[0] and placed[1]:
                break
        assert placed[0] and placed[1], "every address hashed to one instance"

        # A big win settled by a REST worker reaches the sockets of both instances.
        amount = big_win(topology, winner_headers)
        for listener in listeners:
            announced = listener.wait_for("big_win_announcement", lambda data: data["username"] == "tls_winner", timeout=60)
            assert announced == {"username": "tls_winner", "amount": amount, "game_type": "roulette"}
        # Each instance counts the messages it sent its own sockets.
        for index, port in enumerate(topology.ports["socketio"]):
            sent = value(topology.scrape(port), "imperio_socketio_messages_emitted_total", event="big_win_announcement")
            assert sent >= len(placed[index])

        # Instance 0 dies; its clients reconnect through NGINX, which sends them to instance 1.
        marks = {id(listener): len(listener.events) for listener in listeners}
        topology.processes["socketio0"].kill()
        for listener in placed[0]:
            listener.wait_for("disconnect", since=marks[id(listener)], timeout=60)
            listener.wait_for("authenticated", since=marks[id(listener)], timeout=60)
        wait_for_sockets_on_survivor(topology, len(listeners))

        marks = {id(listener): len(listener.events) for listener in listeners}
        amount = big_win(topology, winner_headers)
        for listener in listeners:
            announced = listener.wait_for(
                "big_win_announcement", lambda data: data["username"] == "tls_winner", timeout=60, since=marks[id(listener)]
            )
            assert announced["amount"] == amount
    finally:
        for listener in listeners:
            listener.close()


def wait_for_sockets_on_survivor(topology, expected, timeout=60):
    port = topology.ports["socketio"][1]
    deadline = time.monotonic() + timeout
    while (count := value(topology.scrape(port), "imperio_socketio_sockets_connected")) != expected:
        assert time.monotonic() < deadline, f"{count} sockets on the surviving instance, expected {expected}"
        time.sleep(0.2)


def test_edge_behaviour_of_the_site(topology):
    # HTTP is redirected to HTTPS (the site's real port, 443).
    redirect = requests.get(topology.http + "/health?x=1", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == f"https://{HOST}/health?x=1"

    # The app sees HTTPS through X-Forwarded-Proto: HSTS on its answers.
    # (/health/ready: the site keeps /health out of its access log.)
    health = topology.request("GET", "/health/ready")
    assert health.headers["Strict-Transport-Security"].startswith("max-age=")

    # NGINX's request id reaches the app's log line of that request and its own access log.
    request_id = health.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    # Both write their line once the response is on its way: wait for them.
    deadline = time.monotonic() + 60
    while True:
        app_lines = [json.loads(line) for line in topology.processes["api"].log().splitlines() if line.startswith("{")]
        logged = [line for line in app_lines if line.get("request_id") == request_id and line.get("event") == "request"]
        access_lines = [json.loads(line) for line in (topology.directory / "imperio.access.log").read_text().splitlines()]
        proxied = [entry for entry in access_lines if entry["request_id"] == request_id]
        if logged and proxied:
            break
        assert time.monotonic() < deadline, f"request {request_id}: app log {logged}, access log {proxied}"
        time.sleep(0.2)
    assert logged[0]["path"] == "/health/ready" and logged[0]["status"] == 200
    assert proxied[0]["uri"] == "/health/ready" and proxied[0]["status"] == 200

    # Bodies over 64 KiB never reach the app.
    too_big = topology.request(
        "POST", "/spin", data=b"{" + b" " * (65 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"

    # Metrics are not served by the public site.
    refused = topology.request("GET", "/metrics")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert "imperio_" not in refused.text

    # Last, as it spends this address's login allowance: a login flood meets NGINX's limit_req
    # (after the app's own failure window for that name has begun answering account_locked).
    statuses, limited = [], None
    for _ in range(40):
        response = topology.session.post(
            topology.https + "/login", json={"username": "nobody", "password": "wrong-password"}, timeout=15, verify=topology.cert
        )
        statuses.append(response.status_code)
        if response.status_code == 429 and response.json()["error"]["code"] == "rate_limited":
            limited = response
            break
    assert limited is not None, statuses
    assert limited.json()["error"] == {"code": "rate_limited", "message": "too many requests from this address"}
    assert limited.headers["Retry-After"] == "1"


class FromAddressAdapter(HTTPAdapter):
    """Connections that leave from one loopback address: NGINX's per-address limits see another client."""

    def __init__(self, source):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source):
    session = requests.Session()
    session.mount("https://", FromAddressAdapter(source))
    return session


class Load:
    """Players spinning through NGINX on threads, each reading its history right after; one more only reads.

    Every answer's status is counted; a history that lacks the round just played is a
    read-your-writes violation.
    """

    def __init__(self, topology, spinners, reader):
        self.topology = topology
        self.statuses = Counter()
        self.settled = 0
        self.reads = 0
        self.stale = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        # Each thread is its own client address, as players are: NGINX's limit_req is per address.
        self.threads = [
            threading.Thread(target=self._spin, args=(headers, session_from(f"127.{100 + n}.0.1")), daemon=True)
            for n, headers in enumerate(spinners)
        ]
        self.threads.append(threading.Thread(target=self._read, args=(reader, session_from("127.150.0.1")), daemon=True))
        for thread in self.threads:
            thread.start()

    def _count(self, response):
        with self.lock:
            self.statuses[response.status_code] += 1

    def _call(self, session, method, path, headers, **kwargs):
        try:
            response = self.topology.request(method, path, session=session, headers=headers, timeout=30, **kwargs)
        except requests.RequestException as exc:
            with self.lock:
                self.statuses[type(exc).__name__] += 1
            return None
        self._count(response)
        return response

    def _spin(self, headers, session):
        while not self.done.is_set():
            spin = self._call(session, "POST", "/spin", headers, json={"bet": 1})
            if spin is None or spin.status_code != 200:
                continue
            with self.lock:
                self.settled += 1
            history = self._call(session, "GET", "/games/history?limit=1", headers)
            if history is not None and history.status_code == 200:
                newest = history.json()["items"][0]["id"]
                if newest != spin.json()["round_id"]:
                    self.stale.append((spin.json()["round_id"], newest))

    def _read(self, headers, session):
        while not self.done.is_set():
            history = self._call(session, "GET", "/games/history?limit=5", headers)
            if history is not None and history.status_code == 200:
                with self.lock:
                    self.reads += 1

    def wait(self, condition, what, timeout=90):
        """Wait (load running) until `condition()` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"{what}: not within {timeout} s; statuses {dict(self.statuses)}"
            assert any(thread.is_alive() for thread in self.threads)
            time.sleep(0.2)

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=60)


def replica_round_reads(topology):
    """Scans of game_rounds the replica has run so far (its lag checks read no table)."""
    return pg_query(
        topology.postgres.replica_port,
        "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'game_rounds'",
        "imperio",
    )


def test_the_redis_master_and_the_replica_die_under_load(topology):
    spinners = [topology.player(f"load_{n}")[0] for n in range(3)]
    reader = topology.player("load_reader")[0]
    winner_headers, _ = topology.player("failover_winner")
    _, watcher_token = topology.player("failover_watcher")
    listener = listener_from(topology, "127.200.0.1", watcher_token)
    load = Load(topology, spinners, reader)
    try:
        listener.wait_for("authenticated", timeout=60)
        # The replica serves the reads that may lag (the reader wrote nothing lately).
        served = replica_round_reads(topology)
        load.wait(lambda: replica_round_reads(topology) >= served + 20, "reads on the replica")

        # The Redis master dies: the sentinels promote its replica, every client follows.
        old_master = topology.redis.master_port()
        settled_before = load.settled
        started = time.monotonic()
        topology.redis.processes[topology.redis.name_of(old_master)].kill()
        load.wait(lambda: topology.redis.master_port() != old_master, "a sentinel failover")
        promoted = time.monotonic() - started
        load.wait(lambda: load.settled >= settled_before + 20, "rounds settling after the failover")

        # Big wins reach the Socket.IO clients again once the queue's subscribers resubscribe.
        deadline = time.monotonic() + BROADCAST_RESUME_SECONDS
        while True:
            mark = len(listener.events)
            big_win(topology, winner_headers)
            try:
                listener.wait_for(
                    "big_win_announcement", lambda data: data["username"] == "failover_winner", timeout=2, since=mark
                )
                break
            except AssertionError:
                assert time.monotonic() < deadline, f"no broadcast {BROADCAST_RESUME_SECONDS} s after the master died"
        resumed = time.monotonic() - started

        # Rate limits count on the promoted master again (in memory per process meanwhile).
        new_master = redis.Redis(port=topology.redis.master_port())
        login = {"username": "load_reader", "password": PASSWORD}
        load.wait(
            lambda: topology.request("POST", "/login", json=login).ok and bool(new_master.keys("*imperio:ratelimit*")),
            "the rate limiter counting on the promoted master",
        )

        # The replica stops replaying while rounds go on: the services see it fall past the
        # bound (their reads then go to the primary), and back within it once it catches up.
        replica_lag = lambda: value(topology.scrape(topology.ports["api"]), "imperio_db_replica_lag_seconds")  # noqa: E731
        pg_query(topology.postgres.replica_port, "SELECT pg_wal_replay_pause()")
        load.wait(lambda: replica_lag() > REPLICA_MAX_LAG_SECONDS, "the replica's lag seen past its bound")
        reads_before = load.reads
        load.wait(lambda: load.reads >= reads_before + 10, "reads while the replica lags")
        pg_query(topology.postgres.replica_port, "SELECT pg_wal_replay_resume()")
        load.wait(lambda: replica_lag() <= REPLICA_MAX_LAG_SECONDS, "the replica back within its bound")

        # The replica dies: the reads it served go to the primary, without an error.
        reads_before = load.reads
        topology.postgres.processes["postgres-replica"].kill()
        load.wait(lambda: load.reads >= reads_before + 20, "reads after the replica died")
        load.wait(lambda: load.settled >= settled_before + 60, "rounds after the replica died")
    finally:
        load.stop()
        listener.close()
    print(
        f"redis failover: promoted after {promoted:.1f} s, broadcasts resumed after {resumed:.1f} s; statuses {dict(load.statuses)}"
    )
    assert set(load.statuses) == {200}, dict(load.statuses)
    assert load.stale == []
    connection = psycopg2.connect(topology.postgres.primary_url)
    try:
        engine_free_drift = primary_drift(connection)
    finally:
        connection.close()
    assert engine_free_drift == []


def primary_drift(connection):
    """tests/ledger.py's check, on the topology's own primary."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    engine = create_engine("postgresql+psycopg2://", creator=lambda: connection, poolclass=StaticPool)
    with engine.connect() as sa_connection:
        return ledger_drift(sa_connection)

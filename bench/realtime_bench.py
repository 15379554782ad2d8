"""Socket.IO benchmark: sockets held by one process, fan-out throughput and end-to-end latency.

    python bench/realtime_bench.py                      # everything, default sizes
    python bench/realtime_bench.py --hold 5000 --sockets 1000 --rates 10,20,30,40,60

It starts, on free local ports and a fresh PostgreSQL database (BENCH_DATABASE_URL,
default postgresql://postgres@127.0.0.1:5432/imperio_bench_rt) and Redis index
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/11):
  * one Socket.IO service (deployment/gunicorn_socketio.py: Gunicorn, one gevent worker),
  * one REST service (deployment/gunicorn_config.py, one worker) that plays rounds,
both joined by the Redis message queue, as in production. The load generator is a lean
raw Engine.IO v4 / Socket.IO v5 client on asyncio + aiohttp (the python-socketio client
saturates near 6,000 received messages/s per core, below what is measured here).

Phase 1 (hold): connect --hold sockets, each authenticated with its own player's token;
report how many are held after --hold-seconds, and the server's resident memory.

Phase 2 (fan-out): --sockets sockets join the lobby chat and a leaderboard room while
the REST service plays --rounds-per-second slot rounds (leaderboard pushes, coalesced).
For each chat rate R in --rates (messages/s, from rotating senders that respect the chat
limit), for --duration seconds: every message carries its send time, so each receiver
measures end-to-end latency (client → server → store → fan-out → client). Reported:
delivered messages/s (every event frame received), chat deliveries lost, p50/p99.

Raise the open-file limit for large --hold values (`ulimit -n 20000`); the script raises
its soft limit to the hard one, and the servers it starts inherit it. A --hold larger than
the limit allows (half of it, less 1,000) is lowered to what fits, with a message; and a
phase that cannot connect (50 failures, or its deadline) stops and reports what it holds.
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/imperio_bench_rt"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
CHAT_LIMIT_PER_SECOND = 1.0  # the chat limit is 5 per 5 s: each sender sends at most 1/s


# --- servers ---------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(url):
    """Drop and recreate the bench database, then migrate it."""
    import psycopg2

    base, name = url.rsplit("/", 1)
    conn = psycopg2.connect(base + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "FLASK_APP": "imperioApp:create_app", "DATABASE_URL": url, "LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
    )


def seed_players(env, count):
    """Insert `count` players directly (no Argon2 per player) and mint one token each."""
    import psycopg2
    from psycopg2.extras import execute_values

    conn = psycopg2.connect(env["DATABASE_URL"])
    now = datetime.now(timezone.utc)
    with conn, conn.cursor() as cur:
        execute_values(
            cur,
            "INSERT INTO users (username, email, password_hash, balance, role, created_at, failed_logins) VALUES %s "
            "RETURNING id, username",
            [(f"rt{n}", f"rt{n}@example.com", "x", 0, "player", now, 0) for n in range(count)],
            page_size=1000,
            fetch=True,
        )
        cur.execute("SELECT id, username FROM users ORDER BY id")
        users = [(uid, name, secrets.token_urlsafe(18)) for uid, name in cur.fetchall()]
        # Every token names a login session; one each, as a login would have made.
        execute_values(
            cur,
            "INSERT INTO sessions (id, user_id, user_agent, client_address, created_at, last_used_at, expires_at, refresh_jti) "
            "VALUES %s",
            [(sid, uid, "bench", "", now, now, now + timedelta(hours=2), secrets.token_urlsafe(18)) for uid, _, sid in users],
            page_size=1000,
        )
    conn.close()
    os.environ["JWT_SECRET_KEY"] = env["JWT_SECRET_KEY"]
    from flask_jwt_extended import create_access_token

    from imperioApp import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", JWT_SECRET_KEY=env["JWT_SECRET_KEY"])
    with app.app_context():
        return [
            create_access_token(
                identity=str(uid),
                additional_claims={"username": name, "role": "player", "sid": sid},
                expires_delta=timedelta(hours=2),
            )
            for uid, name, sid in users
        ]


class Service:
    """A Gunicorn service started for the run."""

    def __init__(self, config, env, bind_var, port, log):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", config, "imperioApp.wsgi:app"],
            cwd=ROOT,
            env={**env, bind_var: f"127.0.0.1:{port}"},
            stdout=log,
            stderr=log,
        )

    def wait_ready(self, timeout=90):
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.url} did not start")

    def worker_rss_mb(self):
        """Resident memory of the worker process(es) under this master, in MB."""
        total = 0
        for pid in subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024

    def worker_cpu_seconds(self):
        """User + system CPU seconds used so far by the worker process(es)."""
        total = 0
        for pid in subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- the lean client -------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.frames = 0
        self.chat = 0
        self.latencies = []
        self.recording = False
        self.split = [] if os.environ.get("BENCH_SPLIT") else None


class Client(asyncio.Protocol):
    """One raw WebSocket (RFC 6455 framing by hand) speaking Engine.IO v4 and enough Socket.IO v5."""

    # Frames are parsed in bulk inside data_received, with no task or future per message:
    # several times cheaper per received message than aiohttp's client.

    def __init__(self, url, token, stats):
        self.url, self.token, self.stats = url, token, stats
        self.transport = None
        self.buffer = bytearray()
        self.upgraded = False
        self.handshake = asyncio.get_running_loop().create_future()
        self.frames = asyncio.Queue()  # text frames until connected; afterwards they are counted
        self.connected = False
        self.closed = False

    # -- protocol callbacks -------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        host = self.url.split("//", 1)[1]
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        transport.write(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data):
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.handshake.set_exception(RuntimeError(bytes(buffer[:80])))
                return
            del buffer[: end + 4]
            self.upgraded = True
            self.handshake.set_result(None)
        position, size = 0, len(buffer)
        now = time.time()
        while size - position >= 2:
            opcode, length = buffer[position] & 0x0F, buffer[position + 1] & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 4], "big"), 4
            elif length == 127:
                if size - position < 10:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 10], "big"), 10
            if size - position < header + length:
                break
            payload = bytes(buffer[position + header : position + header + length])
            position += header + length
            if opcode == 1:
                self._text(payload.decode(), now)
            elif opcode == 9:
                self._send(0xA, payload)
            elif opcode == 8:
                self.transport.close()
        del buffer[:position]

    def connection_lost(self, exc):
        self.closed = True
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionError("closed during handshake"))

    # -- Engine.IO / Socket.IO ------------------------------------------------------------

    def _text(self, text, now):
        if text == "2":  # Engine.IO ping: answer, or the server drops us
            self._send(1, b"3")
            return
        if not self.connected:
            self.frames.put_nowait(text)
            return
        stats = self.stats
        if not stats.recording or not text.startswith("42"):
            return
        stats.frames += 1
        if text.startswith('42["chat_message"'):
            at = text.find("t=")
            if at >= 0:
                sent = float(text[at + 2 : text.index(";", at)])
                stats.chat += 1
                stats.latencies.append(now - sent)
                if stats.split is not None:
                    # Where the time goes: client→server (the stored timestamp) vs server→client.
                    stamp = text.find('"timestamp":"') + 13
                    stored = datetime.fromisoformat(text[stamp : text.index('"', stamp)]).timestamp()
                    stats.split.append((stored - sent, now - stored))

    def _send(self, opcode, payload):
        # Client frames must be masked; an all-zero key leaves the payload as it is.
        length = len(payload)
        if length < 126:
            header = bytes((0x80 | opcode, 0x80 | length))
        elif length < 65536:
            header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
        if not self.closed:
            self.transport.write(header + b"\0\0\0\0" + payload)

    async def connect(self, rooms):
        host, port = self.url.split("//", 1)[1].split(":")
        await asyncio.get_running_loop().create_connection(lambda: self, host, int(port))
        await self.handshake
        opening = await self.frames.get()
        assert opening.startswith("0"), opening
        self._send(1, ("40" + json.dumps({"token": self.token})).encode())
        while True:  # the namespace connect, then our `authenticated`
            frame = await self.frames.get()
            if frame.startswith('42["authenticated"'):
                break
            if frame.startswith("44"):
                raise RuntimeError(f"refused: {frame}")
        self.connected = True
        for name, payload in rooms:
            self._send(1, ("42" + json.dumps([name, payload])).encode())

    async def send(self, name, payload):
        self._send(1, ("42" + json.dumps([name, payload])).encode())

    async def close(self):
        if self.transport is not None and not self.closed:
            self.transport.close()


async def open_clients(urls, tokens, rooms, stats, concurrency=100, deadline=None, give_up_after=50):
    """Connect one client per token, spread over `urls` like NGINX ip_hash; return (clients, failures, skipped).

    Stops early rather than hang, and reports what it holds: after `give_up_after` failures
    (the host's open-file limit, the server refusing), or at `deadline` seconds.
    """
    gate = asyncio.Semaphore(concurrency)
    clients, failures = [], 0
    stop = asyncio.Event()

    async def one(index, token):
        nonlocal failures
        async with gate:
            if stop.is_set():
                return
            client = Client(urls[index % len(urls)], token, stats)
            try:
                await asyncio.wait_for(client.connect(rooms), 20)
                clients.append(client)
            except Exception as exc:  # counted, reported
                failures += 1
                await client.close()
                if failures <= 3:
                    print(f"  connect failed: {exc!r}", flush=True)
                if failures >= give_up_after and not stop.is_set():
                    print(f"  {failures} connections failed: giving up on the rest", flush=True)
                    stop.set()

    tasks = [asyncio.ensure_future(one(index, token)) for index, token in enumerate(tokens)]
    done, pending = await asyncio.wait(tasks, timeout=deadline)
    if pending:
        print(f"  deadline of {deadline:.0f} s reached: {len(pending)} connections not made", flush=True)
        stop.set()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    skipped = len(tokens) - len(clients) - failures
    return clients, failures, skipped


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# --- phases ----------------------------------------------------------------------------


async def hold_phase(service, tokens, seconds):
    stats = Stats()
    rss_before = service.worker_rss_mb()
    started = time.monotonic()
    # Sockets connect at ~200/s on this kind of host; twice that long, then report what is held.
    clients, failures, skipped = await open_clients(
        [service.url], tokens, [], stats, concurrency=200, deadline=max(60, len(tokens) / 100)
    )
    connect_seconds = time.monotonic() - started
    rss = service.worker_rss_mb()
    await asyncio.sleep(seconds)
    held = sum(1 for client in clients if not client.closed)
    result = {
        "requested": len(tokens),
        "authenticated": len(clients),
        "failed": failures,
        "not_attempted": skipped,
        "held_after": held,
        "hold_seconds": seconds,
        "connect_seconds": round(connect_seconds, 1),
        "server_rss_mb_idle": round(rss_before),
        "server_rss_mb": round(rss),
        "kb_per_socket": round((rss - rss_before) * 1024 / max(len(clients), 1), 1),
        "host_load_1min": round(os.getloadavg()[0], 2),
    }
    await asyncio.gather(*(client.close() for client in clients))
    return result


async def play_rounds(rest_url, token, per_second, stop):
    """Slot rounds through the REST service at a steady rate (drives leaderboard pushes)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            started = time.monotonic()
            try:
                async with session.post(rest_url + "/spin", json={"bet": 1}, headers=headers) as response:
                    await response.read()
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(max(0.0, 1 / per_second - (time.monotonic() - started)))


async def loop_lag(samples, stop):
    """How late the load generator's own event loop runs (a busy client inflates latency)."""
    while not stop.is_set():
        started = time.monotonic()
        await asyncio.sleep(0.005)
        samples.append(time.monotonic() - started - 0.005)


async def fanout_phase(services, rest_url, tokens, rates, duration, rounds_per_second, round_token):
    stats = Stats()
    rooms = [("join_chat", {"room": "lobby"}), ("join_leaderboard", {"metric": "games_played", "timeframe": "all_time"})]
    clients, failures, _ = await open_clients(
        [service.url for service in services], tokens, rooms, stats, deadline=max(60, len(tokens) / 100)
    )
    await asyncio.sleep(1.0)  # joins (and their history replies) settle
    stop = asyncio.Event()
    rounds = asyncio.get_running_loop().create_task(play_rounds(rest_url, round_token, rounds_per_second, stop))
    results = []
    for rate in rates:
        senders = clients[: max(1, min(len(clients), int(rate / CHAT_LIMIT_PER_SECOND * 1.5) + 1))]
        stats.frames, stats.chat, stats.latencies = 0, 0, []
        lag, lag_stop = [], asyncio.Event()
        lag_task = asyncio.get_running_loop().create_task(loop_lag(lag, lag_stop))
        stats.recording = True
        sent = 0
        cpu_before = [service.worker_cpu_seconds() for service in services]
        started = time.monotonic()
        tick = 0.01
        while time.monotonic() - started < duration:
            due = int((time.monotonic() - started) * rate)
            while sent < due:
                await senders[sent % len(senders)].send(
                    "send_chat_message", {"room": "lobby", "message": f"t={time.time():.6f};"}
                )
                sent += 1
            await asyncio.sleep(tick)
        await asyncio.sleep(1.0)  # let the tail arrive
        stats.recording = False
        lag_stop.set()
        await lag_task
        elapsed = time.monotonic() - started
        cpu = [service.worker_cpu_seconds() - before for service, before in zip(services, cpu_before, strict=True)]
        expected = sent * len(clients)
        latencies = stats.latencies
        results.append(
            {
                "sockets": len(clients),
                "socket_processes": len(services),
                "chat_rate": rate,
                "seconds": round(duration, 1),
                "chat_sent": sent,
                "delivered_per_s": round(stats.frames / duration),
                "chat_delivered": stats.chat,
                "chat_lost_pct": round(100 * (1 - stats.chat / expected), 2) if expected else 0.0,
                "p50_ms": round(percentile(latencies, 50) * 1000, 1),
                "p99_ms": round(percentile(latencies, 99) * 1000, 1),
                "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
                "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
                "wall_s": round(elapsed, 1),
                "client_loop_lag_p99_ms": round(percentile(lag, 99) * 1000, 1),
                "host_load_1min": round(os.getloadavg()[0], 2),
                "server_cpu_pct": [round(100 * seconds / elapsed) for seconds in cpu],
            }
        )
        if stats.split:
            inbound = [a for a, _ in stats.split]
            outbound = [b for _, b in stats.split]
            results[-1]["split_ms"] = {
                "to_store_p50": round(percentile(inbound, 50) * 1000, 1),
                "to_store_p99": round(percentile(inbound, 99) * 1000, 1),
                "fanout_p50": round(percentile(outbound, 50) * 1000, 1),
                "fanout_p99": round(percentile(outbound, 99) * 1000, 1),
            }
            stats.split = []
        print("  ", json.dumps(results[-1]), flush=True)
        await asyncio.sleep(6)  # the chat limit's window empties before the next rate
    stop.set()
    await rounds
    await asyncio.gather(*(client.close() for client in clients))
    return {"failed_connects": failures, "phases": results}


# --- main ------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=int, default=5000, help="sockets held in phase 1 (0 skips it)")
    parser.add_argument("--hold-seconds", type=float, default=30)
    parser.add_argument("--sockets", type=int, default=1000, help="sockets in the fan-out phase")
    parser.add_argument("--rates", default="10,20,30,40,60", help="chat messages per second, one run each")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds-per-second", type=float, default=10)
    parser.add_argument(
        "--socket-processes", default="1", help="Socket.IO services for the fan-out phase; a list (1,2) runs every rate on each"
    )
    parser.add_argument("--output", default="bench/results/realtime.json")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # Each held socket is a descriptor here and one in the server, on one host: past what the
    # host allows, accepts fail and connections wait forever. Hold what fits, and say so.
    fits = max(0, (hard - 1000) // 2)
    if args.hold > fits:
        print(f"open-file limit {hard}: holding {fits} sockets, not {args.hold} (raise it with ulimit -n)", flush=True)
        args.hold = fits

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": "warning",
        "SIGNUP_BONUS": "10000000",
        "RATELIMIT_LOGIN": "100000 per minute",
        "RATELIMIT_SIGNUP": "100000 per minute",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "1024",
        "ARGON2_PARALLELISM": "1",
        "GUNICORN_WORKERS": "1",
    }
    print("preparing database and players ...", flush=True)
    fresh_database(db_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    tokens = seed_players(env, max(args.hold, args.sockets))

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    log = open(Path(args.output).with_suffix(".log"), "w")
    socket_config = os.environ.get("BENCH_SOCKETIO_CONFIG", "deployment/gunicorn_socketio.py")
    process_counts = [int(n) for n in args.socket_processes.split(",")]
    socket_services = [Service(socket_config, env, "SOCKETIO_BIND", free_port(), log) for _ in range(max(process_counts))]
    sockets_service = socket_services[0]
    # The REST service only publishes emits (as in production): it need not listen to the queue.
    rest_env = {**env, "SOCKETIO_WRITE_ONLY": "1"}
    rest_service = Service("deployment/gunicorn_config.py", rest_env, "GUNICORN_BIND", free_port(), log)
    report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "args": vars(args)}
    try:
        for service in socket_services:
            service.wait_ready()
        rest_service.wait_ready()
        import urllib.request

        body = json.dumps({"username": "roller", "email": "roller@example.com", "password": "bench-password"}).encode()
        request = urllib.request.Request(rest_service.url + "/signup", body, {"Content-Type": "application/json"})
        urllib.request.urlopen(request).read()
        request = urllib.request.Request(
            rest_service.url + "/login",
            json.dumps({"username": "roller", "password": "bench-password"}).encode(),
            {"Content-Type": "application/json"},
        )
        round_token = json.loads(urllib.request.urlopen(request).read())["access_token"]

        if args.hold:
            print(f"phase 1: holding {args.hold} authenticated sockets for {args.hold_seconds:.0f} s ...", flush=True)
            report["hold"] = asyncio.run(hold_phase(sockets_service, tokens[: args.hold], args.hold_seconds))
            print("  ", json.dumps(report["hold"]), flush=True)
            time.sleep(3)
        rates = [float(rate) for rate in args.rates.split(",") if rate]
        if args.sockets and rates:
            print(
                f"phase 2: fan-out to {args.sockets} sockets, chat rates {rates}/s, {args.rounds_per_second:.0f} rounds/s ...",
                flush=True,
            )
            report["fanout"] = []
            for count in process_counts:
                print(f"  {count} Socket.IO process(es):", flush=True)
                report["fanout"].append(
                    asyncio.run(
                        fanout_phase(
                            socket_services[:count],
                            rest_service.url,
                            tokens[: args.sockets],
                            rates,
                            args.duration,
                            args.rounds_per_second,
                            round_token,
                        )
                    )
                )
                time.sleep(3)
        report["server_rss_mb_end"] = round(sockets_service.worker_rss_mb())
    finally:
        for service in socket_services:
            service.stop()
        rest_service.stop()
        log.close()
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()

"""What read-your-writes costs per round and per read, two ways, on a primary and a streaming replica.

    .venv/bin/python bench/read_your_writes.py [--redis redis://127.0.0.1:6379/6] [--n 2000]

Starts its own primary and replica (tests/deployment/backends.py) and measures, wall time
and this process's CPU per operation:

- window (what the app does, services/core/lagging.py): after a round, SET a mark with a TTL
  in Redis; before a player's own read, EXISTS on it;
- LSN: after a round's commit, ask the primary for its WAL position and keep it in Redis;
  before the read, GET it and ask the replica how far it has replayed, waiting until it
  has passed it (the wait is measured right after a commit, the read-your-writes case).
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from imperioApp.adapters.replica import lsn_number  # noqa: E402
from tests.deployment.backends import PostgresTopology  # noqa: E402


def timed(operation, n):
    """(median wall µs, CPU µs per call) of `operation()` over n calls."""
    walls = []
    cpu = time.process_time()
    for _ in range(n):
        start = time.perf_counter()
        operation()
        walls.append((time.perf_counter() - start) * 1e6)
    return statistics.median(walls), (time.process_time() - cpu) * 1e6 / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="imperio-ryw-"))
    postgres = PostgresTopology(logs, time.monotonic() + 120)
    try:
        client = redis.Redis.from_url(args.redis)
        primary = psycopg2.connect(postgres.primary_url)
        primary.autocommit = True
        replica = psycopg2.connect(postgres.replica_url)
        replica.autocommit = True
        with primary.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS rounds (id bigserial PRIMARY KEY, payload text)")
        # Let the table reach the replica before anything is read there.
        time.sleep(1)
        p, r = primary.cursor(), replica.cursor()

        def commit_round():
            p.execute("INSERT INTO rounds (payload) VALUES ('x')")

        def window_mark():
            client.set("bench:wrote:1", 1, px=3000)

        def window_check():
            client.exists("bench:wrote:1")

        def lsn_mark():
            p.execute("SELECT pg_current_wal_lsn()::text")
            client.set("bench:lsn:1", p.fetchone()[0], px=3000)

        def lsn_check():
            target = lsn_number(client.get("bench:lsn:1").decode())
            while True:
                r.execute("SELECT pg_last_wal_replay_lsn()::text")
                if lsn_number(r.fetchone()[0]) >= target:
                    return
                time.sleep(0.0002)

        def lsn_after_commit():
            commit_round()
            lsn_mark()
            lsn_check()

        n = args.n
        print(f"{n} calls each; medians of wall time, mean CPU of this process; load {open('/proc/loadavg').read().split()[:3]}")
        print("round's commit alone            wall %7.0f µs  cpu %6.0f µs" % timed(commit_round, n))
        print("window: mark (SET PX)           wall %7.0f µs  cpu %6.0f µs" % timed(window_mark, n))
        print("window: check (EXISTS)          wall %7.0f µs  cpu %6.0f µs" % timed(window_check, n))
        print("lsn: mark (primary LSN + SET)   wall %7.0f µs  cpu %6.0f µs" % timed(lsn_mark, n))
        print("lsn: check, caught up (GET + replica LSN)  wall %7.0f µs  cpu %6.0f µs" % timed(lsn_check, n))
        print("lsn: commit + mark + wait for the replica  wall %7.0f µs  cpu %6.0f µs" % timed(lsn_after_commit, n))
    finally:
        postgres.stop()
        shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    main()

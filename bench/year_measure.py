"""Measure on a year of data (bench/year_data.py) side by side with an empty database, in one run.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/year REDIS_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/year_measure.py                     # everything
    ... bench/year_measure.py --only reads,lock --runs 200         # some parts

Parts (`--only`, comma-separated; all by default):
  upgrade     migrate the year's database to head (indexes built CONCURRENTLY on its big
              tables) and summarise its hours (`flask rollup`'s first run), timed
  settlement  bench/run_settlement_bench.sh on a fresh database (`--empty-db`) and, with
              KEEP_DATA=1, on the year's: /spin and the games mix against the bare
              transaction, and how far each ratio moved (target: within 10 %)
  reads       every player-facing and operator read, p50/p99 over `--runs` calls, on the
              year's database and on a small one (`--small-db`, 1,000 players and 20,000
              rounds, generated when missing); each read's statements under
              EXPLAIN (ANALYZE, BUFFERS) in bench/results/year_explain.txt
  ledger      the full ledger check, the incremental one (first run, no new rows, after new rows)
  lock        a migration adding a column and an index to game_rounds while a writer
              inserts rounds: the writer's longest stall, plain and CONCURRENTLY
  backup      pg_dump (custom format, as deployment/scripts/backup.sh) and pg_restore -j 2:
              time and size
The year's database gains rows (players, rounds, audit rows) from each run.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
from sqlalchemy import event, text, update  # noqa: E402

from config import normalise_database_url  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PARTS = ("upgrade", "settlement", "reads", "ledger", "lock", "backup")


def log(message=""):
    print(message, flush=True)


def server_url(url):
    return url.rsplit("/", 1)[0]


def libpq(url):
    return normalise_database_url(url).replace("postgresql+psycopg2://", "postgresql://")


def database_exists(url):
    name = url.rsplit("/", 1)[1]
    with psycopg2.connect(libpq(server_url(url) + "/postgres")) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return cur.fetchone() is not None


def create_database(url):
    conn = psycopg2.connect(libpq(server_url(url) + "/postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"')
        cur.execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    conn.close()


def machine():
    load = Path("/proc/loadavg").read_text().split()[:3]
    return f"{os.cpu_count()} cores, load {' '.join(load)}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"


# --- upgrade -----------------------------------------------------------------------------


def upgrade_and_roll_up(url):
    """Bring the database to head and run the rollup's first (year-long) pass, timed."""
    from flask_migrate import upgrade

    from imperioApp import create_app
    from imperioApp.services.operators import rollups

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING", REDIS_URL=None)
    with app.app_context():
        log(f"--- upgrade to head, {machine()}")
        t0 = time.perf_counter()
        upgrade()
        log(f"  migrations applied in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        hours = rollups.roll_up()
        log(f"  rollup, first run: {hours:,} hours summarised in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        hours = rollups.roll_up()
        log(f"  rollup, next run: {hours:,} hours in {time.perf_counter() - t0:.2f} s")


# --- settlement --------------------------------------------------------------------------


def settlement(args):
    """The settlement bench on the empty database, then on the year's; the ratios side by side."""
    rows = {}
    for label, db_name, extra in (
        ("empty", args.empty_db.rsplit("/", 1)[1], {}),
        ("year", args.database.rsplit("/", 1)[1], {"KEEP_DATA": "1"}),
    ):
        if not database_exists(args.empty_db if label == "empty" else args.database):
            create_database(args.empty_db)
        out = RESULTS / f"settlement_{label}"
        env = {
            **os.environ,
            **extra,
            "BENCH_DB": db_name,
            "OUT": str(out),
            "QUICK": "1",
            "ROUNDS": str(args.settlement_rounds),
            "DURATION": str(args.duration),
        }
        log(f"--- settlement on {label} ({db_name}), {machine()}")
        subprocess.run(["bash", "bench/run_settlement_bench.sh"], cwd=ROOT, env=env, check=True)
        for line in (out / "summary.txt").read_text().splitlines():
            parts = line.split()
            if parts and parts[0] in ("reference", "spin", "mix"):
                rows[(label, parts[0])] = (float(parts[1].rstrip("/s")), float(parts[2].lstrip("x")), float(parts[6]))
    log("--- settlement side by side: rate, ratio to the bare transaction, p99")
    for name in ("reference", "spin", "mix"):
        empty, year = rows[("empty", name)], rows[("year", name)]
        moved = (year[1] / empty[1] - 1) * 100
        verdict = "" if name == "reference" else f"  ratio moved {moved:+.1f} % ({'met' if abs(moved) <= 10 else 'MISSED'})"
        log(
            f"  {name:9s} empty {empty[0]:7.0f}/s x{empty[1]:.2f} p99 {empty[2]:5.0f} ms | "
            f"year {year[0]:7.0f}/s x{year[1]:.2f} p99 {year[2]:5.0f} ms{verdict}"
        )


# --- reads -------------------------------------------------------------------------------


def walk(node):
    yield node
    for child in node.get("Plans", ()):
        yield from walk(child)


class Explainer:
    """Capture the SELECTs a call sends, and write each one's plan with ANALYZE and BUFFERS."""

    def __init__(self, db, path):
        self.db, self.out = db, open(path, "a")

    def __call__(self, name, fn):
        captured = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                captured.append((statement, parameters))

        event.listen(self.db.engine, "before_cursor_execute", record)
        try:
            fn()
        finally:
            event.remove(self.db.engine, "before_cursor_execute", record)
            self.db.session.remove()
        summaries = []
        for statement, parameters in captured:
            raw = self.db.engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(row[0] for row in cur.fetchall())
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
                tree = cur.fetchone()[0][0]
            finally:
                raw.close()
            self.out.write(f"### {name}\n{cur.mogrify(statement, parameters).decode()}\n{plan}\n\n")
            scans = [
                f"{n['Node Type']}({n.get('Index Name') or n.get('Relation Name')})"
                for n in walk(tree["Plan"])
                if "Scan" in n["Node Type"]
            ]
            top = tree["Plan"]
            buffers = f"hit {top.get('Shared Hit Blocks', 0)} read {top.get('Shared Read Blocks', 0)}"
            summaries.append(f"{tree['Execution Time']:.1f} ms {buffers} {', '.join(dict.fromkeys(scans))}")
        self.out.flush()
        return "; ".join(summaries)


CPU = []  # this process's CPU per call of the last timed(), ms: the wall time less waiting for a core


def timed(fn, runs, pick):
    samples = []
    CPU.clear()
    for _ in range(runs):
        arg = pick()
        t0, c0 = time.perf_counter(), time.process_time()
        fn(arg)
        samples.append((time.perf_counter() - t0) * 1000)
        CPU.append((time.process_time() - c0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))], samples[-1]


def bench_operator(db):
    """Player 1, made an operator (the admin role) to call the operators' services with."""
    from imperioApp.models import User
    from imperioApp.services.operators.audit import Operator

    db.session.execute(update(User).where(User.id == 1).values(role="admin"))
    db.session.commit()
    return Operator(1, "bench")


def reads(url, redis_url, runs, label, explain_path):
    """Time every read on one database; return {name: (p50, p99, max)}."""
    from imperioApp import create_app
    from imperioApp.extensions import db, redis_store
    from imperioApp.models.base import utcnow
    from imperioApp.services.engagement import leaderboards
    from imperioApp.services.money import ledger
    from imperioApp.services.operators import actions, audit

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING", REDIS_URL=redis_url)
    results = {}
    rng = random.Random(1127)
    with app.app_context():
        operator = bench_operator(db)
        with db.engine.connect() as conn:
            players, heavy = conn.execute(text("SELECT max(id), 1 FROM users")).one()
            deep = conn.execute(
                text("SELECT id FROM transactions WHERE user_id = :u ORDER BY created_at DESC, id DESC OFFSET 10000 LIMIT 1"),
                {"u": heavy},
            ).scalar()
            counts = conn.execute(
                text("SELECT (SELECT count(*) FROM transactions WHERE user_id = :u), (SELECT max(id) FROM game_rounds)"),
                {"u": heavy},
            ).one()
        log(f"--- reads on {label}: {players:,} players; heaviest player has {counts[0]:,} ledger rows; {machine()}")
        explain = Explainer(db, explain_path)
        now = utcnow()
        anyone = lambda: rng.randint(1, players)  # noqa: E731
        boards = [(m, t) for t in leaderboards.TIMEFRAMES for m in leaderboards.METRICS]
        periods = leaderboards.current_periods()
        db_boards = [(m, periods[t]) for m, t in boards]

        def case(name, fn, pick=lambda: None, n=runs, plan=True):
            fn(pick())  # warm the statement cache and the pages, as a running server has
            db.session.remove()
            p50, p99, worst = timed(lambda a: (fn(a), db.session.remove()), n, pick)
            note = explain(name, lambda: fn(pick())) if plan else ""
            results[name] = (p50, p99, worst)
            cpu = statistics.median(CPU)
            log(f"  {name:<46} p50 {p50:8.2f}  p99 {p99:8.2f}  max {worst:8.2f} ms  cpu {cpu:6.2f} ms  ({n})  {note}")

        log(" player-facing")
        case("history first page, any player", lambda u: ledger.history(u, limit=20), anyone)
        case("history first page, heaviest", lambda u: ledger.history(u, limit=20), lambda: heavy)
        if deep:
            case("history 10,000 rows deep, heaviest", lambda u: ledger.history(u, before=deep, limit=20), lambda: heavy)
        # Cold: the index forgotten (a Redis restart or flush): the first read rebuilds the board.
        if redis_store.client is not None:
            for metric, timeframe in boards:
                redis_store.client.flushdb(asynchronous=True)
                t0 = time.perf_counter()
                leaderboards.page(metric, timeframe)
                cold = (time.perf_counter() - t0) * 1000
                db.session.remove()
                p50, p99, worst = timed(lambda _a, m=metric, t=timeframe: leaderboards.page(m, t), runs, lambda: None)
                results[f"board {metric}/{timeframe}"] = (p50, p99, worst)
                log(f"  board {metric + '/' + timeframe:<40} cold {cold:8.1f} ms   warm p50 {p50:6.2f}  p99 {p99:6.2f} ms")
            # Around me reads the boards the index holds; a cold index is rebuilt whole first.
            redis_store.client.flushdb(asynchronous=True)
            t0 = time.perf_counter()
            leaderboards.rebuild_index()
            rebuilt = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            leaderboards.standing(anyone())
            log(f"  around me (9 boards): index rebuilt in {rebuilt:8.1f} ms, then {(time.perf_counter() - t0) * 1000:6.1f} ms")
            case("around me (9 boards), warm index", lambda u: leaderboards.standing(u), anyone, plan=False)
        case("around me (9 boards), database path", lambda u: leaderboards._db_standings(db_boards, u, True), anyone)
        case(
            "board top 10 all-time winnings, database path",
            lambda _u: leaderboards._db_range("total_winnings", "all", 0, 10),
        )
        log(" operators")
        case("find players by name", lambda _u: actions.find_players(operator, "player4242"))
        case("find players by email part", lambda _u: actions.find_players(operator, "r777@exa"))
        case("find players by id", lambda u: actions.find_players(operator, str(u)), anyone)
        case("a player's page", lambda u: actions.player(operator, u), anyone)
        case("a player's ledger (heaviest)", lambda u: ledger.history(u, limit=50), lambda: heavy)
        for span, since in (("day", now - timedelta(days=1)), ("month", now - timedelta(days=30)), ("all time", None)):
            case(f"RTP per game, {span}", lambda _u, s=since: actions.game_rtp(operator, s), n=max(runs // 20, 5))
            case(f"biggest wins, {span}", lambda _u, s=since: actions.biggest_wins(operator, s), n=max(runs // 20, 5))
        case("audit log, newest page", lambda _u: audit.listing(limit=50))
        db.engine.dispose()
    return results


# --- the ledger check --------------------------------------------------------------------


def ledger_checks(url):
    """The full check, and the incremental one when the service has it."""
    from imperioApp import create_app
    from imperioApp.extensions import db
    from imperioApp.services.operators import actions

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING", REDIS_URL=None)
    with app.app_context():
        operator = bench_operator(db)
        log(f"--- ledger check, {machine()}")
        t0 = time.perf_counter()
        full = actions.check_ledger(operator)
        log(f"  full check: {full['players_checked']:,} players, ok={full['ok']}, {(time.perf_counter() - t0) * 1000:.0f} ms")
        incremental = getattr(actions, "check_ledger_since_checkpoint", None)
        if incremental is None:
            log("  incremental check: not available")
            return
        for label in ("first run (every row is new)", "again, no new rows"):
            t0 = time.perf_counter()
            found = incremental(operator)
            log(
                f"  incremental, {label}: {found['rows_checked']:,} rows of {found['players_checked']:,} players, "
                f"ok={found['ok']}, {(time.perf_counter() - t0) * 1000:.0f} ms"
            )
        with db.engine.begin() as conn:
            # A day of new play: the year's last day, written again after the checkpoint.
            conn.execute(
                text(
                    """
                    WITH day AS (SELECT user_id, amount FROM transactions
                                 WHERE created_at >= now() - interval '1 day' AND type IN ('bet', 'win')),
                    moved AS (INSERT INTO transactions (user_id, type, amount, balance_after, created_at)
                              SELECT d.user_id, 'adjustment', d.amount, u.balance, now()
                              FROM day d JOIN users u ON u.id = d.user_id RETURNING user_id, amount)
                    UPDATE users u SET balance = u.balance + m.total
                    FROM (SELECT user_id, sum(amount) AS total FROM moved GROUP BY user_id) m WHERE u.id = m.user_id
                    """
                )
            )
        t0 = time.perf_counter()
        found = incremental(operator)
        log(
            f"  incremental after a day's rows: {found['rows_checked']:,} rows of {found['players_checked']:,} players, "
            f"ok={found['ok']}, {(time.perf_counter() - t0) * 1000:.0f} ms"
        )
        db.engine.dispose()


# --- migration lock ----------------------------------------------------------------------


def lock(url):
    """Add a column and an index to game_rounds while a writer inserts rounds; report its longest stall."""
    dsn = libpq(url)
    log(f"--- migration on game_rounds under writes, {machine()}")

    def writer(stop, stalls):
        conn = psycopg2.connect(dsn)
        cur = conn.cursor()
        cur.execute("SELECT id, nonce FROM fairness_seeds WHERE user_id = 1 AND active")
        seed_id, nonce = cur.fetchone()
        nonce += 10_000_000
        while not stop.is_set():
            nonce += 1
            t0 = time.perf_counter()
            cur.execute(
                "INSERT INTO game_rounds (user_id, game_type, status, bet, payout, inputs, outcome, seed_id, "
                "server_seed_hash, client_seed, nonce, created_at, settled_at) VALUES (1, 'slots', 'settled', 1, 0, "
                "'{}', '{}', %s, '', '', %s, now(), now())",
                (seed_id, nonce),
            )
            conn.commit()
            stalls.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.005)
        conn.rollback()
        cur.execute("DELETE FROM game_rounds WHERE user_id = 1 AND nonce > %s", (nonce - len(stalls) - 1,))
        conn.commit()
        conn.close()

    def under_writes(label, statements):
        stop, stalls = threading.Event(), []
        thread = threading.Thread(target=writer, args=(stop, stalls))
        thread.start()
        time.sleep(1)
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        t0 = time.perf_counter()
        for statement in statements:
            conn.cursor().execute(statement)
        took = time.perf_counter() - t0
        time.sleep(0.5)
        stop.set()
        thread.join()
        conn.close()
        log(f"  {label:<58} {took:7.1f} s; writer's longest stall {max(stalls):8.1f} ms over {len(stalls)} inserts")

    under_writes("ADD COLUMN (nullable, no default)", ["ALTER TABLE game_rounds ADD COLUMN bench_note text"])
    under_writes("CREATE INDEX CONCURRENTLY", ["CREATE INDEX CONCURRENTLY ix_bench_note ON game_rounds (bench_note)"])
    under_writes("CREATE INDEX (plain: locks writers out)", ["CREATE INDEX ix_bench_note2 ON game_rounds (bench_note)"])
    under_writes(
        "DROP INDEX CONCURRENTLY x2, DROP COLUMN",
        [
            "DROP INDEX CONCURRENTLY ix_bench_note",
            "DROP INDEX CONCURRENTLY ix_bench_note2",
            "ALTER TABLE game_rounds DROP COLUMN bench_note",
        ],
    )


# --- backup ------------------------------------------------------------------------------


def backup(url):
    """pg_dump custom format (compression 6, as the backup script) and pg_restore -j 2 into a scratch database."""
    log(f"--- backup and restore, {machine()}")
    dump = RESULTS / "year.dump"
    t0 = time.perf_counter()
    subprocess.run(["pg_dump", "-Fc", "-Z", "6", "-f", str(dump), libpq(url)], check=True)
    log(f"  pg_dump -Fc: {time.perf_counter() - t0:.0f} s, {dump.stat().st_size / 1e9:.2f} GB")
    scratch = url + "_restore"
    create_database(scratch)
    t0 = time.perf_counter()
    subprocess.run(["pg_restore", "-j", "2", "--no-owner", "-d", libpq(scratch), str(dump)], check=True)
    log(f"  pg_restore -j 2: {time.perf_counter() - t0:.0f} s")
    conn = psycopg2.connect(libpq(server_url(url) + "/postgres"))
    conn.autocommit = True
    conn.cursor().execute(f'DROP DATABASE "{scratch.rsplit("/", 1)[1]}"')
    conn.close()
    dump.unlink()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--empty-db", default=None, help="default: the year's server, database year_empty")
    parser.add_argument("--small-db", default=None, help="default: the year's server, database year_small")
    parser.add_argument("--only", default=",".join(PARTS))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--settlement-rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15)
    args = parser.parse_args()
    if not args.database or not args.database.startswith("postgres"):
        raise SystemExit("DATABASE_URL (or --database) must name the PostgreSQL database bench/year_data.py filled")
    args.empty_db = args.empty_db or server_url(args.database) + "/year_empty"
    args.small_db = args.small_db or server_url(args.database) + "/year_small"
    RESULTS.mkdir(parents=True, exist_ok=True)
    parts = set(args.only.split(","))
    log(f"=== {machine()}")
    if "upgrade" in parts:
        upgrade_and_roll_up(args.database)
    if "settlement" in parts:
        settlement(args)
    if "reads" in parts:
        explain_path = RESULTS / "year_explain.txt"
        explain_path.write_text("")
        if not database_exists(args.small_db):
            create_database(args.small_db)
            subprocess.run(
                [sys.executable, "bench/year_data.py", "--players", "1000", "--rounds", "20000"],
                cwd=ROOT,
                env={**os.environ, "DATABASE_URL": args.small_db},
                check=True,
                stdout=subprocess.DEVNULL,
            )
        year = reads(args.database, args.redis, args.runs, "the year", explain_path)
        small = reads(args.small_db, args.redis, args.runs, "the small database", RESULTS / "small_explain.txt")
        log("--- p99 side by side (ms): the year | the small database")
        for name, (_, p99, _) in year.items():
            log(f"  {name:<46} {p99:8.2f} | {small.get(name, (0, 0, 0))[1]:8.2f}")
        (RESULTS / "year_reads.json").write_text(json.dumps({"year": year, "small": small}, indent=1))
    if "ledger" in parts:
        ledger_checks(args.database)
    if "lock" in parts:
        lock(args.database)
    if "backup" in parts:
        backup(args.database)
    log(f"=== done, {machine()}")


if __name__ == "__main__":
    main()

"""Seed 100,000 players and 1,000,000 rounds into PostgreSQL, then EXPLAIN and time the reads.

    createdb -h 127.0.0.1 -U postgres bench_engagement
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_engagement .venv/bin/python bench/seed_engagement.py

Everything a round leaves behind is seeded consistently: users (balance = sum of their
ledger), fairness seeds, settled game rounds, the ledger (sign-up bonus, bet and win rows
with running balances), user_stats (per game and overall), leaderboard_entries (daily,
weekly and all-time boards) and the achievements those statistics unlock (with their
notifications and the unlocked mask), loaded with COPY. Rounds are spread over the last 14 days and
skewed across players (player 1 has thousands of rounds, most have a handful).

Then, for the leaderboard, transaction-history and statistics reads, the statements the
services actually send are captured, run under EXPLAIN (ANALYZE, BUFFERS) and checked for
index use (no sequential scan of a large table), and each read is timed over random
players. With --redis (REDIS_URL) the Redis index is rebuilt and its reads timed as well.
--hot-path also times settlement in-process with and without the engagement hook.
"""

import argparse
import io
import json
import os
import random
import statistics as stats_
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from imperioApp import create_app  # noqa: E402
from imperioApp.adapters import leaderboard_index  # noqa: E402
from imperioApp.extensions import db, redis_store  # noqa: E402
from imperioApp.services.engagement import achievements, leaderboards, notifications, round_effects, statistics
from imperioApp.services.money import ledger
from imperioApp.services.rounds import play

GAMES = ("slots", "blackjack", "roulette")
GAME_BITS = statistics.GAME_BITS
BONUS = 1_000_000
# Payout multipliers drawn per round: about 40 % of rounds win something.
MULTIPLIERS = (0, 0, 0, 0, 0, 0, 1, 2, 2, 3, 5, 10, 0, 2, 0)
BIG_TABLES = {"transactions", "game_rounds", "leaderboard_entries", "user_stats", "users", "notifications", "user_achievements"}


def log(message):
    print(message, flush=True)


class Copier:
    """Stream rows into a table with COPY, a chunk at a time."""

    def __init__(self, cursor, table, columns, chunk=200_000):
        self.cursor, self.table, self.columns, self.chunk = cursor, table, columns, chunk
        self.buffer, self.pending, self.total = io.StringIO(), 0, 0

    def add(self, *values):
        self.buffer.write("\t".join(r"\N" if v is None else str(v) for v in values))
        self.buffer.write("\n")
        self.pending += 1
        if self.pending >= self.chunk:
            self.flush()

    def flush(self):
        if self.pending:
            self.buffer.seek(0)
            self.cursor.copy_expert(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self.buffer)
            self.total += self.pending
            self.buffer, self.pending = io.StringIO(), 0


def period_keys(moment):
    return leaderboards.current_periods(moment)


def seed(app, users, rounds, rng):
    """Generate and COPY every table; return (user round counts, now)."""
    now = datetime.now(timezone.utc)
    start = now - timedelta(days=14)
    raw = db.engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("SET session_replication_role = replica")  # skip FK triggers while loading
    t0 = time.perf_counter()

    created = start - timedelta(days=1)
    users_copy = Copier(
        cursor,
        "users",
        ("id", "username", "email", "password_hash", "balance", "role", "created_at", "failed_logins", "public_stats"),
    )
    seeds_copy = Copier(
        cursor,
        "fairness_seeds",
        ("id", "user_id", "server_seed", "server_seed_hash", "client_seed", "nonce", "active", "created_at"),
    )
    rounds_copy = Copier(
        cursor,
        "game_rounds",
        (
            "id",
            "user_id",
            "game_type",
            "status",
            "bet",
            "payout",
            "inputs",
            "outcome",
            "seed_id",
            "server_seed_hash",
            "client_seed",
            "nonce",
            "created_at",
            "settled_at",
        ),
    )
    ledger_copy = Copier(
        cursor, "transactions", ("id", "user_id", "type", "amount", "balance_after", "game_type", "round_id", "created_at")
    )

    balance = [0] * (users + 1)
    nonce = [0] * (users + 1)
    ledger_id = 0
    for user_id in range(1, users + 1):
        ledger_id += 1
        balance[user_id] = BONUS
        ledger_copy.add(ledger_id, user_id, "signup_bonus", BONUS, BONUS, None, None, created.isoformat())
    seed_hash = "0" * 64

    # Per-user running statistics, per game and overall, as settlement keeps them.
    fields = (
        "games_played",
        "games_won",
        "total_wagered",
        "total_won",
        "biggest_win",
        "current_streak",
        "best_streak",
        "big_wins",
        "signature_hits",
        "games_mask",
        "last_played_at",
    )
    user_stats = defaultdict(lambda: dict.fromkeys(fields, 0))
    boards = defaultdict(int)  # (metric, period, user) -> score

    # Round times in order; each round goes to a player skewed towards low ids.
    step = (now - start) / rounds
    for round_id in range(1, rounds + 1):
        at = start + step * round_id
        user_id = 1 + int(users * rng.random() ** 2)
        game = GAMES[round_id % 3]
        bet = rng.randint(1, 100)
        payout = bet * rng.choice(MULTIPLIERS)
        net = payout - bet
        stamp = at.isoformat()
        nonce[user_id] += 1
        signature = 1 if rng.random() < 0.01 else 0
        outcome = '{"combination": "three_cherries"}' if signature and game == "slots" else '{"combination": null}'
        rounds_copy.add(
            round_id,
            user_id,
            game,
            "settled",
            bet,
            payout,
            json.dumps({"bet": bet}),
            outcome,
            user_id,
            seed_hash,
            "bench",
            nonce[user_id] - 1,
            stamp,
            stamp,
        )
        balance[user_id] -= bet
        ledger_id += 1
        ledger_copy.add(ledger_id, user_id, "bet", -bet, balance[user_id], game, round_id, stamp)
        if payout:
            balance[user_id] += payout
            ledger_id += 1
            ledger_copy.add(ledger_id, user_id, "win", payout, balance[user_id], game, round_id, stamp)
        won = net > 0
        for key in ((user_id, "all"), (user_id, game)):
            row = user_stats[key]
            row["games_played"] += 1
            row["games_won"] += won
            row["total_wagered"] += bet
            row["total_won"] += payout
            row["biggest_win"] = max(row["biggest_win"], net)
            row["current_streak"] = row["current_streak"] + 1 if won else 0
            row["best_streak"] = max(row["best_streak"], row["current_streak"])
            row["big_wins"] += net >= app.config["BIG_WIN_THRESHOLD"]
            row["signature_hits"] += signature
            row["games_mask"] |= GAME_BITS[game]
            row["last_played_at"] = stamp
        for period in period_keys(at).values():
            boards[("games_played", period, user_id)] += 1
            boards[("total_winnings", period, user_id)] += net
            if net > 0:
                best = ("biggest_win", period, user_id)
                boards[best] = max(boards.get(best, 0), net)
    for user_id in range(1, users + 1):
        users_copy.add(
            user_id,
            f"bench{user_id}",
            f"bench{user_id}@example.com",
            "x",
            balance[user_id],
            "player",
            created.isoformat(),
            0,
            "f",
        )
        seeds_copy.add(user_id, user_id, "0" * 64, seed_hash, "bench", nonce[user_id], "t", created.isoformat())
    for copier in (users_copy, seeds_copy, rounds_copy, ledger_copy):
        copier.flush()
    log(f"  users {users_copy.total:,}, rounds {rounds_copy.total:,}, ledger rows {ledger_copy.total:,}")

    # Achievements as settlement would have unlocked them, each with its notification.
    catalogue = achievements.catalogue()
    per_user = defaultdict(dict)
    for (user_id, game), row in user_stats.items():
        per_user[user_id][game] = SimpleNamespace(**row, achievements_mask=0)
    unlocks_copy = Copier(cursor, "user_achievements", ("user_id", "achievement_id", "unlocked_at"))
    notes_copy = Copier(cursor, "notifications", ("id", "user_id", "type", "payload", "created_at"))
    masks, note_id = {}, 0
    for user_id, rows in per_user.items():
        games = {game: row for game, row in rows.items() if game != "all"}
        values = achievements.facts(rows["all"], games, balance[user_id])
        mask = 0
        for item in achievements.due(catalogue, values, 0):
            mask |= 1 << item["id"]
            unlocks_copy.add(user_id, item["id"], rows["all"].last_played_at)
            note_id += 1
            notes_copy.add(
                note_id,
                user_id,
                "achievement",
                json.dumps({"achievement": achievements.public(item)}),
                rows["all"].last_played_at,
            )
        masks[user_id] = mask
    unlocks_copy.flush()
    notes_copy.flush()
    stats_copy = Copier(cursor, "user_stats", ("user_id", "game_type", *fields, "achievements_mask"))
    for (user_id, game), row in user_stats.items():
        stats_copy.add(user_id, game, *(row[f] for f in fields), masks[user_id] if game == "all" else 0)
    stats_copy.flush()
    log(f"  achievements unlocked {unlocks_copy.total:,} (each with a notification)")
    boards_copy = Copier(cursor, "leaderboard_entries", ("metric", "period", "user_id", "score"))
    for (metric, period, user_id), score in boards.items():
        boards_copy.add(metric, period, user_id, score)
    boards_copy.flush()
    log(f"  user_stats rows {stats_copy.total:,}, leaderboard entries {boards_copy.total:,}")

    for table in ("users", "fairness_seeds", "game_rounds", "transactions", "notifications"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    cursor.execute("SET session_replication_role = DEFAULT")
    raw.commit()
    log(f"  loaded in {time.perf_counter() - t0:.1f} s; VACUUM ANALYZE ...")
    raw.set_isolation_level(0)
    t1 = time.perf_counter()
    cursor.execute("VACUUM ANALYZE")
    log(f"  vacuumed and analysed in {time.perf_counter() - t1:.1f} s")
    raw.close()
    counts = defaultdict(int)
    for (user_id, game), row in user_stats.items():
        if game == "all":
            counts[user_id] = row["games_played"]
    return counts, now


# --- EXPLAIN -----------------------------------------------------------------------------


def capture(fn):
    """Run fn() and return the SELECT statements (with parameters) it sent."""
    captured = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        db.session.remove()
    return captured


def walk(node):
    yield node
    for child in node.get("Plans", ()):
        yield from walk(child)


def explain(name, fn):
    """EXPLAIN (ANALYZE, BUFFERS) what fn() runs; assert no large table is read sequentially."""
    for statement, parameters in capture(fn):
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0][0]
        finally:
            raw.close()
        nodes = list(walk(plan["Plan"]))
        scans = [f"{n['Node Type']}({n.get('Index Name') or n.get('Relation Name')})" for n in nodes if "Scan" in n["Node Type"]]
        seq = [n.get("Relation Name") for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES]
        indexed = any("Index" in n["Node Type"] for n in nodes)
        verdict = "OK" if indexed and not seq else "NO INDEX"
        log(
            f"  [{verdict}] {name}: {plan['Execution Time']:.2f} ms, buffers hit "
            f"{plan['Plan'].get('Shared Hit Blocks', 0)} read {plan['Plan'].get('Shared Read Blocks', 0)}; "
            f"{', '.join(dict.fromkeys(scans))}"
        )
        assert not seq, f"{name}: sequential scan of {seq}"
        assert indexed, f"{name}: no index used"


def timed(name, fn, players, runs):
    samples = []
    for _ in range(runs):
        user_id = players()
        t0 = time.perf_counter()
        fn(user_id)
        samples.append((time.perf_counter() - t0) * 1000)
        db.session.remove()
    samples.sort()
    log(
        f"  {name:<44} p50 {stats_.median(samples):7.2f} ms   p95 {samples[int(0.95 * len(samples)) - 1]:7.2f} ms"
        f"   max {samples[-1]:7.2f} ms"
    )


def reads(app, counts, runs, rng):
    """EXPLAIN and time every read this issue added, on the database path."""
    periods = leaderboards.current_periods()
    ordered = sorted(counts, key=counts.get)
    heavy, median, light = ordered[-1], ordered[len(ordered) // 2], ordered[0]
    log(
        f"players: heaviest #{heavy} ({counts[heavy]} rounds), median #{median} ({counts[median]}), "
        f"lightest #{light} ({counts[light]})"
    )

    def bottom_of_board():
        # The last-ranked player of the all-time winnings board: the deepest rank count.
        with db.engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT user_id FROM leaderboard_entries WHERE metric='total_winnings' AND period='all' "
                    "ORDER BY score, user_id DESC LIMIT 1"
                )
            ).scalar_one()

    bottom = bottom_of_board()
    log("EXPLAIN (ANALYZE, BUFFERS)")
    for metric, timeframe in (("total_winnings", "all_time"), ("games_played", "daily"), ("biggest_win", "weekly")):
        period = periods[timeframe]
        explain(f"leaderboard top 10 {metric}/{timeframe}", lambda m=metric, p=period: leaderboards._db_range(m, p, 0, 10))
    explain("leaderboard page at rank 5,000", lambda: leaderboards._db_range("total_winnings", "all", 5000, 20))
    explain(
        "leaderboard/me (rank + neighbours, 9 boards), median player",
        lambda: leaderboards._db_standings(
            [(m, periods[t]) for t in leaderboards.TIMEFRAMES for m in leaderboards.METRICS], median, True
        ),
    )
    explain("leaderboard/me, last-ranked player", lambda: leaderboards._db_standings([("total_winnings", "all")], bottom, True))
    for label, user_id in (("heaviest", heavy), ("median", median)):
        explain(f"transactions first page, {label} player", lambda u=user_id: ledger.history(u, limit=20))
        first = ledger.history(user_id, limit=20)
        db.session.remove()
        if first["next_cursor"]:
            explain(
                f"transactions cursor page, {label} player",
                lambda u=user_id, c=first["next_cursor"]: ledger.history(u, before=c, limit=20),
            )
    explain(
        "transactions type=bet game_type=slots, heaviest",
        lambda: ledger.history(heavy, type="bet", game_type="slots", limit=20),
    )
    week_ago = datetime.now(timezone.utc) - timedelta(days=7)
    explain("transactions from 7 days ago, heaviest", lambda: ledger.history(heavy, since=week_ago, limit=20))
    explain("statistics (all stats rows of a player)", lambda: statistics.stats_rows(median))
    explain("notifications first page, heaviest", lambda: notifications.page(heavy, limit=20))
    explain("notifications unread only, heaviest", lambda: notifications.page(heavy, unread_only=True, limit=20))

    log(f"timings over {runs} random players (database path, no cache)")

    def anyone():
        return rng.choice(ordered)

    timed(
        "leaderboard top 10 (total_winnings, all_time)",
        lambda _u: leaderboards._db_range("total_winnings", "all", 0, 10),
        anyone,
        runs,
    )
    timed(
        "leaderboard top 10 (games_played, daily)",
        lambda _u: leaderboards._db_range("games_played", periods["daily"], 0, 10),
        anyone,
        runs,
    )
    boards = [(m, periods[t]) for t in leaderboards.TIMEFRAMES for m in leaderboards.METRICS]
    timed("leaderboard/me (9 boards, rank + neighbours)", lambda u: leaderboards._db_standings(boards, u, True), anyone, runs)
    timed("leaderboard/me, median player", lambda u: leaderboards._db_standings(boards, u, True), lambda: median, runs)
    timed(
        "leaderboard/me, last-ranked player",
        lambda u: leaderboards._db_standings(boards, u, True),
        lambda: bottom,
        max(runs // 10, 5),
    )
    timed("transactions first page", lambda u: ledger.history(u, limit=20), anyone, runs)
    timed("transactions first page, heaviest player", lambda u: ledger.history(u, limit=20), lambda: heavy, runs)
    timed("transactions type=win, heaviest player", lambda u: ledger.history(u, type="win", limit=20), lambda: heavy, runs)
    timed("statistics rows", lambda u: statistics.stats_rows(u), anyone, runs)
    timed("notifications first page", lambda u: notifications.page(u, limit=20), anyone, runs)


def redis_reads(app, counts, runs, rng):
    """Rebuild the Redis index and time its reads."""
    t0 = time.perf_counter()
    rebuilt = leaderboards.rebuild_index()
    log(f"Redis index: rebuilt {sum(done for *_, done in rebuilt)} boards in {time.perf_counter() - t0:.2f} s")
    ordered = list(counts)
    timed("top 10 via index (+ usernames query)", lambda _u: leaderboards.top("total_winnings", "all_time"), lambda: None, runs)
    timed("leaderboard/me via index (9 boards)", lambda u: leaderboards.standing(u), lambda: rng.choice(ordered), runs)
    median = sorted(counts, key=counts.get)[len(counts) // 2]
    timed("leaderboard/me via index, median player", lambda u: leaderboards.standing(u), lambda: median, runs)
    key = leaderboard_index.key("total_winnings", "all")
    log(f"  index size: {redis_store.client.zcard(key):,} members on {key}")


def hot_path(app, counts, rounds, rng):
    """Settle rounds in-process, with and without the engagement hook, one thread."""
    players = list(counts)

    def run(label):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            play.spin_slots(rng.choice(players), 1)
            db.session.remove()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        log(
            f"  {label:<34} {rounds / elapsed:7.0f} rounds/s   {elapsed / rounds * 1000:.2f} ms/round wall, "
            f"{cpu / rounds * 1000:.2f} ms/round CPU in this process"
        )

    run("with statistics/leaderboards/...")
    original = round_effects.record_settled_round
    round_effects.record_settled_round = lambda result: None
    try:
        run("without the engagement hook")
    finally:
        round_effects.record_settled_round = original


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200, help="timed reads per query")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the data already seeded")
    parser.add_argument("--redis", action="store_true", help="also rebuild and time the Redis index (REDIS_URL)")
    parser.add_argument("--hot-path", type=int, default=0, metavar="N", help="settle N rounds in-process")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database (createdb bench_engagement)")
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING", REDIS_URL=os.environ.get("REDIS_URL") if args.redis else None
    )
    rng = random.Random(1127)
    with app.app_context():
        if redis_store.client is not None:
            redis_store.client.flushdb()  # an index of another dataset would be served as this one
        if not args.skip_seed:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            upgrade()
            log(f"seeding {args.users:,} players and {args.rounds:,} rounds")
            counts, _ = seed(app, args.users, args.rounds, rng)
        else:
            with db.engine.connect() as conn:
                counts = dict(conn.execute(text("SELECT user_id, games_played FROM user_stats WHERE game_type='all'")).all())
        with db.engine.connect() as conn:
            sizes = conn.execute(
                text(
                    "SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) FROM pg_stat_user_tables "
                    "WHERE relname IN ('users','game_rounds','transactions','user_stats','leaderboard_entries','notifications',"
                    "'user_achievements') ORDER BY relname"
                )
            ).all()
        for name, rows, size in sizes:
            log(f"  {name:<20} {rows:>10,} rows  {size}")
        reads(app, counts, args.runs, rng)
        if args.redis and redis_store.client is not None:
            redis_reads(app, counts, args.runs, rng)
        if args.hot_path:
            hot_path(app, counts, args.hot_path, rng)


if __name__ == "__main__":
    main()

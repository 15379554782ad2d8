"""Fill a PostgreSQL database with a year of play, generated inside the server (no API, no client rows).

    createdb -h 127.0.0.1 -U postgres year
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/year .venv/bin/python bench/year_data.py
    DATABASE_URL=... .venv/bin/python bench/year_data.py --players 100000 --rounds 2000000 --days 365

Drops and recreates the schema (Alembic head), then generates with generate_series and
INSERT ... SELECT, the secondary indexes of the big tables dropped during the load and
rebuilt after it: players; settled rounds over `--days` days ending now, the traffic
growing through the year (the last day has about twice the first's rounds); their ledger
rows (a sign-up bonus, then a bet row and, when it paid, a win row per round, each with
its running balance_after); fairness seeds; user_stats per game and overall; the
leaderboard boards of the last `--board-days` days, the weeks they touch and all time;
the achievements those statistics unlock, each with its notification.

Play is skewed like real play: player p gets a round with probability proportional to the
density of 1 + N * U**3 (U uniform), so player 1 plays about 1 % of all rounds and the
median player about 10; bets lean small (1 + 100 * U**2), payouts follow a table whose
expected return is 96.1 %. Rounds are in id order by time, as the server writes them.

It checks the free disk first (about 1.1 KB per round with its ledger rows and indexes,
twice that free for the sorts) and refuses to start without it. At the end it checks the
ledger invariant (balance == SUM(ledger) for every player) with one query, and exits 1 if
it does not hold.
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2  # noqa: E402

from config import normalise_database_url  # noqa: E402

BONUS = 100_000_000
# Bytes on disk per round, with its ~1.6 ledger rows, their indexes and its share of the
# statistics and boards (measured: 1.0-1.1 KB at 1M and 5M rounds).
BYTES_PER_ROUND = 1_150
BYTES_PER_PLAYER = 1_500
BIG_TABLES = ("game_rounds", "transactions", "leaderboard_entries", "user_stats", "notifications", "user_achievements")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def dsn():
    return normalise_database_url(os.environ["DATABASE_URL"]).replace("postgresql+psycopg2://", "postgresql://")


def check_disk(conn, players, rounds):
    """Refuse to start unless the database's disk holds twice the estimate."""
    need = rounds * BYTES_PER_ROUND + players * BYTES_PER_PLAYER
    with conn.cursor() as cur:
        cur.execute("SELECT inet_server_addr() IS NULL OR host(inet_server_addr()) IN ('127.0.0.1', '::1')")
        local = cur.fetchone()[0]
        cur.execute("SHOW data_directory")
        data_dir = cur.fetchone()[0]
    where = data_dir if local and os.path.exists(data_dir) else "/"
    free = shutil.disk_usage(where).free
    log(f"needs about {need / 1e9:.1f} GB (and as much again for sorts); {free / 1e9:.1f} GB free on {where}")
    if free < 2 * need:
        raise SystemExit(f"not enough disk: {free / 1e9:.1f} GB free, {2 * need / 1e9:.1f} GB wanted")


def reset_schema(url):
    """Drop the schema and bring it to the Alembic head through the app's own migrations."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from imperioApp import create_app
    from imperioApp.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING", REDIS_URL=None)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()


def secondary_indexes(cur):
    """(name, definition) of the big tables' indexes that back no constraint."""
    cur.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        (list(BIG_TABLES),),
    )
    return cur.fetchall()


def step(cur, label, sql, params=None):
    t0 = time.perf_counter()
    cur.execute(sql, params or {})
    log(f"  {label}: {cur.rowcount if cur.rowcount >= 0 else ''} in {time.perf_counter() - t0:.1f} s")


def generate(conn, players, rounds, days, board_days):
    cur = conn.cursor()
    for setting in (
        "SET session_replication_role = replica",  # no FK triggers while loading
        "SET synchronous_commit = off",
        "SET work_mem = '1GB'",
        "SET maintenance_work_mem = '2GB'",
        "SELECT setseed(0.1127)",
    ):
        cur.execute(setting)
    indexes = secondary_indexes(cur)
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    p = {"n": players, "r": rounds, "days": days, "bonus": BONUS, "board_days": board_days}
    # The generated year, one row per round in id (time) order, with the player's balance
    # after it: every other table is derived from this one.
    step(
        cur,
        "rounds drawn",
        """
        CREATE UNLOGGED TABLE gen_rounds AS
        SELECT id, user_id, game_type, bet, payout, at,
               row_number() OVER w - 1 AS nonce,
               %(bonus)s + sum(payout - bet) OVER w AS balance
        FROM (
          SELECT i AS id,
                 1 + least(floor(%(n)s * power(random(), 3)), %(n)s - 1)::bigint AS user_id,
                 CASE WHEN i %% 20 < 12 THEN 'slots' WHEN i %% 20 < 17 THEN 'roulette' ELSE 'blackjack' END AS game_type,
                 b AS bet,
                 b * CASE WHEN m < 0.568 THEN 0 WHEN m < 0.688 THEN 1 WHEN m < 0.908 THEN 2 WHEN m < 0.968 THEN 3
                          WHEN m < 0.993 THEN 5 WHEN m < 0.999 THEN 10 ELSE 36 END AS payout,
                 now() - make_interval(days => %(days)s)
                   + make_interval(secs => %(days)s * 86400.0 * sqrt(i::float8 / %(r)s)) AS at
          FROM (SELECT i, 1 + floor(100 * power(random(), 2))::bigint AS b, random() AS m
                FROM generate_series(1, %(r)s) i) draws
        ) r
        WINDOW w AS (PARTITION BY user_id ORDER BY id)
        """,
        p,
    )
    cur.execute("CREATE INDEX ON gen_rounds (id)")
    step(
        cur,
        "users",
        """
        INSERT INTO users (id, username, email, password_hash, balance, role, created_at, failed_logins, public_stats,
                           protection_active, competing)
        SELECT g, 'player' || g, 'player' || g || '@example.com', 'x', %(bonus)s, 'player',
               now() - make_interval(days => %(days)s + 1), 0, g %% 10 = 0, false, false
        FROM generate_series(1, %(n)s) g
        """,
        p,
    )
    step(
        cur,
        "balances",
        """
        UPDATE users u SET balance = last.balance
        FROM (SELECT DISTINCT ON (user_id) user_id, balance FROM gen_rounds ORDER BY user_id, id DESC) last
        WHERE u.id = last.user_id
        """,
    )
    step(
        cur,
        "fairness seeds",
        """
        INSERT INTO fairness_seeds (id, user_id, server_seed, server_seed_hash, client_seed, nonce, active, created_at)
        SELECT u.id, u.id, md5(u.id::text) || md5(u.id::text || 's'), encode(sha256(u.id::text::bytea), 'hex'),
               'client' || u.id, COALESCE(c.n, 0), true, u.created_at
        FROM users u LEFT JOIN (SELECT user_id, count(*) AS n FROM gen_rounds GROUP BY user_id) c ON c.user_id = u.id
        """,
    )
    step(
        cur,
        "game_rounds",
        """
        INSERT INTO game_rounds (id, user_id, game_type, status, bet, payout, inputs, outcome, seed_id, server_seed_hash,
                                 client_seed, nonce, created_at, settled_at)
        SELECT id, user_id, game_type, 'settled', bet, payout,
               json_build_object('bet', bet),
               CASE game_type
                 WHEN 'slots' THEN json_build_object('stop_segments', json_build_array(15 + id %% 16, 15 + (id / 16) %% 16,
                                   15 + (id / 256) %% 16), 'combination', CASE WHEN payout > 0 THEN 'cherries' END,
                                   'multiplier', payout / bet)
                 WHEN 'roulette' THEN json_build_object('winning_number', id %% 37, 'total_bet', bet, 'total_win', payout)
                 ELSE json_build_object('player_hands', json_build_array(json_build_object('value', 18 + id %% 4)),
                                        'dealer_value', 17 + id %% 5, 'result', CASE WHEN payout > 0 THEN 'win' ELSE 'lose' END)
               END,
               user_id, encode(sha256(user_id::text::bytea), 'hex'), 'client' || user_id, nonce, at, at
        FROM gen_rounds ORDER BY id
        """,
    )
    step(
        cur,
        "ledger: sign-up bonuses",
        """
        INSERT INTO transactions (id, user_id, type, amount, balance_after, created_at)
        SELECT g, g, 'signup_bonus', %(bonus)s, %(bonus)s, now() - make_interval(days => %(days)s + 1)
        FROM generate_series(1, %(n)s) g
        """,
        p,
    )
    step(
        cur,
        "ledger: bets and wins",
        """
        INSERT INTO transactions (id, user_id, type, amount, balance_after, game_type, round_id, created_at)
        SELECT %(n)s + 2 * r.id - 1 + w.k, r.user_id, CASE w.k WHEN 0 THEN 'bet' ELSE 'win' END,
               CASE w.k WHEN 0 THEN -r.bet ELSE r.payout END,
               CASE w.k WHEN 0 THEN r.balance - r.payout ELSE r.balance END,
               r.game_type, r.id, r.at
        FROM gen_rounds r CROSS JOIN LATERAL (VALUES (0), (1)) w(k)
        WHERE w.k = 0 OR r.payout > 0
        ORDER BY r.id, w.k
        """,
        p,
    )
    step(
        cur,
        "user_stats",
        """
        INSERT INTO user_stats (user_id, game_type, games_played, games_won, total_wagered, total_won, biggest_win,
                                current_streak, best_streak, big_wins, signature_hits, games_mask, achievements_mask,
                                last_played_at)
        SELECT user_id, COALESCE(game_type, 'all'), count(*), count(*) FILTER (WHERE payout > bet), sum(bet), sum(payout),
               GREATEST(max(payout - bet), 0), 0, LEAST(count(*) FILTER (WHERE payout > bet), 3),
               count(*) FILTER (WHERE payout - bet >= 1000), count(*) FILTER (WHERE payout >= 10 * bet),
               CASE WHEN game_type IS NULL THEN bit_or(CASE game_type WHEN 'slots' THEN 1 WHEN 'blackjack' THEN 2 ELSE 4 END)
                    ELSE 0 END,
               0, max(at)
        FROM gen_rounds GROUP BY GROUPING SETS ((user_id, game_type), (user_id))
        """,
    )
    # Boards: the last board_days days, the ISO weeks they touch, and all time.
    board_rows = """
        SELECT metric, period, user_id, score FROM (
          SELECT period, user_id, sum(payout - bet) AS winnings, max(payout - bet) AS best, count(*) AS played
          FROM gen_rounds r CROSS JOIN LATERAL (VALUES (to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')),
                                                        (to_char(r.at AT TIME ZONE 'UTC', 'IYYY-"W"IW'))) k(period)
          WHERE r.at >= date_trunc('week', now() - make_interval(days => %(board_days)s))
          GROUP BY period, user_id
          UNION ALL
          SELECT 'all', user_id, sum(payout - bet), max(payout - bet), count(*) FROM gen_rounds GROUP BY user_id
        ) b CROSS JOIN LATERAL (VALUES ('total_winnings', winnings), ('games_played', played),
                                       ('biggest_win', CASE WHEN best > 0 THEN best END)) m(metric, score)
        WHERE score IS NOT NULL
          AND (period NOT LIKE '____-__-__' OR period >= to_char(now() - make_interval(days => %(board_days)s), 'YYYY-MM-DD'))
    """
    step(cur, "leaderboard_entries", f"INSERT INTO leaderboard_entries (metric, period, user_id, score) {board_rows}", p)
    # Achievements the statistics reach (the metrics settlement knows without a streak).
    step(
        cur,
        "user_achievements",
        """
        INSERT INTO user_achievements (user_id, achievement_id, unlocked_at)
        SELECT s.user_id, a.id, s.last_played_at
        FROM achievements a JOIN user_stats s ON s.game_type = CASE WHEN a.metric LIKE '%%:%%' THEN split_part(a.metric, ':', 2)
                                                                   ELSE 'all' END
        JOIN user_stats o ON o.user_id = s.user_id AND o.game_type = 'all'
        JOIN users u ON u.id = s.user_id
        WHERE CASE split_part(a.metric, ':', 1)
                WHEN 'games_played' THEN s.games_played WHEN 'total_wagered' THEN s.total_wagered
                WHEN 'big_wins' THEN s.big_wins WHEN 'signature_hits' THEN s.signature_hits
                WHEN 'best_streak' THEN s.best_streak WHEN 'balance' THEN u.balance
                WHEN 'games_tried' THEN bit_count(o.games_mask::bit(8))
              END >= a.threshold
        """,
    )
    step(
        cur,
        "achievement masks",
        """
        UPDATE user_stats s SET achievements_mask = m.mask
        FROM (SELECT user_id, bit_or(1::bigint << achievement_id) AS mask FROM user_achievements GROUP BY user_id) m
        WHERE s.user_id = m.user_id AND s.game_type = 'all'
        """,
    )
    step(
        cur,
        "notifications",
        """
        INSERT INTO notifications (user_id, type, payload, created_at, read_at)
        SELECT ua.user_id, 'achievement',
               json_build_object('achievement', json_build_object('id', a.id, 'code', a.code, 'name', a.name)),
               ua.unlocked_at, CASE WHEN ua.user_id %% 3 > 0 THEN ua.unlocked_at END
        FROM user_achievements ua JOIN achievements a ON a.id = ua.achievement_id
        ORDER BY ua.unlocked_at
        """,
    )
    cur.execute("DROP TABLE gen_rounds")
    for table in ("users", "fairness_seeds", "game_rounds", "transactions", "notifications"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    cur.execute("SET session_replication_role = DEFAULT")
    conn.commit()
    for name, definition in indexes:
        step(cur, f"index {name}", definition)
        conn.commit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--board-days", type=int, default=31, help="daily and weekly boards kept for this many days")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database")
    conn = psycopg2.connect(dsn())
    check_disk(conn, args.players, args.rounds)
    t0 = time.perf_counter()
    log(f"schema: Alembic head on {url.rsplit('/', 1)[-1]}")
    reset_schema(url)
    log(f"generating {args.players:,} players, {args.rounds:,} rounds over {args.days} days")
    generate(conn, args.players, args.rounds, args.days, args.board_days)
    conn.autocommit = True
    with conn.cursor() as cur:
        t1 = time.perf_counter()
        # Statistics for every table; the visibility map only where index-only scans need it
        # (the boards' ranks, the players): a VACUUM of the whole year rewrote every page for
        # its hint bits and took longer than the generation on this machine.
        cur.execute("ANALYZE")
        cur.execute("VACUUM leaderboard_entries, users, user_stats")
        log(f"  ANALYZE, and VACUUM of the boards and players, in {time.perf_counter() - t1:.1f} s")
        cur.execute(
            """
            SELECT count(*) FROM users u
            LEFT JOIN (SELECT user_id, sum(amount) AS total FROM transactions GROUP BY user_id) l ON l.user_id = u.id
            WHERE u.balance <> COALESCE(l.total, 0)
            """
        )
        drift = cur.fetchone()[0]
        cur.execute(
            "SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables "
            "WHERE n_live_tup > 0 ORDER BY pg_total_relation_size(relid) DESC"
        )
        for name, rows, size in cur.fetchall():
            log(f"  {name:<22} {rows:>13,} rows {size / 1e9:8.2f} GB")
        cur.execute("SELECT pg_database_size(current_database())")
        log(f"  database {cur.fetchone()[0] / 1e9:.2f} GB, generated in {time.perf_counter() - t0:.0f} s")
    if drift:
        log(f"LEDGER DRIFT: {drift} players whose balance != SUM(ledger)")
        sys.exit(1)
    log("ledger invariant holds: balance == SUM(ledger) for every player")


if __name__ == "__main__":
    main()

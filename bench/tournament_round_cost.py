"""What the scoring statement adds to a round: an entrant's spin against a spin by a player in no tournament.

    BENCH_DB=tourn_bench TOURNAMENT_ENTRANTS=1000 bash bench/run_settlement_bench.sh   # prepares the players
    DATABASE_URL=postgresql://.../tourn_bench python bench/tournament_round_cost.py --tokens bench/results/tokens.txt

One request at a time, in this process: alternating blocks of `play.spin_slots` by the
prepared players (entrants of the running tournament bench/prepare.py created) and by players
signed up here (in no tournament), so the machine's slow moments fall on both alike. Reports,
per round, the low quantile and the median of the wall time and of this process's CPU over the
blocks, and the CPU of the database's PostgreSQL backends over all of them (clock ticks of
/proc; nothing else may use that database meanwhile). The difference is the scoring statement.
Writes rounds to that database.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_jwt_extended import decode_token  # noqa: E402
from sqlalchemy import text  # noqa: E402

from imperioApp import create_app  # noqa: E402
from imperioApp.extensions import db  # noqa: E402
from imperioApp.services.identity import accounts  # noqa: E402
from imperioApp.services.money import wallet  # noqa: E402
from imperioApp.services.rounds import play  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def backend_ticks(database):
    """utime + stime of every PostgreSQL backend connected to `database`."""
    pids = db.session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database}).scalars().all()
    db.session.remove()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="bench/results/tokens.txt")
    parser.add_argument("--block", type=int, default=40)
    parser.add_argument("--blocks", type=int, default=30)
    args = parser.parse_args()
    tokens = [line.strip() for line in open(args.tokens) if line.strip()]
    app = create_app(
        "production",
        SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
        ARGON2_TIME_COST=1,
        ARGON2_MEMORY_COST=1024,
        ARGON2_PARALLELISM=1,
    )
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with app.app_context():
        entrants = [int(decode_token(token)["sub"]) for token in tokens]
        competing = db.session.execute(text("SELECT count(*) FROM users WHERE competing")).scalar_one()
        db.session.remove()
        outsiders = []
        for n in range(len(entrants)):
            user = accounts.signup(f"outsider{n}_{int(time.time())}", f"outsider{n}_{int(time.time())}@example.com", "bench-pw")
            wallet.credit(user.id, 1_000_000, type="adjustment")
            outsiders.append(user.id)
        db.session.remove()
        samples = {"entrant": [], "outsider": []}
        ticks = {"entrant": 0, "outsider": 0}
        for block in range(args.blocks):
            for kind, players in (
                (("entrant", entrants), ("outsider", outsiders))
                if block % 2
                else (
                    ("outsider", outsiders),
                    ("entrant", entrants),
                )
            ):
                before_ticks = backend_ticks(database)
                wall, cpu = time.perf_counter(), time.process_time()
                for i in range(args.block):
                    play.spin_slots(players[i % len(players)], 1)
                    db.session.remove()
                samples[kind].append(((time.perf_counter() - wall) / args.block, (time.process_time() - cpu) / args.block))
                ticks[kind] += backend_ticks(database) - before_ticks
    result = {"competing_players": competing, "rounds_per_kind": args.block * args.blocks}
    for kind, values in samples.items():
        walls = sorted(v[0] for v in values)
        cpus = sorted(v[1] for v in values)
        result[kind] = {
            "wall_ms_low": round(walls[len(walls) // 5] * 1e3, 3),
            "wall_ms_median": round(walls[len(walls) // 2] * 1e3, 3),
            "app_cpu_ms_low": round(cpus[len(cpus) // 5] * 1e3, 3),
            "app_cpu_ms_median": round(cpus[len(cpus) // 2] * 1e3, 3),
            "postgres_cpu_ms": round(1e3 * ticks[kind] / HZ / (args.block * args.blocks), 3),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

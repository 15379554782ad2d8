"""A recurring tournament played by 200 players over three scheduled periods, checked against an
independent computation from the rounds table and the ledger.

The expected standings and prizes are computed here from `game_rounds` (who played what, when)
and the entry-fee ledger rows (who joined when), following the rules as docs/tournaments.md
states them, without calling the service's scoring, ranking or prize code. Rounds are played
before a period, inside it, after it, by entrants before their join, by players who never
join, under the minimum bet and past max_rounds: none of those may count.
"""

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from imperioApp.extensions import db
from imperioApp.models import GameRound, LedgerEntry, TournamentPeriod
from imperioApp.services.competitions import closing, entries, standings, tournaments
from imperioApp.services.core.errors import DomainError
from imperioApp.services.identity import accounts
from imperioApp.services.operators import tournaments as operator_tournaments
from imperioApp.services.operators.audit import Operator
from imperioApp.services.rounds import play, settlement
from tests.api.helpers import assert_ledger_holds

START = datetime(2030, 3, 4, tzinfo=timezone.utc)
PLAYERS = 200
PERIODS = 3
EVENTS_PER_PERIOD = 300
RULES = {
    "title": "Hourly multiplier hunt",
    "metric": "multiplier_points",
    "game_types": ["slots"],
    "multiplier_cap": 500,
    "min_bet": 2,
    "min_rounds": 2,
    "max_rounds": 3,
    "entry_fee": 5,
    "prize_pool": {"mode": "entry_fees", "rake_percent": 10, "guaranteed": 100},
    "payouts": [50, 25, 15, 10],
    "schedule": "0 * * * *",
    "duration_seconds": 1800,
    "repeat_count": PERIODS,
    "starts_at": START,
}


class Clock:
    """One simulated time for the tournaments and the rounds, moved by the test."""

    def __init__(self, monkeypatch):
        self.now = START
        monkeypatch.setattr(tournaments, "clock", lambda: self.now)
        monkeypatch.setattr(settlement, "clock", lambda: self.now)

    def at(self, moment):
        self.now = moment


# --- the independent computation ----------------------------------------------------------


def expected_period(rounds, joins, starts_at, ends_at):
    """[(rank, user_id, score, rounds, prize)] of one period from its rounds and joins, as documented."""
    state = {user: {"score": 0, "rounds": 0, "reached": (joined, 0)} for user, joined in joins.items()}
    for round_id, user, bet, payout, settled_at in sorted(rounds, key=lambda r: (r[4], r[0])):
        if not starts_at <= settled_at < ends_at or user not in joins or settled_at < joins[user]:
            continue
        entry = state[user]
        if bet < RULES["min_bet"] or entry["rounds"] >= RULES["max_rounds"]:
            continue
        points = min(payout * 100 // bet, RULES["multiplier_cap"])
        entry["rounds"] += 1
        if points:
            entry["score"] += points
            entry["reached"] = (settled_at, round_id)
    ranked = sorted(
        (user for user, entry in state.items() if entry["rounds"] >= RULES["min_rounds"]),
        key=lambda user: (-state[user]["score"], state[user]["reached"], user),
    )
    fees = RULES["entry_fee"] * len(joins)
    pool = 0
    if ranked:
        pool = max(fees - fees * RULES["prize_pool"]["rake_percent"] // 100, RULES["prize_pool"]["guaranteed"])
    shares = RULES["payouts"][: len(ranked)]
    prizes = [pool * share // sum(shares) for share in shares] if shares else []
    if prizes:
        prizes[0] += pool - sum(prizes)
    return [
        (rank, user, state[user]["score"], state[user]["rounds"], prizes[rank - 1] if rank <= len(prizes) else 0)
        for rank, user in enumerate(ranked, 1)
    ], pool


def _rounds_and_joins(tournament_id, period_id):
    rounds = db.session.execute(
        select(GameRound.id, GameRound.user_id, GameRound.bet, GameRound.payout, GameRound.settled_at).where(
            GameRound.status == "settled", GameRound.game_type == "slots"
        )
    ).all()
    prefix = f"tournament:{tournament_id}:{period_id}:entry:"
    joins = {
        row.user_id: row.created_at
        for row in db.session.execute(
            select(LedgerEntry.user_id, LedgerEntry.created_at, LedgerEntry.idempotency_key).where(
                LedgerEntry.type == "tournament_fee"
            )
        )
        if row.idempotency_key.startswith(prefix)
    }
    return [tuple(row) for row in rounds], joins


# --- the play ---------------------------------------------------------------------------------


def _spin(user_id, bet):
    try:
        play.spin_slots(user_id, bet)
    except DomainError:
        pass  # out of coins: the round is simply not played


def test_two_hundred_players_over_three_scheduled_periods_match_the_recomputation(app, make_admin, monkeypatch):
    rng = random.Random(20301)
    clock = Clock(monkeypatch)
    admin = make_admin()
    with app.app_context():
        players = []
        for n in range(PLAYERS):
            user = accounts.signup(f"sim{n:03d}", f"sim{n:03d}@example.com", "correct-horse-battery")
            players.append(user.id)
        tournament_id = operator_tournaments.create(Operator(admin.id), dict(RULES))["id"]
        db.session.remove()
    prizes_paid = {}
    for number in range(1, PERIODS + 1):
        starts_at = START + timedelta(hours=number - 1)
        ends_at = starts_at + timedelta(seconds=RULES["duration_seconds"])
        joined = set()
        with app.app_context():
            # Before the start: joins for the upcoming period, and rounds that must not count.
            clock.at(starts_at - timedelta(minutes=20))
            for user_id in rng.sample(players, 30):
                clock.at(clock.now + timedelta(seconds=1))
                if rng.random() < 0.5:
                    entries.join(user_id, tournament_id)
                    joined.add(user_id)
                _spin(user_id, rng.randint(1, 4))
            # The period: joins and rounds interleaved, one event a second or more apart.
            step = (RULES["duration_seconds"] - 10) // EVENTS_PER_PERIOD
            entrants = sorted(joined)
            for event in range(EVENTS_PER_PERIOD):
                clock.at(starts_at + timedelta(seconds=2 + event * step))
                # Entrants play most of the rounds; the others now and then join, or play for nothing.
                user_id = rng.choice(entrants) if entrants and rng.random() < 0.6 else rng.choice(players)
                if user_id not in joined and rng.random() < 0.35:
                    entries.join(user_id, tournament_id)
                    joined.add(user_id)
                    entrants.append(user_id)
                else:
                    _spin(user_id, rng.randint(1, 4))
            # After the end, before the close: rounds that must not count.
            for user_id in rng.sample(sorted(joined), 10):
                clock.at(ends_at + timedelta(seconds=rng.randint(0, 4)))
                _spin(user_id, 4)
            period_id = db.session.execute(
                select(TournamentPeriod.id).where(
                    TournamentPeriod.tournament_id == tournament_id, TournamentPeriod.number == number
                )
            ).scalar_one()
            assert db.session.get(TournamentPeriod, period_id).starts_at == starts_at
            rounds, joins = _rounds_and_joins(tournament_id, period_id)
            db.session.remove()
            assert set(joins) == joined
            expected, pool = expected_period(rounds, joins, starts_at, ends_at)
            # Live standings, kept by settlement, already agree.
            live = standings.page(tournament_id, limit=100)
            assert [(i["rank"], i["user_id"], i["score"], i["rounds"]) for i in live["items"]] == [e[:4] for e in expected[:100]]
            clock.at(ends_at + timedelta(seconds=10))
            closing.close_due()
            results = standings.results(tournament_id, number=number)
        assert results["pool"] == pool
        assert [(i["rank"], i["user_id"], i["score"], i["rounds"], i["prize"]) for i in results["items"]] == expected
        assert all(item["paid"] for item in results["items"] if item["prize"])
        assert sum(item["prize"] for item in results["items"]) == pool
        assert len(expected) > 20 and pool > 0
        for _rank, user_id, *_, prize in expected:
            if prize:
                prizes_paid[user_id] = prizes_paid.get(user_id, 0) + prize
    with app.app_context():
        ledger_prizes = {}
        for user_id, amount in db.session.execute(
            select(LedgerEntry.user_id, LedgerEntry.amount).where(LedgerEntry.type == "tournament_prize")
        ):
            ledger_prizes[user_id] = ledger_prizes.get(user_id, 0) + amount
        periods = db.session.execute(
            select(TournamentPeriod.number, TournamentPeriod.status).where(TournamentPeriod.tournament_id == tournament_id)
        ).all()
        db.session.remove()
    assert ledger_prizes == prizes_paid
    assert sorted(tuple(row) for row in periods) == [(n, "closed") for n in range(1, PERIODS + 1)]
    assert_ledger_holds(app)

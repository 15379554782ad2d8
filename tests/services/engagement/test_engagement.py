"""Engagement rules and the settlement hook: periods, signatures, due achievements, statements per round."""

from datetime import datetime, timezone

import pytest

from imperioApp.adapters import breaker, caching, leaderboard_index
from imperioApp.extensions import cache
from imperioApp.services.core.unit_of_work import atomic
from imperioApp.services.engagement import achievements, leaderboards, round_effects, statistics
from imperioApp.services.rounds.settlement import SettledRound
from tests.api.helpers import count_queries


@pytest.mark.parametrize(
    ("moment", "daily", "weekly"),
    [
        ((2026, 11, 27, 12, 0), "2026-11-27", "2026-W48"),
        ((2026, 11, 29, 23, 59, 59), "2026-11-29", "2026-W48"),  # Sunday ends the ISO week
        ((2026, 11, 30, 0, 0), "2026-11-30", "2026-W49"),
        ((2026, 12, 31, 23, 0), "2026-12-31", "2026-W53"),
        ((2027, 1, 1, 0, 0), "2027-01-01", "2026-W53"),  # the ISO year, not the calendar year
        ((2027, 1, 4, 0, 0), "2027-01-04", "2027-W01"),
    ],
)
def test_period_keys_follow_the_utc_and_iso_calendars(moment, daily, weekly):
    at = datetime(*moment, tzinfo=timezone.utc)
    assert leaderboards.current_periods(at) == {"daily": daily, "weekly": weekly, "all_time": "all"}


def test_period_keys_convert_to_utc_first():
    from datetime import timedelta

    late_in_new_york = datetime(2026, 11, 29, 20, 0, tzinfo=timezone(timedelta(hours=-5)))  # Monday 01:00 UTC
    assert leaderboards.current_periods(late_in_new_york)["daily"] == "2026-11-30"


@pytest.mark.parametrize(
    ("game", "outcome", "hit"),
    [
        ("slots", {"combination": "three_cherries"}, True),
        ("slots", {"combination": "two_cherries"}, False),
        ("slots", {"combination": None}, False),
        ("blackjack", {"results": [{"result": "win"}, {"result": "blackjack"}]}, True),
        ("blackjack", {"results": [{"result": "push"}]}, False),
        ("roulette", {"bets": [{"type": "straight", "payout": 36}]}, True),
        ("roulette", {"bets": [{"type": "straight", "payout": 0}, {"type": "split", "payout": 18}]}, False),
        ("poker", {}, False),
    ],
)
def test_signature_outcomes(game, outcome, hit):
    assert statistics.signature_hit(game, outcome) is hit


CATALOGUE = (
    {"id": 1, "metric": "games_played:slots", "threshold": 1},
    {"id": 4, "metric": "games_played", "threshold": 10},
    {"id": 16, "metric": "balance", "threshold": 10_000},
)


def test_due_achievements_are_those_reached_and_not_yet_unlocked():
    values = {"games_played": 10, "games_played:slots": 3, "balance": 9_999}
    assert [a["id"] for a in achievements.due(CATALOGUE, values, 0)] == [1, 4]
    assert [a["id"] for a in achievements.due(CATALOGUE, values, 1 << 1)] == [4]
    # A metric the round did not bring (another game's count) is not evaluated.
    assert achievements.due(CATALOGUE, {"games_played": 1}, 0) == []


def test_index_members_order_ties_by_lower_user_id():
    members = [leaderboard_index.member(user_id) for user_id in (1, 2, 10, 2**63 - 1)]
    # Redis reads equal scores high-to-low in reverse byte order of the member.
    assert sorted(members, reverse=True) == members
    assert [leaderboard_index.user_of(m) for m in members] == [1, 2, 10, 2**63 - 1]


def settled(player_id, *, bet=10, payout=0, game="slots", outcome=None, balance=1000):
    return SettledRound(1, player_id, game, bet, payout, balance, outcome or {"combination": None})


def test_a_plain_round_costs_two_statements(app, player):
    with app.app_context():
        achievements.catalogue()
        with atomic():
            round_effects.record_settled_round(settled(player.id))  # the first round unlocks first_slots
        with count_queries(app) as queries:
            with atomic():
                round_effects.record_settled_round(settled(player.id))
    statements = [s.split()[:3] for s in queries.statements if not s.startswith("COMMIT")]
    assert statements == [["INSERT", "INTO", "user_stats"], ["INSERT", "INTO", "leaderboard_entries"]]


def test_an_unlocking_big_win_costs_five_statements(app, player):
    with app.app_context():
        achievements.catalogue()  # loaded once per process, then never read again
        jackpot = settled(player.id, bet=100, payout=25_000, outcome={"combination": "three_cherries"})
        with count_queries(app) as queries:
            with atomic():
                round_effects.record_settled_round(jackpot)
    # stats upsert, leaderboard upsert, unlocks insert, unlocked-mask update, notifications insert
    statements = [s.split()[:3] for s in queries.statements if not s.startswith("COMMIT")]
    assert statements == [
        ["INSERT", "INTO", "user_stats"],
        ["INSERT", "INTO", "leaderboard_entries"],
        ["INSERT", "INTO", "user_achievements"],
        ["UPDATE", "user_stats", "SET"],
        ["INSERT", "INTO", "notifications"],
    ]


def test_a_failing_cache_is_bypassed_and_skipped_for_a_while(app, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    with app.app_context():
        assert caching.remember("k", 1, lambda: 42) == 42
        assert breaker.is_open(caching.BREAKER)
        assert caching.remember("k", 1, lambda: 43) == 43
        assert len(calls) == 1  # the second read did not wait on the cache
        breaker.reset()

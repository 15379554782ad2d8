"""The tournament engine: scoring from settled rounds, the close, prizes exactly once, cancel and refunds."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from imperioApp.extensions import db as _db
from imperioApp.models import LedgerEntry, TournamentEntry, User
from imperioApp.services.competitions import closing, entries, scoring, standings
from imperioApp.services.core.errors import Conflict, Forbidden
from imperioApp.services.operators import tournaments as operator_tournaments
from imperioApp.services.operators.audit import Operator
from imperioApp.services.protection import settings
from tests.api.helpers import assert_ledger_holds
from tests.concurrency import race
from tests.tournaments import create, move_clock, now, spin


def _join(app, player, tournament_id):
    with app.app_context():
        return entries.join(player.id, tournament_id)


def _entry(app, tournament_id, user_id):
    with app.app_context():
        row = _db.session.execute(
            select(TournamentEntry).where(TournamentEntry.tournament_id == tournament_id, TournamentEntry.user_id == user_id)
        ).scalar_one_or_none()
        result = None if row is None else (row.score, row.rounds, row.rank, row.prize)
        _db.session.remove()
        return result


def _ledger(app, user_id, type_):
    with app.app_context():
        total = _db.session.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.user_id == user_id, LedgerEntry.type == type_
            )
        ).scalar_one()
        _db.session.remove()
        return total


def _close(app, monkeypatch, tournament):
    move_clock(monkeypatch, tournament["period"]["ends_at"] + timedelta(seconds=1))
    with app.app_context():
        return closing.close_due()


def test_only_entrants_rounds_in_the_running_period_score(app, client, make_player, make_admin, reels):
    admin = make_admin()
    entrant, outsider = make_player(balance=1000), make_player(balance=1000)
    tournament = create(app, admin, min_bet=2)
    reels(None)
    spin(client, entrant, 5)  # before joining: does not count
    _join(app, entrant, tournament["id"])
    spin(client, entrant, 3)
    spin(client, entrant, 1)  # under min_bet
    spin(client, outsider, 7)
    assert _entry(app, tournament["id"], entrant.id) == (3, 1, None, None)
    assert _entry(app, tournament["id"], outsider.id) is None
    with app.app_context():
        assert scoring.check(tournament["id"])["ok"]


@pytest.mark.parametrize(
    "metric, combination, expected",
    [
        ("wagered", None, 20),
        ("net_win", "two_bananas", 2 * (10 * 4 - 10)),
        ("multiplier_points", "three_cherries", 2 * 10_000),  # 25,000 per round, capped at 10,000
        ("best_multiplier", "two_apples", 600),
    ],
)
def test_each_metric_scores_as_documented(app, client, make_player, make_admin, reels, metric, combination, expected):
    admin = make_admin()
    player = make_player(balance=1000)
    tournament = create(app, admin, metric=metric)
    _join(app, player, tournament["id"])
    reels(combination)
    spin(client, player, 10)
    spin(client, player, 10)
    assert _entry(app, tournament["id"], player.id)[0] == expected
    with app.app_context():
        assert scoring.check(tournament["id"])["ok"]


def test_close_ranks_pays_the_pool_once_and_ties_go_to_the_first(app, client, make_player, make_admin, reels, monkeypatch):
    admin = make_admin()
    first, second, third = (make_player(balance=1000) for _ in range(3))
    tournament = create(app, admin, prize_pool={"mode": "fixed", "amount": 101}, payouts=[50, 30, 20])
    for player in (first, second, third):
        _join(app, player, tournament["id"])
    reels(None)
    spin(client, first, 5)
    spin(client, second, 5)  # the same score, reached later
    spin(client, third, 2)
    summaries = _close(app, monkeypatch, tournament)
    assert summaries and summaries[0]["closed"]
    assert [_entry(app, tournament["id"], p.id)[2:] for p in (first, second, third)] == [(1, 51), (2, 30), (3, 20)]
    assert sum(_ledger(app, p.id, "tournament_prize") for p in (first, second, third)) == 101
    with app.app_context():
        assert closing.close_due() == []  # nothing due any more, nothing paid twice
        results = standings.results(tournament["id"])
    assert [(item["rank"], item["prize"], item["paid"]) for item in results["items"]] == [
        (1, 51, True),
        (2, 30, True),
        (3, 20, True),
    ]
    spin(client, first, 9)  # after the close: scores nowhere
    assert _entry(app, tournament["id"], first.id)[0] == 5
    assert_ledger_holds(app)


def test_racing_closes_on_two_threads_pay_each_prize_once(app, client, make_player, make_admin, reels, monkeypatch):
    admin = make_admin()
    players = [make_player(balance=1000) for _ in range(2)]
    tournament = create(app, admin)
    for n, player in enumerate(players, 1):
        _join(app, player, tournament["id"])
        reels(None)
        spin(client, player, n)
    move_clock(monkeypatch, tournament["period"]["ends_at"] + timedelta(seconds=1))
    outcomes = race(app, 2, closing.close_due)
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert _ledger(app, players[1].id, "tournament_prize") == 60
    assert _ledger(app, players[0].id, "tournament_prize") == 40
    assert_ledger_holds(app)


def test_a_close_that_dies_between_payments_resumes_and_pays_the_rest_once(
    app, client, make_player, make_admin, reels, monkeypatch
):
    admin = make_admin()
    players = [make_player(balance=1000) for _ in range(3)]
    tournament = create(app, admin, prize_pool={"mode": "fixed", "amount": 90}, payouts=[50, 30, 20])
    reels(None)
    for n, player in enumerate(players, 1):
        _join(app, player, tournament["id"])
        spin(client, player, n)
    real = closing.pay_prize
    paid = []

    def dies_after_the_first(period, entry, title):
        if paid:
            raise RuntimeError("process killed")
        paid.append(entry.rank)
        return real(period, entry, title)

    monkeypatch.setattr(closing, "pay_prize", dies_after_the_first)
    with pytest.raises(RuntimeError):
        _close(app, monkeypatch, tournament)
    assert [_ledger(app, p.id, "tournament_prize") for p in players] == [0, 0, 45]
    monkeypatch.setattr(closing, "pay_prize", real)
    summaries = _close(app, monkeypatch, tournament)
    assert summaries[0]["closed"]
    assert [_ledger(app, p.id, "tournament_prize") for p in players] == [18, 27, 45]
    assert_ledger_holds(app)


def test_a_pool_from_fees_less_rake_with_a_guarantee(app, client, make_player, make_admin, reels, monkeypatch):
    admin = make_admin()
    players = [make_player(balance=1000) for _ in range(3)]
    tournament = create(
        app, admin, entry_fee=35, prize_pool={"mode": "entry_fees", "rake_percent": 10, "guaranteed": 50}, payouts=[100]
    )
    reels(None)
    for player in players:
        _join(app, player, tournament["id"])
    spin(client, players[0], 1)
    _close(app, monkeypatch, tournament)
    # fees 105, rake 10 (floor of 10.5), pool 95 (above the guaranteed 50)
    assert _ledger(app, players[0].id, "tournament_prize") == 95
    assert [_ledger(app, p.id, "tournament_fee") for p in players] == [-35, -35, -35]
    assert_ledger_holds(app)


def test_cancel_refunds_every_fee_once(app, make_player, make_admin):
    admin = make_admin()
    players = [make_player(balance=100) for _ in range(2)]
    tournament = create(app, admin, entry_fee=40, prize_pool={"mode": "entry_fees"})
    for player in players:
        _join(app, player, tournament["id"])
    with app.app_context():
        result = operator_tournaments.cancel(Operator(admin.id), tournament["id"])
        assert result["refunded"] == 2
        assert entries.refund_entries(tournament["id"], tournament["period"]["id"]) == 0
        with pytest.raises(Conflict):
            operator_tournaments.cancel(Operator(admin.id), tournament["id"])
    for player in players:
        assert _ledger(app, player.id, "tournament_refund") == 40
    with app.app_context():
        assert [_db.session.get(User, p.id).balance for p in players] == [100, 100]
        _db.session.remove()
    assert_ledger_holds(app)


def test_join_refusals(app, make_player, make_admin):
    admin = make_admin()
    poor, excluded, a, b = make_player(balance=10), make_player(), make_player(), make_player()
    tournament = create(app, admin, entry_fee=20, max_entrants=2)
    with app.app_context():
        with pytest.raises(Conflict) as funds:
            entries.join(poor.id, tournament["id"])
        assert funds.value.code == "insufficient_funds"
        settings.exclude(excluded.id, "timeout", hours=24)
        with pytest.raises(Forbidden) as refused:
            entries.join(excluded.id, tournament["id"])
        assert refused.value.code == "timed_out"
    _join(app, a, tournament["id"])
    with app.app_context():
        with pytest.raises(Conflict) as again:
            entries.join(a.id, tournament["id"])
        assert again.value.code == "already_joined"
    _join(app, b, tournament["id"])
    with app.app_context():
        with pytest.raises(Conflict) as full:
            entries.join(poor.id, tournament["id"])
        assert full.value.code == "tournament_full"
    assert _ledger(app, poor.id, "tournament_fee") == 0
    assert_ledger_holds(app)


def test_a_race_every_player_is_in_enrols_on_the_first_round(app, client, make_player, make_admin, reels, monkeypatch):
    admin = make_admin()
    player = make_player(balance=1000)
    tournament = create(app, admin, join_required=False)
    late = make_player(balance=1000)  # signed up after the race began
    reels(None)
    spin(client, player, 4)
    spin(client, late, 6)
    assert _entry(app, tournament["id"], player.id)[:2] == (4, 1)
    assert _entry(app, tournament["id"], late.id)[:2] == (6, 1)
    _close(app, monkeypatch, tournament)
    assert _ledger(app, late.id, "tournament_prize") == 60
    with app.app_context():
        assert not _db.session.get(User, player.id).competing
        _db.session.remove()


def test_a_recurring_tournament_opens_its_next_period_on_close(app, client, make_player, make_admin, reels, monkeypatch):
    admin = make_admin()
    player = make_player(balance=1000)
    start = now() - timedelta(minutes=30)
    tournament = create(
        app, admin, starts_at=start, ends_at=None, duration_seconds=3600, repeat_every_seconds=3600, repeat_count=2
    )
    _join(app, player, tournament["id"])
    reels(None)
    spin(client, player, 3)
    _close(app, monkeypatch, tournament)
    with app.app_context():
        first = standings.results(tournament["id"], number=1)
        second = standings.page(tournament["id"])
    assert first["items"][0]["prize"] == 100
    assert second["period"] == 2 and second["items"] == []


def test_standings_pages_and_around_me(app, client, make_player, make_admin, reels):
    admin = make_admin()
    players = [make_player(balance=1000) for _ in range(5)]
    tournament = create(app, admin)
    reels(None)
    for n, player in enumerate(players, 1):
        _join(app, player, tournament["id"])
        spin(client, player, n)
    with app.app_context():
        first = standings.page(tournament["id"], limit=2)
        second = standings.page(tournament["id"], cursor=first["next_cursor"], limit=2)
        around = standings.around(tournament["id"], players[2].id, limit=3)
    assert [item["score"] for item in first["items"]] == [5, 4]
    assert [item["rank"] for item in second["items"]] == [3, 4]
    assert [item["rank"] for item in around["items"]] == [2, 3, 4] and around["rank"] == 3


def test_no_index_covers_what_a_round_updates_so_an_entrants_round_stays_heap_only(app):
    """Every entrant's round updates its entry; an index over those columns would make each update rewrite every index."""
    from sqlalchemy import inspect

    updated = {"score", "rounds", "reached_at", "reached_round_id"}
    with app.app_context():
        inspector = inspect(_db.engine)
        indexed = [set(index["column_names"]) for index in inspector.get_indexes("tournament_entries")]
        indexed += [set(unique["column_names"]) for unique in inspector.get_unique_constraints("tournament_entries")]
    assert indexed, "the entries' indexes were not found"
    assert all(not columns & updated for columns in indexed), indexed

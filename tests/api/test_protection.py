"""Responsible gaming: limits enforced in the settlement transaction, the raise delay,
reality checks, time-outs and self-exclusion on every money path."""

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from flask_jwt_extended import decode_token
from sqlalchemy import select

from imperioApp.extensions import db
from imperioApp.models import LedgerEntry, LimitChange, PlayerExclusion, User
from imperioApp.services.core.errors import DomainError
from imperioApp.services.operators import actions
from imperioApp.services.operators.audit import Operator
from imperioApp.services.protection import enforcement, periods, settings
from imperioApp.services.rounds import play
from tests.concurrency import race
from tests.factories import log_in_again
from tests.web.forms import bearer, launch, log_in, sign_up

from .helpers import assert_error, money_snapshot

RED = {"type": "red", "amount": 10}


@pytest.fixture
def clock(monkeypatch):
    """The protection clock, movable: clock.now = ...; clock.advance(hours=25)."""

    class Clock:
        now = datetime.now(timezone.utc)

        def advance(self, **delta):
            self.now += timedelta(**delta)

    fake = Clock()
    monkeypatch.setattr(periods, "clock", lambda: fake.now)
    return fake


def set_limit(client, player, kind, period, amount, password=True):
    body = {"kind": kind, "period": period, "amount": amount}
    if password:
        body["password"] = player.password if password is True else password
    return client.put("/protection/limits", json=body, headers=player.headers)


def spin(client, player, bet=10):
    return client.post("/spin", json={"bet": bet}, headers=player.headers)


def flagged(app, user_id):
    with app.app_context():
        value = db.session.execute(select(User.protection_active).where(User.id == user_id)).scalar_one()
        db.session.remove()
    return value


def test_players_without_protection_never_pay_for_the_check(app, client, player, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the protection check ran for an unflagged player")

    monkeypatch.setattr(enforcement, "check_stake", must_not_run)
    assert spin(client, player).status_code == 200
    assert not flagged(app, player.id)


def test_a_bet_past_the_wager_limit_is_refused_with_the_limit_and_its_reset(app, client, player):
    limit = set_limit(client, player, "wager", "day", 25).get_json()
    assert limit["amount"] == 25 and limit["used"] == 0 and limit["pending_amount"] is None
    assert spin(client, player).status_code == 200
    assert spin(client, player).status_code == 200
    before = money_snapshot(app, player.id)
    error = assert_error(spin(client, player), 409, "limit_reached")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date()
    assert error["details"]["limit"] == 25 and error["details"]["used"] == 20 and error["details"]["period"] == "day"
    assert datetime.fromisoformat(error["details"]["resets_at"]) == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=timezone.utc
    )
    assert money_snapshot(app, player.id) == before  # refused whole: no ledger row, no round, no nonce
    assert spin(client, player, bet=5).status_code == 200  # exactly up to the limit is fine
    status = client.get("/protection", headers=player.headers).get_json()
    assert status["limits"][0]["used"] == 25


def test_a_loss_limit_counts_the_stake_as_lost_and_wins_give_room(client, player, reels):
    set_limit(client, player, "loss", "week", 30)
    reels(None)
    assert spin(client, player, bet=20).status_code == 200
    assert_error(spin(client, player, bet=20), 409, "limit_reached")  # 20 lost + 20 at stake > 30
    reels("three_cherries")
    assert spin(client, player, bet=10).status_code == 200  # 20 + 10 = 30: allowed, and it won
    reels(None)
    assert spin(client, player, bet=20).status_code == 200  # the win brought the net loss down


def test_limits_hold_on_blackjack_roulette_and_the_legacy_endpoint(client, player, deal):
    set_limit(client, player, "wager", "month", 15)
    assert_error(
        client.post("/roulette/spin", json={"bets": [{"type": "red", "amount": 16}]}, headers=player.headers),
        409,
        "limit_reached",
    )
    assert_error(
        client.post("/roulette/action", json={"bet": [{"amt": 16, "numbers": "1"}]}, headers=player.headers), 409, "limit_reached"
    )
    deal("9", "5", "2", "King", "10", "7", "8", "6")  # player 9+2, dealer shows 5: double down would stake 10 more
    started = client.post("/blackjack/start", json={"wager": 10}, headers=player.headers).get_json()
    assert started["game_over"] is False
    doubled = client.post("/blackjack/action", json={"action": "double_down", "game_id": started["id"]}, headers=player.headers)
    assert_error(doubled, 409, "limit_reached")
    stood = client.post("/blackjack/action", json={"action": "stand", "game_id": started["id"]}, headers=player.headers)
    assert stood.status_code == 200


def test_fifty_parallel_bets_cannot_overshoot_a_limit(app, make_player):
    player = make_player(balance=10_000)
    with app.app_context():
        settings.set_limit(player.id, "wager", "day", 100)
    results = race(app, 50, lambda: play.spin_slots(player.id, 3))
    refused = [r for r in results if isinstance(r, DomainError)]
    assert all(r.code == "limit_reached" for r in refused), refused
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert len(results) - len(refused) == 33  # 33 * 3 = 99 <= 100 < 102
    with app.app_context():
        assert settings.limits(player.id)[0]["used"] == 99


def test_fifty_parallel_losing_bets_stop_exactly_at_a_loss_limit(app, make_player, reels):
    player = make_player(balance=10_000)
    reels(None)
    with app.app_context():
        settings.set_limit(player.id, "loss", "week", 95)
    results = race(app, 50, lambda: play.spin_slots(player.id, 10))
    accepted = [r for r in results if not isinstance(r, Exception)]
    assert len(accepted) == 9 and all(r.code == "limit_reached" for r in results if isinstance(r, Exception))
    with app.app_context():
        assert settings.limits(player.id)[0]["used"] == 90


@pytest.mark.parametrize("kind", ["timeout", "self_exclusion", "operator_lock"])
def test_an_exclusion_is_stamped_when_it_takes_effect_so_no_bet_lands_after_it(app, make_player, make_admin, kind):
    # 40 bets race one exclusion (or an operator's lock) in real threads (on SQLite the writer
    # lock serialises them): every bet that was accepted holds a stamp before its start.
    player, admin = make_player(balance=10_000), make_admin()
    turns = itertools.count()

    def bet_or_exclude():
        if next(turns) == 20:
            if kind == "operator_lock":
                return actions.lock_account(Operator(admin.id), player.id, "racing bets")
            return settings.exclude(player.id, kind, hours=24, months=None if kind == "timeout" else 6)
        return play.spin_slots(player.id, 1)

    results = race(app, 41, bet_or_exclude)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)], results
    assert all(r.code in ("timed_out", "self_excluded", "account_suspended") for r in results if isinstance(r, DomainError))
    with app.app_context():
        if kind == "operator_lock":
            starts_at = db.session.get(User, player.id).suspended_at
        else:
            starts_at = db.session.execute(
                select(PlayerExclusion.starts_at).where(PlayerExclusion.user_id == player.id)
            ).scalar_one()
        late = db.session.execute(
            select(LedgerEntry.id, LedgerEntry.created_at).where(
                LedgerEntry.user_id == player.id, LedgerEntry.type == "bet", LedgerEntry.created_at >= starts_at
            )
        ).all()
        db.session.remove()
    assert late == []


def test_raising_or_removing_a_limit_needs_the_current_password_lowering_does_not(app, client, player):
    assert set_limit(client, player, "wager", "day", 50, password=False).status_code == 200  # a first limit
    assert set_limit(client, player, "wager", "day", 40, password=False).status_code == 200  # lower
    before = money_snapshot(app, player.id), settings_rows(app, player.id)
    assert_error(set_limit(client, player, "wager", "day", 60, password=False), 403, "password_required")
    assert_error(set_limit(client, player, "wager", "day", None, password=False), 403, "password_required")
    assert_error(set_limit(client, player, "wager", "day", 60, password="not-my-password"), 403, "wrong_password")
    assert (money_snapshot(app, player.id), settings_rows(app, player.id)) == before
    raised = set_limit(client, player, "wager", "day", 60).get_json()
    assert raised["amount"] == 40 and raised["pending_amount"] == 60


def settings_rows(app, user_id):
    with app.app_context():
        rows = db.session.execute(select(LimitChange.id).where(LimitChange.user_id == user_id)).all()
        db.session.remove()
    return len(rows)


def test_an_operator_lifts_an_exclusion_made_in_error_within_24_hours_audited(app, client, player, make_admin, clock):
    admin = make_admin()
    taken = client.post(
        "/protection/self-exclusion", json={"permanent": True, "password": player.password}, headers=player.headers
    )
    assert taken.status_code == 201
    again = log_in_again(app, player)
    assert_error(spin(client, again), 403, "self_excluded")
    lift = f"/admin/players/{player.id}/exclusion/lift"
    assert_error(client.post(lift, json={"reason": "mine"}, headers=again.headers), 403)
    assert_error(client.post(lift, json={"reason": ""}, headers=admin.headers), 422)
    clock.advance(hours=23)
    lifted = client.post(lift, json={"reason": "player's child pressed the button"}, headers=admin.headers)
    assert lifted.status_code == 200, lifted.get_json()
    assert spin(client, again).status_code == 200
    entry = client.get(f"/admin/audit?target_user_id={player.id}", headers=admin.headers).get_json()["items"][0]
    assert entry["action"] == "exclusion_lift" and entry["reason"] == "player's child pressed the button"
    assert entry["details"]["lifted"][0]["kind"] == "self_exclusion" and entry["details"]["lifted"][0]["ends_at"] is None
    assert_error(client.post(lift, json={"reason": "again"}, headers=admin.headers), 409, "nothing_to_lift")


def test_an_exclusion_past_the_cooling_off_window_cannot_be_lifted(app, client, player, make_admin, clock):
    admin = make_admin()
    assert client.post("/protection/timeout", json={"hours": 48}, headers=player.headers).status_code == 201
    clock.advance(hours=24, seconds=1)
    refused = client.post(f"/admin/players/{player.id}/exclusion/lift", json={"reason": "too late"}, headers=admin.headers)
    assert_error(refused, 409, "nothing_to_lift")
    assert_error(spin(client, log_in_again(app, player)), 403, "timed_out")


def test_lowering_applies_at_once_raising_and_removing_after_24_hours(app, client, player, clock):
    set_limit(client, player, "wager", "day", 10)
    lowered = set_limit(client, player, "wager", "day", 5).get_json()
    assert lowered["amount"] == 5 and lowered["pending_amount"] is None
    raised = set_limit(client, player, "wager", "day", 50).get_json()
    assert raised["amount"] == 5 and raised["pending_amount"] == 50
    assert datetime.fromisoformat(raised["pending_at"]) == clock.now + timedelta(hours=24)
    clock.advance(hours=23, minutes=59)
    assert_error(spin(client, player, bet=6), 409, "limit_reached")
    clock.advance(minutes=2)
    assert spin(client, player, bet=6).status_code == 200
    assert client.get("/protection", headers=player.headers).get_json()["limits"][0]["amount"] == 50
    removal = set_limit(client, player, "wager", "day", None).get_json()
    assert removal["amount"] == 50 and removal["pending_amount"] is None and removal["pending_at"] is not None
    assert_error(spin(client, player, bet=60), 409, "limit_reached")  # the removal waits too
    clock.advance(hours=25)
    assert client.get("/protection", headers=player.headers).get_json()["limits"] == []
    assert spin(client, player, bet=60).status_code == 200
    assert not flagged(app, player.id)  # no limit left: the check is skipped again
    history = client.get("/protection/limits/history", headers=player.headers).get_json()["items"]
    assert [(h["previous"], h["requested"]) for h in history] == [(50, None), (5, 50), (10, 5), (None, 10)]


def test_removing_a_limit_never_set_answers_no_limit_and_keeps_none(client, player):
    removed = set_limit(client, player, "loss", "day", None)
    assert removed.status_code == 200, removed.get_json()
    assert removed.get_json()["amount"] is None and removed.get_json()["pending_at"] is None
    assert client.get("/protection", headers=player.headers).get_json()["limits"] == []
    assert spin(client, player).status_code == 200


def test_a_lower_limit_cancels_a_pending_raise(client, player, clock):
    set_limit(client, player, "loss", "day", 100)
    set_limit(client, player, "loss", "day", 500)
    after = set_limit(client, player, "loss", "day", 80).get_json()
    assert after["amount"] == 80 and after["pending_amount"] is None
    clock.advance(hours=30)
    assert client.get("/protection", headers=player.headers).get_json()["limits"][0]["amount"] == 80


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "loss", "period": "day", "amount": 0},
        {"kind": "loss", "period": "day", "amount": -5},
        {"kind": "loss", "period": "day", "amount": 2.5},
        {"kind": "loss", "period": "day", "amount": "10"},
        {"kind": "loss", "period": "day", "amount": 2**70},
        {"kind": "loss", "period": "year", "amount": 10},
        {"kind": "spend", "period": "day", "amount": 10},
        {"kind": "loss", "period": "day"},
        {"period": "day", "amount": 10},
    ],
)
def test_bad_limits_are_refused_and_nothing_is_written(app, client, player, body):
    assert_error(client.put("/protection/limits", json=body, headers=player.headers), 422)
    assert client.get("/protection/limits/history", headers=player.headers).get_json()["items"] == []
    assert not flagged(app, player.id)


def test_protection_endpoints_need_a_token_and_json(client, player):
    assert_error(client.get("/protection"), 401)
    assert_error(
        client.put("/protection/limits", data="{bad", headers={**player.headers, "Content-Type": "application/json"}), 400
    )


@pytest.mark.parametrize(
    "path, body",
    [
        ("/protection/timeout", {"hours": 23}),
        ("/protection/timeout", {"hours": 6 * 7 * 24 + 1}),
        ("/protection/timeout", {"hours": 24.0}),
        ("/protection/timeout", {}),
        ("/protection/self-exclusion", {"months": 5, "password": "correct-horse-battery"}),
        ("/protection/self-exclusion", {"months": 61, "password": "correct-horse-battery"}),
        ("/protection/self-exclusion", {"months": 6, "permanent": True, "password": "correct-horse-battery"}),
        ("/protection/self-exclusion", {}),
        ("/protection/self-exclusion", {"permanent": "yes", "password": "correct-horse-battery"}),
        ("/protection/self-exclusion", {"months": 6}),
        ("/protection/self-exclusion", {"months": 6, "password": ""}),
        ("/protection/self-exclusion", {"months": 6, "password": 12345678}),
        ("/protection/reality-check", {"minutes": 5}),
        ("/protection/reality-check", {"minutes": 10.5}),
        ("/protection/reality-check", {}),
    ],
)
def test_bad_breaks_and_reality_checks_are_refused(app, client, player, path, body):
    method = client.put if path.endswith("reality-check") else client.post
    assert_error(method(path, json=body, headers=player.headers), 422)
    assert client.get("/protection", headers=player.headers).get_json()["may_play"] is True
    assert not flagged(app, player.id)


def test_self_exclusion_with_a_wrong_password_is_refused_and_writes_nothing(app, client, player, make_player):
    before = money_snapshot(app, player.id)
    wrong = client.post("/protection/self-exclusion", json={"months": 6, "password": "not-my-password"}, headers=player.headers)
    assert_error(wrong, 403, "wrong_password")
    # Someone else's password is no better than a wrong one.
    other = make_player()
    theirs = client.post(
        "/protection/self-exclusion", json={"permanent": True, "password": other.password + "x"}, headers=player.headers
    )
    assert_error(theirs, 403, "wrong_password")
    malformed = client.post(
        "/protection/self-exclusion", data="{bad", headers={**player.headers, "Content-Type": "application/json"}
    )
    assert_error(malformed, 400)
    status = client.get("/protection", headers=player.headers)
    assert status.status_code == 200  # the session still stands
    assert status.get_json()["may_play"] is True and status.get_json()["exclusion"] is None
    assert not flagged(app, player.id)
    assert money_snapshot(app, player.id) == before


def test_self_exclusion_blocks_every_rest_money_path_but_not_history_or_balance(app, client, player, deal):
    deal("9", "5", "2", "King", "10", "7", "8", "6")
    open_game = client.post("/blackjack/start", json={"wager": 10}, headers=player.headers).get_json()
    spin(client, player)
    excluded = client.post("/protection/self-exclusion", json={"months": 6, "password": player.password}, headers=player.headers)
    assert excluded.status_code == 201 and excluded.get_json()["kind"] == "self_exclusion"
    assert_error(client.get("/getCoins", headers=player.headers), 401, "token_revoked")  # every session ended
    log_in_again(app, player)
    before = money_snapshot(app, player.id)
    refusals = [
        spin(client, player),
        client.post("/blackjack/start", json={"wager": 10}, headers=player.headers),
        client.post("/blackjack/action", json={"action": "double_down", "game_id": open_game["id"]}, headers=player.headers),
        client.post("/roulette/spin", json={"bets": [RED]}, headers=player.headers),
        client.post("/roulette/action", json={"bet": [{"amt": 10, "numbers": "1"}]}, headers=player.headers),
    ]
    for response in refusals:
        error = assert_error(response, 403, "self_excluded")
        assert error["details"]["kind"] == "self_exclusion" and error["details"]["until"]
    assert money_snapshot(app, player.id) == before
    # An open hand may still be finished without staking more.
    assert (
        client.post("/blackjack/action", json={"action": "stand", "game_id": open_game["id"]}, headers=player.headers).status_code
        == 200
    )
    assert client.get("/getCoins", headers=player.headers).status_code == 200
    assert client.get("/games/history", headers=player.headers).status_code == 200
    assert client.post("/login", json={"username": player.username, "password": player.password}).status_code == 200
    status = client.get("/protection", headers=player.headers).get_json()
    assert status["may_play"] is False and status["exclusion"]["kind"] == "self_exclusion"


def test_a_time_out_ends_on_time_and_cannot_be_shortened(app, client, player, clock):
    assert client.post("/protection/timeout", json={"hours": 48}, headers=player.headers).status_code == 201
    log_in_again(app, player)
    # A shorter break on top changes nothing: the longer one still holds.
    client.post("/protection/timeout", json={"hours": 24}, headers=player.headers)
    log_in_again(app, player)
    clock.advance(hours=30)
    assert_error(spin(client, player), 403, "timed_out")
    clock.advance(hours=19)
    assert spin(client, player).status_code == 200
    assert not flagged(app, player.id)  # nothing applies any more: the check is skipped again


def test_a_permanent_self_exclusion_never_ends(app, client, player, clock):
    body = client.post(
        "/protection/self-exclusion", json={"permanent": True, "password": player.password}, headers=player.headers
    ).get_json()
    assert body == {"kind": "self_exclusion", "until": None}
    log_in_again(app, player)
    clock.advance(days=3650)
    assert_error(spin(client, player), 403, "self_excluded")


def test_the_reality_check_shows_elapsed_time_and_net_until_acknowledged(app, client, player, clock, reels):
    clock.now = datetime.now(timezone.utc) - timedelta(minutes=30)  # play "started" half an hour ago
    assert client.put("/protection/reality-check", json={"minutes": 10}, headers=player.headers).get_json() == {"minutes": 10}
    reels(None)
    first = spin(client, player, bet=4).get_json()
    assert "reality_check" not in first
    clock.advance(minutes=11)
    second = spin(client, player, bet=4).get_json()
    notice = second["reality_check"]
    assert notice["elapsed_seconds"] == 660 and notice["net"] == -8
    clock.advance(minutes=1)
    assert spin(client, player, bet=1).get_json()["reality_check"]["net"] == -9  # shown until acknowledged
    assert client.get("/protection", headers=player.headers).get_json()["reality_check"]["due"] is True
    acknowledged = client.post("/protection/reality-check/acknowledge", headers=player.headers).get_json()
    assert datetime.fromisoformat(acknowledged["next_check_at"]) == clock.now + timedelta(minutes=10)
    assert "reality_check" not in spin(client, player, bet=1).get_json()
    clock.advance(minutes=10)
    assert spin(client, player, bet=1).get_json()["reality_check"]["elapsed_seconds"] == 22 * 60
    assert client.put("/protection/reality-check", json={"minutes": None}, headers=player.headers).status_code == 200
    assert client.get("/protection", headers=player.headers).get_json()["reality_check"] is None
    assert_error(client.post("/protection/reality-check/acknowledge", headers=player.headers), 409, "no_reality_check")


def test_a_pause_in_play_starts_a_new_reality_check_session(client, player, clock):
    clock.now = datetime.now(timezone.utc) - timedelta(hours=2)
    client.put("/protection/reality-check", json={"minutes": 10}, headers=player.headers)
    spin(client, player, bet=1)
    clock.advance(minutes=45)  # longer than REALITY_CHECK_IDLE_MINUTES
    assert "reality_check" not in spin(client, player, bet=1).get_json()
    clock.advance(minutes=10)
    assert spin(client, player, bet=1).get_json()["reality_check"]["elapsed_seconds"] == 600


def test_an_exclusion_ends_the_game_tokens_and_a_new_one_moves_no_money(app, client):
    sign_up(client, "frontend_fan")
    _, query = launch(client, "imperio")
    with app.app_context():
        user_id = int(decode_token(query["token"])["sub"])
        settings.exclude(user_id, "timeout", hours=24)
    assert_error(client.get("/getCoins", headers=bearer(query["token"])), 401, "token_revoked")
    log_in(client, "frontend_fan")  # the page's session ended too: log in there again
    _, query = launch(client, "imperio")
    token = query["token"]
    before = money_snapshot(app, user_id)
    assert_error(client.post("/spin", json={}, headers=bearer(token)), 403, "timed_out")
    assert_error(client.post("/blackjack/start", json={"wager": 5}, headers=bearer(token)), 403, "timed_out")
    assert_error(
        client.post("/roulette/action", json={"bet": [{"amt": 5, "numbers": "1"}]}, headers=bearer(token)), 403, "timed_out"
    )
    assert money_snapshot(app, user_id) == before
    assert client.get("/getCoins", headers=bearer(token)).status_code == 200  # the balance stays visible


# What the check costs a flagged player: the suspension and exclusions, the limits, the
# period's usage, the reality-check row (one statement each), on top of the round's own.
CHECK_STATEMENTS = 4


def test_a_flagged_players_round_pays_a_fixed_number_of_statements_for_the_check(app, client, player, reels, monkeypatch):
    from .test_game_query_budget import BUDGETS, REVOCATION_LOOKUP, measure

    monkeypatch.setitem(app.config, "RATELIMIT_DEFAULT", None)
    reels(None)
    set_limit(client, player, "wager", "day", 1_000)
    for _ in range(3):  # the first rounds unlock achievements
        assert spin(client, player, bet=1).status_code == 200
    statements, _ = measure(app, lambda: spin(client, player, bet=1))
    with app.app_context():
        dialect = app.extensions["sqlalchemy"].engine.dialect.name
    postgres, sqlite, _ = BUDGETS["spin"]
    budget = (postgres if dialect == "postgresql" else sqlite) + (0 if app.config.get("REDIS_URL") else REVOCATION_LOOKUP)
    assert statements <= budget + CHECK_STATEMENTS, (statements, budget)

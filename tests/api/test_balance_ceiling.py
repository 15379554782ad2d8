"""The balance ceiling: no credit passes MAX_BALANCE, and no path reaches the database's overflow.

Adjustments are refused at the boundary (409 balance_ceiling, nothing written); a bet is
refused up front when the balance after its stake plus the most its round could pay would
pass the ceiling, whatever the outcome, so the refusal reveals nothing and consumes no draw.
"""

import pytest

from imperioApp.games import blackjack, slots

from .helpers import assert_error, assert_ledger_holds, money_snapshot


@pytest.fixture
def ceiling(app):
    return app.config["MAX_BALANCE"]


def adjust(client, admin, user_id, amount, key):
    headers = {**admin.headers, "Idempotency-Key": key}
    return client.post(f"/admin/players/{user_id}/adjustments", json={"amount": amount, "reason": "ceiling"}, headers=headers)


def test_the_ceiling_is_well_inside_bigint(ceiling):
    assert ceiling == 10**15 and ceiling * 2 < 2**63 - 1


def test_an_adjustment_reaches_the_ceiling_exactly_and_not_one_coin_past(
    app, client, make_player, make_admin, ceiling, monkeypatch
):
    monkeypatch.setitem(app.config, "ADJUSTMENT_APPROVAL_THRESHOLD", ceiling)  # one admin may move it all here
    admin, player = make_admin(), make_player(balance=0)
    response = adjust(client, admin, player.id, ceiling, "c1")
    assert response.status_code == 201 and response.get_json()["balance"] == ceiling
    before = money_snapshot(app, player.id)
    error = assert_error(adjust(client, admin, player.id, 1, "c2"), 409, "balance_ceiling")
    assert error["details"] == {"ceiling": ceiling, "balance": ceiling}
    assert money_snapshot(app, player.id) == before
    assert adjust(client, admin, player.id, -1, "c3").status_code == 201  # debits still work
    assert_ledger_holds(app)


@pytest.mark.parametrize("amount", [10**15 + 1, -(10**15) - 1, 2**63 - 1, -(2**63 - 1), 2**63])
def test_an_adjustment_past_the_ceiling_is_a_clear_422(app, client, make_player, make_admin, amount):
    admin, player = make_admin(), make_player()
    before = money_snapshot(app, player.id)
    assert_error(adjust(client, admin, player.id, amount, f"big-{amount}"), 422)
    assert money_snapshot(app, player.id) == before


def test_a_spin_whose_top_prize_would_pass_the_ceiling_is_refused_before_it_is_drawn(app, client, make_player, ceiling):
    top = slots.max_payout(1)
    fits = make_player(balance=ceiling - top + 1)  # after the stake, the top prize lands exactly on the ceiling
    assert client.post("/spin", json={"bet": 1}, headers=fits.headers).status_code == 200
    over = make_player(balance=ceiling - top + 2)
    before = money_snapshot(app, over.id)
    assert_error(client.post("/spin", json={"bet": 1}, headers=over.headers), 409, "balance_ceiling")
    assert money_snapshot(app, over.id) == before  # no coin moved, no nonce consumed
    assert_ledger_holds(app)


def test_roulette_and_blackjack_count_their_most_possible_payout(app, client, make_player, ceiling):
    roulette_player = make_player(balance=ceiling - 34)  # a straight of 1 could return 36: one past
    bet = {"bets": [{"type": "straight", "numbers": [7], "amount": 1}]}
    assert_error(client.post("/roulette/spin", json=bet, headers=roulette_player.headers), 409, "balance_ceiling")
    blackjack_player = make_player(balance=ceiling - blackjack.max_payout(10) + 11)
    assert_error(client.post("/blackjack/start", json={"wager": 10}, headers=blackjack_player.headers), 409, "balance_ceiling")
    fits = make_player(balance=ceiling - blackjack.max_payout(10) + 10)
    assert client.post("/blackjack/start", json={"wager": 10}, headers=fits.headers).status_code == 200
    assert_ledger_holds(app)


def test_a_bet_past_the_ceiling_is_refused_by_the_schema(app, client, make_player, ceiling):
    player = make_player()
    assert_error(client.post("/blackjack/start", json={"wager": ceiling + 1}, headers=player.headers), 422)


def test_the_document_states_the_ceiling(client, ceiling):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schemas["Adjustment"]["properties"]["amount"]["maximum"] == ceiling
    assert schemas["Adjustment"]["properties"]["amount"]["minimum"] == -ceiling


@pytest.mark.parametrize("amount", [str(2**63 - 1), str(2**70), "1"])
def test_flask_admin_adjust_past_the_ceiling_is_a_clear_error_not_a_traceback(app, runner, make_admin, make_player, amount):
    make_admin(username="ceilingops")
    player = make_player(balance=10**15)
    before = money_snapshot(app, player.id)
    result = runner.invoke(
        args=["admin", "adjust", str(player.id), "--amount", amount, "--reason", "probe", "--as", "ceilingops"]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert ("balance_ceiling" if amount == "1" else "validation_error") in result.output
    assert money_snapshot(app, player.id) == before

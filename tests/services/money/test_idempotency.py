"""The idempotency mechanism: one execution per key, replayed body, conflicts on reuse."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from imperioApp.models import IdempotencyRecord, LedgerEntry
from imperioApp.models.base import utcnow
from imperioApp.services.core.errors import Conflict, InsufficientFunds
from imperioApp.services.money import idempotency, wallet
from imperioApp.services.money.idempotency import IdempotentRequest, InvalidIdempotencyKey
from tests.concurrency import race


def bet_once(user_id, amount=5):
    def produce(key):
        balance = wallet.debit(user_id, amount, game_type="slots", idempotency_key=key)
        return 200, json.dumps({"coins": balance})

    return produce


def request_for(user_id, key="key-1", body=b'{"bet": 5}'):
    return IdempotentRequest(user_id, key, idempotency.fingerprint("POST", "/spin", body))


def test_a_repeat_replays_the_first_response_and_moves_nothing(db, make_player):
    player = make_player(balance=100)
    first, replayed = idempotency.execute(request_for(player.id), bet_once(player.id))
    assert (first, replayed) == (idempotency.StoredResponse(200, '{"coins": 95}'), False)
    again, replayed = idempotency.execute(request_for(player.id), bet_once(player.id))
    assert again == first and replayed
    assert wallet.balance_of(player.id) == 95
    keys = db.session.execute(select(LedgerEntry.idempotency_key).where(LedgerEntry.type == "bet")).scalars().all()
    assert keys == ["key-1"]


def test_same_key_different_body_is_a_conflict(db, make_player):
    player = make_player(balance=100)
    idempotency.execute(request_for(player.id), bet_once(player.id))
    with pytest.raises(Conflict) as raised:
        idempotency.execute(request_for(player.id, body=b'{"bet": 6}'), bet_once(player.id, 6))
    assert raised.value.code == "idempotency_key_reused"
    assert wallet.balance_of(player.id) == 95


def test_json_formatting_does_not_change_the_fingerprint():
    assert idempotency.fingerprint("POST", "/spin", b'{"a": 1, "b": 2}') == idempotency.fingerprint(
        "POST", "/spin", b'{"b":2,"a":1}'
    )
    assert idempotency.fingerprint("POST", "/spin", b"{}") != idempotency.fingerprint("POST", "/roulette/spin", b"{}")


def test_keys_are_per_user(db, make_player):
    alice, bob = make_player(balance=100), make_player(balance=100)
    idempotency.execute(request_for(alice.id), bet_once(alice.id))
    idempotency.execute(request_for(bob.id), bet_once(bob.id))
    assert wallet.balance_of(alice.id) == wallet.balance_of(bob.id) == 95


def test_a_failed_request_stores_nothing_and_frees_the_key(db, make_player):
    player = make_player(balance=3)
    with pytest.raises(InsufficientFunds):
        idempotency.execute(request_for(player.id), bet_once(player.id))
    assert db.session.execute(select(IdempotencyRecord)).first() is None
    wallet.credit(player.id, 10, type="bonus")
    db.session.commit()
    response, replayed = idempotency.execute(request_for(player.id), bet_once(player.id))
    assert response.body == '{"coins": 8}' and not replayed


def test_keys_expire_after_24_hours(db, make_player):
    player = make_player(balance=100)
    idempotency.execute(request_for(player.id), bet_once(player.id))
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    response, replayed = idempotency.execute(request_for(player.id), bet_once(player.id))
    assert not replayed and response.body == '{"coins": 90}'
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert idempotency.purge_expired() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\there", "ünïcode"])
def test_malformed_keys_are_refused(key):
    with pytest.raises(InvalidIdempotencyKey):
        idempotency.validate_key(key)


def test_ten_concurrent_retries_move_money_once(app, make_player):
    player = make_player(balance=100)
    results = race(app, 10, lambda: idempotency.execute(request_for(player.id, "concurrent"), bet_once(player.id)))
    assert all(isinstance(r, tuple) for r in results), results
    assert {r[0] for r in results} == {idempotency.StoredResponse(200, '{"coins": 95}')}
    assert sorted(r[1] for r in results) == [False] + [True] * 9
    with app.app_context():
        assert wallet.balance_of(player.id) == 95

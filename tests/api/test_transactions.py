"""Transaction history: newest first, stable cursor pages, filters, own rows only, bad input."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from imperioApp.extensions import db
from imperioApp.models import LedgerEntry

from .helpers import assert_error


def spin(client, player, bet=1):
    response = client.post("/spin", json={"bet": bet}, headers=player.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ledger_ids(app, user_id):
    """The player's ledger ids, newest first, read straight from the table."""
    with app.app_context():
        rows = (
            db.session.execute(
                select(LedgerEntry.id)
                .where(LedgerEntry.user_id == user_id)
                .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
            )
            .scalars()
            .all()
        )
        db.session.remove()
    return rows


def all_pages(client, player, query=""):
    seen, cursor = [], None
    while True:
        url = f"/transactions?limit=3{query}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=player.headers).get_json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_history_pages_newest_first_through_every_row(app, client, player):
    for _ in range(5):
        spin(client, player)
    items = all_pages(client, player)
    assert [item["id"] for item in items] == ledger_ids(app, player.id)
    assert items[-1]["type"] == "signup_bonus" and items[-1]["amount"] == 1000
    assert set(items[0]) == {"id", "type", "amount", "balance_after", "game_type", "round_id", "created_at"}
    # Each row's balance_after follows from the one before it.
    for newer, older in zip(items, items[1:], strict=False):
        assert newer["balance_after"] == older["balance_after"] + newer["amount"]


def test_pages_are_stable_while_new_rows_arrive(app, client, player):
    for _ in range(4):
        spin(client, player)
    before = ledger_ids(app, player.id)
    first = client.get("/transactions?limit=3", headers=player.headers).get_json()
    for _ in range(3):
        spin(client, player)  # newer rows land in front of the listing, not in its later pages
    rest, cursor = [], first["next_cursor"]
    while cursor:
        body = client.get(f"/transactions?limit=3&cursor={cursor}", headers=player.headers).get_json()
        rest += body["items"]
        cursor = body["next_cursor"]
    assert [item["id"] for item in first["items"] + rest] == before


def test_last_page_and_exact_fit(client, make_player):
    player = make_player()  # one row: the sign-up bonus
    body = client.get("/transactions?limit=1", headers=player.headers).get_json()
    assert len(body["items"]) == 1 and body["next_cursor"] is None
    body = client.get("/transactions?limit=100", headers=player.headers).get_json()
    assert len(body["items"]) == 1 and body["next_cursor"] is None


def test_filters_by_type_game_and_time(client, player, pocket):
    spin(client, player)
    pocket(17)
    client.post("/roulette/spin", json={"bets": [{"type": "straight", "numbers": [17], "amount": 1}]}, headers=player.headers)
    bets = all_pages(client, player, "&type=bet")
    assert bets and {item["type"] for item in bets} == {"bet"}
    roulette = all_pages(client, player, "&game_type=roulette")
    assert [item["type"] for item in roulette] == ["win", "bet"]
    assert all(item["game_type"] == "roulette" for item in roulette)
    now = datetime.now(timezone.utc)
    future = (now + timedelta(hours=1)).isoformat()
    assert all_pages(client, player, f"&from={future.replace('+00:00', 'Z')}") == []
    past = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")  # no offset: read as UTC
    assert len(all_pages(client, player, f"&from={past}")) == len(all_pages(client, player))
    assert all_pages(client, player, f"&to={past}") == []


def test_recent_is_the_last_ten(client, player, reels):
    reels("three_lemons")  # every spin wins: a bet row and a win row each, 17 rows in all
    for _ in range(8):
        spin(client, player)
    recent = client.get("/transactions/recent", headers=player.headers).get_json()
    assert len(recent) == 10
    assert recent == client.get("/transactions?limit=10", headers=player.headers).get_json()["items"]


def test_one_transaction_by_id(client, player):
    newest = client.get("/transactions/recent", headers=player.headers).get_json()[0]
    response = client.get(f"/transactions/{newest['id']}", headers=player.headers)
    assert response.status_code == 200 and response.get_json() == newest


def test_another_players_transactions_are_invisible(client, player, make_player):
    intruder = make_player()
    spin(client, player)
    theirs = client.get("/transactions/recent", headers=player.headers).get_json()
    for item in theirs:
        assert_error(client.get(f"/transactions/{item['id']}", headers=intruder.headers), 404, "transaction_not_found")
    # Their ids as a cursor lead nowhere either.
    body = client.get(f"/transactions?cursor={theirs[0]['id']}", headers=intruder.headers).get_json()
    assert body == {"items": [], "next_cursor": None}
    mine = client.get("/transactions", headers=intruder.headers).get_json()["items"]
    assert {item["id"] for item in mine}.isdisjoint(item["id"] for item in theirs)


@pytest.mark.parametrize(
    "path",
    [
        "/transactions/0",
        "/transactions/-1",
        "/transactions/abc",
        "/transactions/1.5",
        f"/transactions/{2**63}",
        "/transactions/999999",
    ],
)
def test_unknown_transaction_ids_are_404(client, player, path):
    assert_error(client.get(path, headers=player.headers), 404)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=-5",
        "limit=abc",
        "limit=1.5",
        f"limit={2**70}",
        "cursor=0",
        "cursor=-1",
        "cursor=abc",
        f"cursor={2**64}",
        "type=steal",
        "type=",
        "game_type=poker",
        "from=yesterday",
        "to=2026-13-45",
        "from=1700000000",
    ],
)
def test_bad_queries_are_422(client, player, query):
    assert_error(client.get(f"/transactions?{query}", headers=player.headers), 422)


def test_a_reversed_time_range_is_400_an_empty_one_is_an_empty_page(client, player):
    response = client.get("/transactions?from=2026-11-28T00:00:00Z&to=2026-11-27T00:00:00Z", headers=player.headers)
    assert_error(response, 400, "invalid_date_range")
    empty = client.get("/transactions?from=2026-11-28T00:00:00Z&to=2026-11-28T00:00:00Z", headers=player.headers)
    assert empty.status_code == 200 and empty.get_json()["items"] == []


def test_history_needs_a_token(client):
    for path in ("/transactions", "/transactions/recent", "/transactions/1", "/statistics"):
        assert_error(client.get(path), 401)

"""Balance reads, the removed updateCoins, and profiles."""

from sqlalchemy import func, select

from imperioApp.extensions import db
from imperioApp.models import LedgerEntry


def test_wallet_and_getcoins_report_the_balance(client, make_player):
    player = make_player(balance=321)
    for path in ("/wallet", "/getCoins"):
        response = client.get(path, headers=player.headers)
        assert response.status_code == 200
        assert response.get_json() == {"coins": 321}


def test_update_coins_is_gone_and_moves_nothing(app, client, player):
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    for kwargs in ({"json": {"coins": 10**6}}, {"json": {"coins": 10**6}, "headers": player.headers}, {}):
        response = client.post("/updateCoins", **kwargs)
        assert response.status_code == 410
        assert response.get_json()["error"]["code"] == "endpoint_removed"
    assert client.get("/getCoins", headers=player.headers).get_json() == {"coins": app.config["SIGNUP_BONUS"]}
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == before


def test_own_profile_has_private_fields(client, player):
    body = client.get("/profile", headers=player.headers).get_json()
    assert body["username"] == player.username
    assert body["email"] == player.email
    assert body["coins"] == 1000
    assert "password_hash" not in body


def test_public_profile_hides_email_and_balance(client, player, make_player):
    other = make_player(username="Bob_Public")
    response = client.get("/profile/bob_public", headers=player.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "Bob_Public"
    assert set(body) == {"username", "member_since", "achievements", "public_stats", "statistics"}
    assert body["statistics"] is None  # not opted in
    assert other.email not in response.get_data(as_text=True)


def test_unknown_profile_is_404(client, player):
    response = client.get("/profile/nobody", headers=player.headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "user_not_found"

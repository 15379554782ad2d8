"""The operators' API: stored-role checks, audited actions, adjustments, integrity views."""

import pytest
from sqlalchemy import func, select, text, update

from imperioApp.extensions import db
from imperioApp.models import AdminAudit, LedgerEntry, User
from imperioApp.models.base import utcnow
from imperioApp.services.operators import audit
from tests.factories import access_token
from tests.web.forms import bearer

from .helpers import assert_error, set_role

ADMIN_GETS = [
    "/admin/players",
    "/admin/players/{id}",
    "/admin/players/{id}/ledger",
    "/admin/players/{id}/rounds",
    "/admin/players/{id}/statistics",
    "/admin/players/{id}/limits",
    "/admin/players/{id}/limits/history",
    "/admin/players/{id}/sanctions",
    "/admin/players/{id}/sessions",
    "/admin/players/{id}/rounds/1",
    "/admin/games/rtp",
    "/admin/games/biggest-wins",
    "/admin/audit",
]
ADMIN_POSTS = [
    ("/admin/players/{id}/adjustments", {"amount": 5, "reason": "goodwill"}),
    ("/admin/players/{id}/lock", {"reason": "fraud check"}),
    ("/admin/players/{id}/unlock", {"reason": "cleared"}),
    ("/admin/players/{id}/sessions/end", {"reason": "support"}),
    ("/admin/players/{id}/lockout/reset", {"reason": "support"}),
    ("/admin/players/{id}/chat/mute", {"minutes": 5, "reason": "spam"}),
    ("/admin/players/{id}/chat/ban", {"reason": "abuse"}),
    ("/admin/players/{id}/chat/unmute", {"reason": "all good"}),
    ("/admin/players/{id}/chat/unban", {"reason": "all good"}),
    ("/admin/ledger/check", None),
]


def audit_rows(app):
    with app.app_context():
        rows = db.session.execute(select(AdminAudit.__table__)).all()
        db.session.remove()
    return rows


def adjust(client, admin, user_id, body, key="k1"):
    headers = {**admin.headers, "Idempotency-Key": key} if key else admin.headers
    return client.post(f"/admin/players/{user_id}/adjustments", json=body, headers=headers)


@pytest.fixture
def admin(make_admin):
    return make_admin(username="operator")


def _refused_everywhere(client, headers, target_id):
    for path in ADMIN_GETS:
        assert_error(client.get(path.format(id=target_id), headers=headers), 403, "admin_required")
    for path, body in ADMIN_POSTS:
        response = client.post(path.format(id=target_id), json=body, headers={**headers, "Idempotency-Key": "x"})
        assert_error(response, 403, "admin_required")


def test_every_admin_route_refuses_players_even_with_an_admin_claim_in_the_token(app, client, player, make_player):
    target = make_player()
    forged = access_token(app, player, username=player.username, role="admin")  # the claim is not the role
    _refused_everywhere(client, {"Authorization": f"Bearer {forged}"}, target.id)
    assert audit_rows(app) == []


def test_a_demoted_admin_loses_every_power_at_once_whatever_their_tokens_claim(app, client, admin, player):
    assert client.get("/admin/players", headers=admin.headers).status_code == 200
    set_role(app, admin.id, "player")
    _refused_everywhere(client, admin.headers, player.id)
    admin_again = access_token(app, admin, username="operator", role="admin")  # a token from before the demotion
    _refused_everywhere(client, {"Authorization": f"Bearer {admin_again}"}, player.id)
    assert audit_rows(app) == []


def test_admin_routes_need_a_token(client):
    assert_error(client.get("/admin/players"), 401)


def test_find_players_by_username_email_and_id_with_pages(client, admin, make_player):
    alice = make_player(username="alice_smith", email="alice@corp.example")
    make_player(username="bob")
    found = client.get("/admin/players?q=ALICE_S", headers=admin.headers).get_json()
    assert [p["username"] for p in found["items"]] == ["alice_smith"]
    assert client.get("/admin/players?q=corp.example", headers=admin.headers).get_json()["items"][0]["id"] == alice.id
    assert client.get(f"/admin/players?q={alice.id}", headers=admin.headers).get_json()["items"][0]["id"] == alice.id
    assert client.get("/admin/players?q=%25", headers=admin.headers).get_json()["items"] == []  # % is literal
    first = client.get("/admin/players?limit=2", headers=admin.headers).get_json()
    second = client.get(f"/admin/players?limit=2&cursor={first['next_cursor']}", headers=admin.headers).get_json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert "password_hash" not in first["items"][0]


def test_player_detail_ledger_rounds_recall_and_statistics(client, admin, player):
    spin = client.post("/spin", json={"bet": 3}, headers=player.headers).get_json()
    detail = client.get(f"/admin/players/{player.id}", headers=admin.headers).get_json()
    assert detail["balance"] == spin["totalCoins"] and detail["protection"]["may_play"] is True
    ledger = client.get(f"/admin/players/{player.id}/ledger", headers=admin.headers).get_json()
    assert {row["type"] for row in ledger["items"]} >= {"signup_bonus", "bet"}
    rounds = client.get(f"/admin/players/{player.id}/rounds", headers=admin.headers).get_json()
    assert rounds["items"][0]["id"] == spin["round_id"]
    recall = client.get(f"/admin/players/{player.id}/rounds/{spin['round_id']}", headers=admin.headers).get_json()
    assert recall["inputs"] == {"bet": 3}
    stats = client.get(f"/admin/players/{player.id}/statistics", headers=admin.headers).get_json()
    assert stats["overall"]["games_played"] == 1


def test_unknown_players_and_rounds_are_404(client, admin, player, make_player):
    assert_error(client.get("/admin/players/999999", headers=admin.headers), 404, "user_not_found")
    other = make_player()
    spin = client.post("/spin", json={"bet": 1}, headers=other.headers).get_json()
    # Another player's round under this player's path is not theirs.
    assert_error(client.get(f"/admin/players/{player.id}/rounds/{spin['round_id']}", headers=admin.headers), 404)
    assert client.get(f"/admin/players/{2**63}", headers=admin.headers).status_code == 404
    assert_error(adjust(client, admin, 999999, {"amount": 5, "reason": "goodwill"}), 404, "user_not_found")
    assert audit_rows(app=client.application) == []


def test_an_adjustment_is_a_ledger_row_with_its_reason_in_the_audit(app, client, admin, player):
    response = adjust(client, admin, player.id, {"amount": 250, "reason": "  refund for outage  "})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["balance"] == 1250
    with app.app_context():
        entry = db.session.get(LedgerEntry, body["transaction_id"])
        assert (entry.type, entry.amount, entry.balance_after) == ("adjustment", 250, 1250)
        assert entry.idempotency_key == "k1"  # the ledger row records the request's key
        db.session.remove()
    trail = client.get("/admin/audit", headers=admin.headers).get_json()["items"]
    assert len(trail) == 1
    assert trail[0]["action"] == "balance_adjustment" and trail[0]["reason"] == "refund for outage"
    assert trail[0]["target_user_id"] == player.id and trail[0]["admin_username"] == "operator"
    assert trail[0]["details"]["transaction_id"] == body["transaction_id"]
    assert trail[0]["request_id"] == response.headers["X-Request-ID"]
    # The retry with the same key replays the answer and moves nothing again.
    again = adjust(client, admin, player.id, {"amount": 250, "reason": "  refund for outage  "})
    assert again.get_json() == body and again.headers["Idempotent-Replayed"] == "true"
    assert len(audit_rows(app)) == 1
    debit = adjust(client, admin, player.id, {"amount": -1250, "reason": "chargeback"}, key="k2")
    assert debit.status_code == 201 and debit.get_json()["balance"] == 0


def test_an_adjustment_never_takes_a_balance_below_zero_and_a_refusal_writes_nothing(app, client, admin, player):
    assert_error(adjust(client, admin, player.id, {"amount": -1001, "reason": "too much"}), 409, "insufficient_funds")
    assert audit_rows(app) == []
    with app.app_context():
        assert db.session.get(User, player.id).balance == 1000
        db.session.remove()


def test_if_the_audit_row_fails_the_adjustment_is_undone_too(app, client, admin, player, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record", broken)
    assert_error(adjust(client, admin, player.id, {"amount": 100, "reason": "goodwill"}), 500)
    with app.app_context():
        count = db.session.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.user_id == player.id, LedgerEntry.type == "adjustment")
        ).scalar_one()
        assert count == 0 and db.session.get(User, player.id).balance == 1000
        db.session.remove()


@pytest.mark.parametrize(
    "body, code",
    [
        ({"amount": 0, "reason": "zero"}, "invalid_amount"),
        ({"amount": 1.5, "reason": "float"}, "validation_error"),
        ({"amount": "5", "reason": "string"}, "validation_error"),
        ({"amount": True, "reason": "bool"}, "validation_error"),
        ({"amount": 2**63, "reason": "huge"}, "validation_error"),
        ({"amount": 5}, "validation_error"),
        ({"amount": 5, "reason": ""}, "validation_error"),
        ({"amount": 5, "reason": "   "}, "reason_required"),
        ({"amount": 5, "reason": 7}, "validation_error"),
        ({"reason": "no amount"}, "validation_error"),
    ],
)
def test_bad_adjustments_are_refused_and_write_nothing(app, client, admin, player, body, code):
    response = adjust(client, admin, player.id, body)
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code, code)
    assert audit_rows(app) == []


def test_an_adjustment_needs_an_idempotency_key_and_json(app, client, admin, player):
    assert_error(adjust(client, admin, player.id, {"amount": 5, "reason": "goodwill"}, key=None), 400, "idempotency_key_required")
    malformed = client.post(
        f"/admin/players/{player.id}/adjustments",
        data="{not json",
        headers={**admin.headers, "Idempotency-Key": "m", "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert audit_rows(app) == []


def login(client, player, password=None, address="127.0.0.1"):
    return client.post(
        "/login",
        json={"username": player.username, "password": password or player.password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_lock_ends_every_session_refuses_login_and_unlock_restores_it(app, client, admin, player):
    response = client.post(f"/admin/players/{player.id}/lock", json={"reason": "fraud check"}, headers=admin.headers)
    assert response.status_code == 200 and response.get_json()["suspended_at"] is not None
    assert_error(login(client, player), 403, "account_suspended")
    assert_error(login(client, player, password="wrong-password"), 401, "invalid_credentials")  # nothing disclosed
    assert_error(client.post("/spin", json={"bet": 1}, headers=player.headers), 401, "token_revoked")
    assert_error(client.post("/token/refresh", headers=player.refresh_headers), 401, "token_revoked")
    assert client.get(f"/admin/players/{player.id}/sessions", headers=admin.headers).get_json() == []
    client.post(f"/admin/players/{player.id}/unlock", json={"reason": "cleared"}, headers=admin.headers)
    tokens = login(client, player).get_json()
    assert client.post("/spin", json={"bet": 1}, headers=bearer(tokens["access_token"])).status_code == 200
    assert [row.action for row in audit_rows(app)] == ["account_lock", "account_unlock"]


def test_a_suspended_accounts_live_session_cannot_refresh_and_the_rotation_is_undone(app, client, player):
    with app.app_context():  # suspended without its sessions ended (as if that were lost)
        db.session.execute(update(User).where(User.id == player.id).values(suspended_at=utcnow(), protection_active=True))
        db.session.commit()
        db.session.remove()
    assert_error(client.post("/token/refresh", headers=player.refresh_headers), 403, "account_suspended")
    assert_error(client.post("/spin", json={"bet": 1}, headers=player.headers), 403, "account_suspended")
    with app.app_context():
        db.session.execute(update(User).where(User.id == player.id).values(suspended_at=None))
        db.session.commit()
        db.session.remove()
    assert client.post("/token/refresh", headers=player.refresh_headers).status_code == 200  # still the current one


def test_the_sessions_listing_shows_each_live_session_and_ending_them_kills_every_token(app, client, admin, player):
    client.post(
        "/login",
        json={"username": player.username, "password": player.password},
        headers={"User-Agent": "Firefox/140"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    listed = client.get(f"/admin/players/{player.id}/sessions", headers=admin.headers)
    assert listed.status_code == 200
    rows = listed.get_json()
    assert len(rows) == 2 and {row["user_agent"] for row in rows} == {"tests", "Firefox/140"}
    assert rows[0]["user_agent"] == "Firefox/140" and rows[0]["client_address"] == "10.0.0.9"  # newest first
    assert set(rows[0]) == {"id", "user_agent", "client_address", "created_at", "last_used_at", "expires_at"}
    assert player.session_id in {row["id"] for row in rows}
    assert client.get(f"/admin/players/{admin.id}/sessions", headers=admin.headers).get_json()[0]["id"] != rows[0]["id"]
    ended = client.post(f"/admin/players/{player.id}/sessions/end", json={"reason": "support"}, headers=admin.headers)
    assert ended.status_code == 200
    assert client.get(f"/admin/players/{player.id}/sessions", headers=admin.headers).get_json() == []
    assert_error(client.get("/getCoins", headers=player.headers), 401, "token_revoked")
    assert_error(client.post("/token/refresh", headers=player.refresh_headers), 401, "token_revoked")
    assert client.get("/admin/players", headers=admin.headers).status_code == 200  # the operator's own session lives
    assert_error(client.get("/admin/players/424242/sessions", headers=admin.headers), 404, "user_not_found")
    assert client.get("/admin/players/abc/sessions", headers=admin.headers).status_code == 404
    assert client.get(f"/admin/players/{2**63}/sessions", headers=admin.headers).status_code == 404


def test_an_admin_cannot_lock_themselves(app, client, admin):
    assert_error(
        client.post(f"/admin/players/{admin.id}/lock", json={"reason": "oops"}, headers=admin.headers), 422, "invalid_target"
    )
    assert audit_rows(app) == []


def test_reset_lockout_clears_the_login_failures_of_the_username_and_email_from_every_address(
    app, client, admin, player, make_player
):
    other = make_player()
    for address in ("10.0.0.1", "10.0.0.2"):
        for _ in range(5):
            assert_error(login(client, player, password="wrong-password", address=address), 401)
            login(client, other, password="wrong-password", address=address)
    by_email = {"username": player.email, "password": "wrong-password"}
    for _ in range(5):
        client.post("/login", json=by_email, environ_base={"REMOTE_ADDR": "10.0.0.3"})
    for address in ("10.0.0.1", "10.0.0.2"):
        assert_error(login(client, player, address=address), 429, "account_locked")
    assert (
        client.post(
            "/login", json={**by_email, "password": player.password}, environ_base={"REMOTE_ADDR": "10.0.0.3"}
        ).status_code
        == 429
    )
    reset = client.post(f"/admin/players/{player.id}/lockout/reset", json={"reason": "verified by phone"}, headers=admin.headers)
    assert reset.status_code == 200 and reset.get_json()["locked_until"] is None
    for address in ("10.0.0.1", "10.0.0.2"):
        assert login(client, player, address=address).status_code == 200
    assert (
        client.post(
            "/login", json={**by_email, "password": player.password}, environ_base={"REMOTE_ADDR": "10.0.0.3"}
        ).status_code
        == 200
    )
    assert_error(login(client, other, address="10.0.0.1"), 429, "account_locked")  # only this player's reset


def test_chat_sanctions_go_through_the_chat_service_and_are_audited(app, client, admin, player):
    muted = client.post(f"/admin/players/{player.id}/chat/mute", json={"minutes": 10, "reason": "spam"}, headers=admin.headers)
    assert muted.status_code == 200 and muted.get_json()["kind"] == "mute"
    sanctions = client.get(f"/admin/players/{player.id}/sanctions", headers=admin.headers).get_json()
    assert sanctions[0]["kind"] == "mute" and sanctions[0]["active"] is True
    lifted = client.post(f"/admin/players/{player.id}/chat/unmute", json={"reason": "appealed"}, headers=admin.headers)
    assert lifted.get_json()["lifted"] == 1
    assert_error(
        client.post(f"/admin/players/{player.id}/chat/mute", json={"minutes": 0, "reason": "spam"}, headers=admin.headers),
        422,
        "invalid_minutes",
    )
    assert [row.action for row in audit_rows(app)] == ["chat_mute", "chat_unmute"]


def test_rtp_per_game_against_the_published_rtp_and_biggest_wins(client, admin, player, reels):
    reels("three_cherries")
    client.post("/spin", json={"bet": 2}, headers=player.headers)
    reels(None)
    client.post("/spin", json={"bet": 2}, headers=player.headers)
    report = client.get("/admin/games/rtp", headers=admin.headers).get_json()
    slots = next(game for game in report["games"] if game["game_type"] == "slots")
    assert slots["rounds"] == 2 and slots["wagered"] == 4
    assert slots["rtp"] == pytest.approx(slots["paid"] / 4) and slots["published_rtp"] == pytest.approx(0.960083)
    assert {game["game_type"] for game in report["games"]} == {"slots", "blackjack", "roulette"}
    wins = client.get("/admin/games/biggest-wins", headers=admin.headers).get_json()
    assert wins[0]["username"] == player.username and wins[0]["net"] == slots["paid"] - 2
    future = client.get("/admin/games/rtp?from=2999-01-01T00:00:00Z", headers=admin.headers).get_json()
    assert all(game["rounds"] == 0 and game["rtp"] is None for game in future["games"])
    assert_error(client.get("/admin/games/rtp?from=2026-02-01&to=2026-01-01", headers=admin.headers), 400, "invalid_date_range")
    for path in ("/admin/games/rtp", "/admin/games/biggest-wins", f"/admin/players/{admin.id}/ledger"):
        assert client.get(f"{path}?from=2026-01-01&to=2026-01-01", headers=admin.headers).status_code == 200, path
    assert client.get("/admin/games/rtp?from=yesterday", headers=admin.headers).status_code == 422
    assert client.get("/admin/games/biggest-wins?limit=1000", headers=admin.headers).status_code == 422


def test_the_ledger_check_reports_offenders(app, client, admin, player):
    clean = client.post("/admin/ledger/check", headers=admin.headers).get_json()
    assert clean["ok"] is True and clean["offenders"] == [] and clean["players_checked"] == 2
    with app.app_context():
        db.session.execute(text("UPDATE users SET balance = balance + 7 WHERE id = :id"), {"id": player.id})
        db.session.commit()
        found = client.post("/admin/ledger/check", headers=admin.headers).get_json()
        # Put it back, or the suite's own invariant check fails this test.
        db.session.execute(text("UPDATE users SET balance = balance - 7 WHERE id = :id"), {"id": player.id})
        db.session.commit()
        db.session.remove()
    assert found["ok"] is False
    assert found["offenders"] == [{"user_id": player.id, "username": player.username, "balance": 1007, "ledger_sum": 1000}]


def test_the_audit_trail_filters_and_pages(app, client, admin, player, make_player):
    other = make_player()
    for target in (player, other, player):
        client.post(f"/admin/players/{target.id}/sessions/end", json={"reason": "support"}, headers=admin.headers)
    mine = client.get(f"/admin/audit?target_user_id={player.id}", headers=admin.headers).get_json()
    assert len(mine["items"]) == 2
    page = client.get("/admin/audit?limit=2", headers=admin.headers).get_json()
    rest = client.get(f"/admin/audit?limit=2&cursor={page['next_cursor']}", headers=admin.headers).get_json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert client.get("/admin/audit?action=nothing", headers=admin.headers).get_json()["items"] == []
    assert client.get("/admin/audit?limit=0", headers=admin.headers).status_code == 422


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_audit_rows(app, client, admin, player):
    client.post(f"/admin/players/{player.id}/sessions/end", json={"reason": "support"}, headers=admin.headers)
    with app.app_context():
        for statement in ("UPDATE admin_audit SET reason = 'x'", "DELETE FROM admin_audit"):
            with pytest.raises(Exception, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        db.session.remove()


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/admin/players?q=" + "x" * 255, None),
        ("GET", "/admin/players?cursor=-1", None),
        ("GET", "/admin/players?limit=101", None),
        ("GET", "/admin/players?limit=1.5", None),
        ("GET", "/admin/players/{id}/ledger?type=theft", None),
        ("GET", "/admin/players/{id}/rounds?game_type=poker", None),
        ("GET", "/admin/audit?admin_id=abc", None),
        ("GET", "/admin/audit?target_user_id=-3", None),
        ("GET", "/admin/games/biggest-wins?game_type=poker", None),
        ("POST", "/admin/players/{id}/lock", {}),
        ("POST", "/admin/players/{id}/lock", {"reason": 12345}),
        ("POST", "/admin/players/{id}/lock", {"reason": "x" * 501}),
        ("POST", "/admin/players/{id}/chat/mute", {"reason": "spam"}),
        ("POST", "/admin/players/{id}/chat/mute", {"minutes": 2.5, "reason": "spam"}),
        ("POST", "/admin/players/{id}/chat/mute", {"minutes": -5, "reason": "spam"}),
        ("POST", "/admin/players/{id}/chat/mute", {"minutes": 10**12, "reason": "spam"}),
        ("POST", "/admin/players/{id}/chat/ban", {"minutes": "60", "reason": "spam"}),
        ("POST", "/admin/players/{id}/chat/unban", {"reason": None}),
    ],
)
def test_bad_admin_requests_are_4xx_json_and_write_nothing(app, client, admin, player, method, path, body):
    response = client.open(path.format(id=player.id), method=method, json=body, headers=admin.headers)
    assert 400 <= response.status_code < 500, response.get_json()
    assert_error(response, response.status_code)
    assert audit_rows(app) == []


def test_actions_on_players_that_do_not_exist_are_404_and_write_nothing(app, client, admin):
    for path, body in ADMIN_POSTS[1:-1]:
        response = client.post(path.format(id=424242), json=body, headers=admin.headers)
        assert_error(response, 404, "user_not_found")
    assert audit_rows(app) == []


def test_admin_actions_refuse_malformed_json(app, client, admin, player):
    response = client.post(
        f"/admin/players/{player.id}/lock", data="{nope", headers={**admin.headers, "Content-Type": "application/json"}
    )
    assert_error(response, 400)
    assert audit_rows(app) == []


def test_the_document_states_what_the_operator_routes_enforce(client, app):
    spec = client.get("/openapi.json").get_json()
    headers = [p for p in spec["paths"]["/admin/players/{user_id}/adjustments"]["post"]["parameters"] if p["in"] == "header"]
    assert [(p["name"], p["required"]) for p in headers] == [("Idempotency-Key", True)]
    schemas = spec["components"]["schemas"]
    for name in ("Mute", "Ban"):
        minutes = schemas[name]["properties"]["minutes"]
        assert (minutes["minimum"], minutes["maximum"]) == (1, app.config["CHAT_MAX_MUTE_MINUTES"]), name

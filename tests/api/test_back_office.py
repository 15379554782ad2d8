"""The back office: operator roles, the TOTP second factor, four eyes on adjustments,
exclusion from rankings, the dashboard, the chat viewer and the audit export."""

import csv
import io
import threading
import time

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update

from imperioApp import create_app
from imperioApp.adapters import sealing
from imperioApp.extensions import cache, db
from imperioApp.models import (
    AdminAudit,
    ChatMessage,
    LedgerEntry,
    OperatorRecoveryCode,
    OperatorSecondFactor,
    PendingAdjustment,
    User,
)
from imperioApp.models.base import utcnow
from imperioApp.services.money import wallet
from tests.factories import Player

from .helpers import assert_error, assert_ledger_holds, audit_actions, set_role, wait_for_next_step


def with_tokens(player, tokens):
    return Player(player.id, player.username, player.email, player.password, tokens)


@pytest.fixture
def make_operator(make_admin, app):
    def factory(role="admin", **kwargs):
        operator = make_admin(**kwargs)
        if role != "admin":
            set_role(app, operator.id, role)
        return operator

    return factory


@pytest.fixture
def admin(make_operator):
    return make_operator("admin", username="boss")


def adjust(client, who, user_id, amount, key, reason="goodwill credit"):
    return client.post(
        f"/admin/players/{user_id}/adjustments",
        json={"amount": amount, "reason": reason},
        headers={**who.headers, "Idempotency-Key": key},
    )


# --- roles -----------------------------------------------------------------------------


def test_every_admin_operation_declares_its_role_in_the_document(client):
    spec = client.get("/openapi.json").get_json()
    undeclared = [
        (method, path)
        for path, operations in spec["paths"].items()
        if path.startswith("/admin/")
        for method, operation in operations.items()
        if method != "parameters" and operation.get("x-required-role") not in ("support", "risk", "admin")
    ]
    assert undeclared == []
    lock = spec["paths"]["/admin/players/{user_id}/lock"]["post"]
    assert lock["x-required-role"] == "risk" and "`risk`" in lock["description"]
    assert spec["paths"]["/admin/players/{user_id}/adjustments"]["post"]["x-required-role"] == "admin"
    assert spec["paths"]["/admin/players"]["get"]["x-required-role"] == "support"


def test_support_reads_and_ends_sessions_but_may_not_lock_adjust_or_ban(client, make_operator, make_player, app):
    support = make_operator("support")
    target = make_player()
    assert client.get(f"/admin/players/{target.id}", headers=support.headers).status_code == 200
    assert client.get(f"/admin/players/{target.id}/ledger", headers=support.headers).status_code == 200
    assert client.get("/admin/chat/messages", headers=support.headers).status_code == 200
    ended = client.post(f"/admin/players/{target.id}/sessions/end", json={"reason": "asked to"}, headers=support.headers)
    assert ended.status_code == 200
    mute = client.post(f"/admin/players/{target.id}/chat/mute", json={"minutes": 5, "reason": "spam"}, headers=support.headers)
    assert mute.status_code == 200
    before = audit_actions(app)
    for path, body in [
        (f"/admin/players/{target.id}/lock", {"reason": "fraud check"}),
        (f"/admin/players/{target.id}/chat/ban", {"reason": "abuse"}),
        (f"/admin/players/{target.id}/rankings/exclude", {"reason": "collusion"}),
        (f"/admin/players/{target.id}/role", {"role": "support", "reason": "hire"}),
        ("/admin/ledger/check", None),
    ]:
        assert_error(client.post(path, json=body, headers=support.headers), 403, "role_required")
    assert_error(adjust(client, support, target.id, 5, "s1"), 403, "role_required")
    assert_error(client.get(f"/admin/players/{target.id}/limits", headers=support.headers), 403, "role_required")
    assert audit_actions(app) == before


def test_risk_locks_and_reads_limits_but_may_not_adjust(client, make_operator, make_player):
    risk = make_operator("risk")
    target = make_player()
    assert (
        client.post(f"/admin/players/{target.id}/lock", json={"reason": "fraud check"}, headers=risk.headers).status_code == 200
    )
    assert client.get(f"/admin/players/{target.id}/limits", headers=risk.headers).status_code == 200
    assert_error(adjust(client, risk, target.id, 5, "r1"), 403, "role_required")


def test_a_player_is_refused_as_before(client, player, make_player):
    assert_error(client.get("/admin/dashboard", headers=player.headers), 403, "admin_required")


def test_role_changes_are_audited_take_effect_at_once_and_never_on_oneself(client, app, admin, make_player):
    hire = make_player()
    assert_error(client.get("/admin/players", headers=hire.headers), 403, "admin_required")
    granted = client.post(f"/admin/players/{hire.id}/role", json={"role": "support", "reason": "new hire"}, headers=admin.headers)
    assert granted.status_code == 200 and granted.get_json()["role"] == "support"
    assert client.get("/admin/players", headers=hire.headers).status_code == 200
    removed = client.post(f"/admin/players/{hire.id}/role", json={"role": "player", "reason": "left"}, headers=admin.headers)
    assert removed.status_code == 200
    assert_error(client.get("/admin/players", headers=hire.headers), 403, "admin_required")
    assert_error(
        client.post(f"/admin/players/{admin.id}/role", json={"role": "support", "reason": "oops"}, headers=admin.headers),
        422,
        "invalid_target",
    )
    with app.app_context():
        details = db.session.execute(select(AdminAudit.details).where(AdminAudit.action == "role_change")).scalars().all()
    assert details == [{"from": "player", "to": "support"}, {"from": "support", "to": "player"}]


@pytest.mark.parametrize(
    "body",
    [
        {"role": "owner", "reason": "nope"},
        {"role": 3, "reason": "nope"},
        {"role": "admin"},
        {"reason": "no role"},
        {"role": "admin", "reason": "x"},
        {"role": ["admin"], "reason": "list"},
    ],
)
def test_role_change_refuses_bad_input_and_writes_nothing(client, app, admin, make_player, body):
    target = make_player()
    response = client.post(f"/admin/players/{target.id}/role", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert audit_actions(app) == []


def test_role_change_refuses_malformed_json_and_unknown_players(client, admin):
    response = client.post(
        "/admin/players/999999/role", data="{not json", headers={**admin.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert_error(
        client.post("/admin/players/999999/role", json={"role": "risk", "reason": "who"}, headers=admin.headers),
        404,
        "user_not_found",
    )


# --- the second factor -----------------------------------------------------------------


@pytest.fixture
def second_factor_required(app, monkeypatch):
    monkeypatch.setitem(app.config, "OPERATOR_2FA_REQUIRED", True)


def enrol(client, operator):
    """Enrol the operator's authenticator; return (operator with the new tokens, TOTP, recovery codes)."""
    started = client.post("/admin/second-factor/enrol", headers=operator.headers)
    assert started.status_code == 200, started.get_json()
    body = started.get_json()
    assert body["qr_svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "otpauth://totp/" in body["otpauth_uri"]
    totp = pyotp.TOTP(body["secret"])
    operator.first_code = totp.now()
    confirmed = client.post("/admin/second-factor/enrol/confirm", json={"code": operator.first_code}, headers=operator.headers)
    assert confirmed.status_code == 200, confirmed.get_json()
    result = confirmed.get_json()
    return with_tokens(operator, result), totp, result["recovery_codes"]


def test_no_admin_route_answers_before_the_second_factor(client, admin, make_player, second_factor_required):
    target = make_player()
    assert_error(client.get(f"/admin/players/{target.id}", headers=admin.headers), 403, "second_factor_required")
    me = client.get("/admin/me", headers=admin.headers).get_json()
    assert me["second_factor_required"] and not me["second_factor_enrolled"] and not me["second_factor_verified"]
    proved, totp, codes = enrol(client, admin)
    assert len(codes) == 10
    assert client.get(f"/admin/players/{target.id}", headers=proved.headers).status_code == 200
    assert client.get("/admin/me", headers=proved.headers).get_json()["second_factor_verified"] is True
    # The claim survives a refresh: a shift does not end with the first access token.
    refreshed = client.post("/token/refresh", headers=proved.refresh_headers)
    assert refreshed.status_code == 200
    again = with_tokens(admin, refreshed.get_json())
    assert client.get(f"/admin/players/{target.id}", headers=again.headers).status_code == 200


def test_sign_in_with_a_real_code_refuses_reuse_and_stale_codes(client, app, admin, second_factor_required):
    _, totp, _ = enrol(client, admin)
    # A new login of the same operator: password first, then a code from the authenticator.
    login = client.post("/login", json={"username": admin.username, "password": admin.password}).get_json()
    fresh = with_tokens(admin, login)
    assert_error(client.get("/admin/dashboard", headers=fresh.headers), 403, "second_factor_required")
    # The code the enrolment used is refused again (within its step or the next one).
    assert_error(
        client.post("/admin/second-factor/verify", json={"code": admin.first_code}, headers=fresh.headers), 401, "code_reused"
    )
    stale = totp.at(time.time() - 5 * totp.interval)
    assert_error(client.post("/admin/second-factor/verify", json={"code": stale}, headers=fresh.headers), 401)
    assert_error(client.post("/admin/second-factor/verify", json={"code": "12345"}, headers=fresh.headers), 422)
    wait_for_next_step(totp)
    verified = client.post("/admin/second-factor/verify", json={"code": totp.now()}, headers=fresh.headers)
    assert verified.status_code == 200, verified.get_json()
    assert client.get("/admin/dashboard", headers=with_tokens(admin, verified.get_json()).headers).status_code == 200


def test_a_recovery_code_works_once_and_is_stored_hashed(client, app, admin, second_factor_required):
    _, _, codes = enrol(client, admin)
    with app.app_context():
        hashes = db.session.execute(select(OperatorRecoveryCode.code_hash)).scalars().all()
    assert len(hashes) == 10 and not set(codes) & set(hashes)
    login = with_tokens(admin, client.post("/login", json={"username": admin.username, "password": admin.password}).get_json())
    used = client.post("/admin/second-factor/verify", json={"recovery_code": codes[0]}, headers=login.headers)
    assert used.status_code == 200
    other = with_tokens(admin, client.post("/login", json={"username": admin.username, "password": admin.password}).get_json())
    assert_error(
        client.post("/admin/second-factor/verify", json={"recovery_code": codes[0]}, headers=other.headers), 401, "invalid_code"
    )


def test_enrolment_twice_is_refused_and_an_admin_resets_another_operators_factor(client, app, make_operator):
    risk = make_operator("risk")
    admin = make_operator("admin")
    proved, _, _ = enrol(client, risk)
    assert_error(client.post("/admin/second-factor/enrol", headers=proved.headers), 409, "already_enrolled")
    assert_error(
        client.post(f"/admin/players/{admin.id}/second-factor/reset", json={"reason": "lost phone"}, headers=proved.headers),
        403,
        "role_required",
    )
    reset = client.post(f"/admin/players/{risk.id}/second-factor/reset", json={"reason": "lost phone"}, headers=admin.headers)
    assert reset.status_code == 200
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(OperatorSecondFactor)).scalar_one() == 0
    assert audit_actions(app) == ["second_factor_enrol", "second_factor_reset"]


@pytest.mark.parametrize("body", [{}, {"code": 123456}, {"code": "123456", "recovery_code": "abcdefghij"}, {"code": "12345a"}])
def test_verify_refuses_bad_input(client, admin, body):
    assert client.post("/admin/second-factor/verify", json=body, headers=admin.headers).status_code == 422


def _stored_secret(app, operator):
    with app.app_context():
        return db.session.execute(
            select(OperatorSecondFactor.secret).where(OperatorSecondFactor.user_id == operator.id)
        ).scalar_one()


def _store_factor(app, operator, **values):
    with app.app_context():
        db.session.execute(update(OperatorSecondFactor).where(OperatorSecondFactor.user_id == operator.id).values(**values))
        db.session.commit()


def _verify_again(client, app, operator, totp):
    """Verify with the current code, the one enrolment used made good again (its step forgotten), not waited for."""
    _store_factor(app, operator, last_step=None)
    return client.post("/admin/second-factor/verify", json={"code": totp.now()}, headers=operator.headers)


def test_the_secret_is_stored_sealed_and_never_in_the_clear(client, app, admin, second_factor_required):
    proved, totp, _ = enrol(client, admin)
    stored = _stored_secret(app, admin)
    assert stored.startswith("fernet:") and totp.secret not in stored
    with app.app_context():
        assert Fernet(sealing.derived_key(app.config["SECRET_KEY"])).decrypt(stored[7:].encode()).decode() == totp.secret


def test_a_secret_stored_before_sealing_still_works_and_is_sealed_at_its_next_code(client, app, admin, second_factor_required):
    proved, totp, _ = enrol(client, admin)
    _store_factor(app, admin, secret=totp.secret)  # as a database from before sealing holds it
    assert _verify_again(client, app, admin, totp).status_code == 200
    assert _stored_secret(app, admin).startswith("fernet:")


def test_a_new_key_put_first_opens_old_secrets_and_reseals_them(client, app, admin, second_factor_required, monkeypatch):
    proved, totp, _ = enrol(client, admin)
    new_key = Fernet.generate_key()
    monkeypatch.setitem(app.config, "SECOND_FACTOR_KEYS", [new_key.decode()])
    sealing.init_app(app)
    assert _verify_again(client, app, admin, totp).status_code == 200
    assert Fernet(new_key).decrypt(_stored_secret(app, admin)[7:].encode()).decode() == totp.secret
    # The key derived from SECRET_KEY gone (SECRET_KEY changed): the secret sealed with the new one still opens.
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key-" + "x" * 30)
    sealing.init_app(app)
    assert _verify_again(client, app, admin, totp).status_code == 200


def test_a_secret_no_key_opens_is_a_clear_conflict_not_a_crash(client, app, admin, second_factor_required, monkeypatch):
    proved, totp, _ = enrol(client, admin)
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key-" + "x" * 30)
    sealing.init_app(app)
    assert_error(_verify_again(client, app, admin, totp), 409, "second_factor_unreadable")


def test_a_malformed_key_stops_the_start(make_app):
    with pytest.raises(RuntimeError, match="SECOND_FACTOR_KEYS must be Fernet keys"):
        make_app("testing", SECOND_FACTOR_KEYS=["not-a-key"])


def test_production_refuses_to_start_without_the_second_factor():
    secrets = {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    with pytest.raises(RuntimeError, match="OPERATOR_2FA_REQUIRED"):
        create_app("production", OPERATOR_2FA_REQUIRED=False, **secrets)


# --- four eyes -------------------------------------------------------------------------


@pytest.fixture
def threshold(app, monkeypatch):
    monkeypatch.setitem(app.config, "ADJUSTMENT_APPROVAL_THRESHOLD", 100)


def ledger_rows(app, user_id):
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.user_id == user_id)
        ).scalar_one()


def test_small_adjustments_apply_at_once_large_ones_wait_for_a_second_admin(
    client, app, admin, make_operator, make_player, threshold
):
    second = make_operator("admin")
    target = make_player(balance=0)
    assert adjust(client, admin, target.id, 100, "a1").status_code == 201
    pending = adjust(client, admin, target.id, 101, "a2")
    assert pending.status_code == 202
    pending_id = pending.get_json()["pending_id"]
    assert ledger_rows(app, target.id) == 3  # the bonus, its move to 0 and the first adjustment
    assert_error(
        client.post(f"/admin/adjustments/{pending_id}/approve", json={"reason": "me too"}, headers=admin.headers),
        403,
        "second_approver_required",
    )
    listed = client.get("/admin/adjustments?status=pending", headers=second.headers).get_json()["items"]
    assert [item["id"] for item in listed] == [pending_id]
    approved = client.post(f"/admin/adjustments/{pending_id}/approve", json={"reason": "checked"}, headers=second.headers)
    assert approved.status_code == 200 and approved.get_json()["balance"] == 201
    again = client.post(f"/admin/adjustments/{pending_id}/approve", json={"reason": "checked"}, headers=second.headers)
    assert_error(again, 409, "already_decided")
    assert ledger_rows(app, target.id) == 4
    assert audit_actions(app)[-3:] == ["balance_adjustment", "adjustment_request", "adjustment_approve"]
    assert_ledger_holds(app)


def test_an_adjustment_to_ones_own_account_always_waits(client, app, admin, make_operator):
    second = make_operator("admin")
    pending = adjust(client, admin, admin.id, 1, "own")
    assert pending.status_code == 202
    pending_id = pending.get_json()["pending_id"]
    rejected = client.post(f"/admin/adjustments/{pending_id}/reject", json={"reason": "not allowed"}, headers=second.headers)
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    assert_error(
        client.post(f"/admin/adjustments/{pending_id}/approve", json={"reason": "late"}, headers=second.headers),
        409,
        "already_decided",
    )
    assert audit_actions(app) == ["adjustment_request", "adjustment_reject"]


def test_the_ceiling_applies_at_approval_time(client, app, admin, make_operator, make_player, threshold, monkeypatch):
    second = make_operator("admin")
    target = make_player(balance=0)
    pending_id = adjust(client, admin, target.id, 500, "c1").get_json()["pending_id"]
    with app.app_context():
        wallet.credit(target.id, 200, type="adjustment")  # the player won meanwhile
    monkeypatch.setitem(app.config, "MAX_BALANCE", 600)
    refused = client.post(f"/admin/adjustments/{pending_id}/approve", json={"reason": "checked"}, headers=second.headers)
    assert_error(refused, 409, "balance_ceiling")
    with app.app_context():
        assert db.session.execute(select(PendingAdjustment.status)).scalar_one() == "pending"
    assert_ledger_holds(app)


def test_concurrent_approvals_write_the_ledger_once(app, admin, make_operator, make_player, threshold):
    approvers = [make_operator("admin") for _ in range(4)]
    target = make_player(balance=0)
    client = app.test_client()
    pending_id = adjust(client, admin, target.id, 1000, "race").get_json()["pending_id"]
    barrier = threading.Barrier(len(approvers))
    statuses = []

    def approve(approver):
        local = app.test_client()
        barrier.wait(timeout=60)
        statuses.append(
            local.post(f"/admin/adjustments/{pending_id}/approve", json={"reason": "race"}, headers=approver.headers).status_code
        )

    threads = [threading.Thread(target=approve, args=(approver,)) for approver in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert ledger_rows(app, target.id) == 3  # the bonus, its move to 0 and the approved adjustment
    assert_ledger_holds(app)


@pytest.mark.parametrize("body", [{}, {"reason": 5}, {"reason": "x"}, {"reason": "a" * 501}])
def test_decisions_refuse_bad_input(client, app, admin, make_operator, body):
    second = make_operator("admin")
    pending_id = adjust(client, admin, admin.id, 5, "bad").get_json()["pending_id"]
    assert client.post(f"/admin/adjustments/{pending_id}/approve", json=body, headers=second.headers).status_code == 422
    assert_error(
        client.post("/admin/adjustments/99999/approve", json={"reason": "who"}, headers=second.headers),
        404,
        "adjustment_not_found",
    )
    with app.app_context():
        assert db.session.execute(select(PendingAdjustment.status)).scalar_one() == "pending"


@pytest.mark.parametrize("query", ["status=open", "limit=0", "limit=101", "cursor=-1", "limit=1.5"])
def test_the_pending_list_refuses_bad_queries(client, admin, query):
    assert client.get(f"/admin/adjustments?{query}", headers=admin.headers).status_code == 422


# --- exclusion from rankings -----------------------------------------------------------


def test_exclusion_from_rankings_hides_the_player_from_leaderboards_until_included(
    client, app, make_operator, make_player, reels
):
    risk = make_operator("risk")
    cheat, honest = make_player(balance=100), make_player(balance=100)
    for who in (cheat, honest):
        assert client.post("/spin", json={"bet": 1}, headers={**who.headers, "Idempotency-Key": f"s{who.id}"}).status_code == 200

    def board():
        body = client.get("/leaderboard?metric=games_played&timeframe=daily", headers=honest.headers).get_json()
        return (
            [item["user_id"] for item in body["items"]] if "items" in body else [item["user_id"] for item in body["leaderboard"]]
        )

    assert set(board()) == {cheat.id, honest.id}
    excluded = client.post(f"/admin/players/{cheat.id}/rankings/exclude", json={"reason": "collusion"}, headers=risk.headers)
    assert excluded.status_code == 200 and excluded.get_json()["ranking_excluded"] is True
    with app.app_context():
        cache.clear()
    assert board() == [honest.id]
    assert_error(
        client.post(f"/admin/players/{cheat.id}/rankings/exclude", json={"reason": "again"}, headers=risk.headers),
        409,
        "nothing_to_change",
    )
    included = client.post(f"/admin/players/{cheat.id}/rankings/include", json={"reason": "cleared"}, headers=risk.headers)
    assert included.status_code == 200
    with app.app_context():
        cache.clear()
    assert set(board()) == {cheat.id, honest.id}
    assert audit_actions(app) == ["ranking_exclude", "ranking_include"]


def _games_played(client, app, who, limit=1):
    """Today's games-played board as `who` reads it (a page of (user_id, score)), and their rank on it."""
    with app.app_context():
        cache.clear()
    page = client.get(f"/leaderboard?metric=games_played&timeframe=daily&limit={limit}", headers=who.headers).get_json()
    standing = next(
        item
        for item in client.get("/leaderboard/me", headers=who.headers).get_json()
        if (item["metric"], item["timeframe"]) == ("games_played", "daily")
    )
    return [(item["user_id"], item["score"]) for item in page["items"]], standing["rank"]


def test_an_excluded_players_later_rounds_take_no_place_or_rank_on_the_boards(client, app, make_operator, make_player, reels):
    risk = make_operator("risk")
    cheat, honest = make_player(balance=100), make_player(balance=100)

    def spin(who, key):
        response = client.post("/spin", json={"bet": 1}, headers={**who.headers, "Idempotency-Key": key})
        assert response.status_code == 200, response.get_json()

    spin(cheat, "c0"), spin(honest, "h0")
    assert (
        client.post(f"/admin/players/{cheat.id}/rankings/exclude", json={"reason": "bots"}, headers=risk.headers).status_code
        == 200
    )
    for n in range(1, 4):  # played after the exclusion: 4 rounds against the honest player's 1
        spin(cheat, f"c{n}")
    assert _games_played(client, app, honest) == ([(honest.id, 1)], 1)
    assert _games_played(client, app, cheat, limit=2) == ([(honest.id, 1)], None)
    assert (
        client.post(f"/admin/players/{cheat.id}/rankings/include", json={"reason": "cleared"}, headers=risk.headers).status_code
        == 200
    )
    assert _games_played(client, app, honest, limit=2) == ([(cheat.id, 4), (honest.id, 1)], 2)
    spin(cheat, "c4")
    assert _games_played(client, app, cheat) == ([(cheat.id, 5)], 1)


@pytest.mark.redis
def test_after_redis_loses_its_index_a_rebuild_still_keeps_an_excluded_player_off(client, app, make_operator, make_player):
    from imperioApp.extensions import redis_store

    risk = make_operator("risk")
    cheat, honest = make_player(balance=100), make_player(balance=100)
    client.post("/spin", json={"bet": 1}, headers={**honest.headers, "Idempotency-Key": "h"})
    assert (
        client.post(f"/admin/players/{cheat.id}/rankings/exclude", json={"reason": "bots"}, headers=risk.headers).status_code
        == 200
    )
    with app.app_context():
        redis_store.client.flushdb()  # a restart without persistence: boards and the excluded set gone
    assert _games_played(client, app, honest) == ([(honest.id, 1)], 1)  # read from the rebuilt index
    for n in range(2):
        client.post("/spin", json={"bet": 1}, headers={**cheat.headers, "Idempotency-Key": f"c{n}"})
    assert _games_played(client, app, honest) == ([(honest.id, 1)], 1)


# --- dashboard, chat, audit export -----------------------------------------------------


def test_the_dashboard_counts_todays_play(client, app, make_operator, make_player):
    support = make_operator("support")
    gambler = make_player(balance=100)
    empty = client.get("/admin/dashboard", headers=support.headers).get_json()
    assert empty["today"]["rounds"] == 0 and empty["alerts"] == []
    for n in range(3):
        client.post("/spin", json={"bet": 2}, headers={**gambler.headers, "Idempotency-Key": f"d{n}"})
    body = client.get("/admin/dashboard", headers=support.headers).get_json()
    today = body["today"]
    assert today["rounds"] == 3 and today["wagered"] == 6
    assert today["gross_gaming_revenue"] == today["wagered"] - today["paid"]
    assert sum(point["rounds"] for point in body["rounds_per_minute"]) == 3
    assert body["active_players"] == 1
    assert {point["game_type"] for point in body["rtp_series"]} == {"slots"}
    assert set(body["published_rtp"]) == {"slots", "blackjack", "roulette"}


def test_the_dashboard_alerts_on_a_failed_ledger_check(client, app, make_operator, make_player):
    risk = make_operator("risk")
    victim = make_player()
    with app.app_context():
        db.session.execute(update(User).where(User.id == victim.id).values(balance=User.balance + 1))
        db.session.commit()
    assert client.post("/admin/ledger/check", headers=risk.headers).get_json()["ok"] is False
    alerts = client.get("/admin/dashboard", headers=risk.headers).get_json()["alerts"]
    assert [alert["kind"] for alert in alerts] == ["ledger_check_failed"]
    with app.app_context():
        db.session.execute(update(User).where(User.id == victim.id).values(balance=User.balance - 1))
        db.session.commit()


def test_the_chat_viewer_lists_messages_by_room_and_player(client, app, make_operator, make_player):
    support = make_operator("support")
    alice, bob = make_player(), make_player()
    with app.app_context():
        for who, room, text in [(alice, "lobby", "hi"), (bob, "slots", "spam spam"), (alice, "slots", "<b>x</b>")]:
            db.session.add(ChatMessage(room=room, user_id=who.id, message=text, created_at=utcnow()))
        db.session.commit()
    every = client.get("/admin/chat/messages", headers=support.headers).get_json()["items"]
    assert [item["message"] for item in every] == ["<b>x</b>", "spam spam", "hi"]
    slots = client.get("/admin/chat/messages?room=slots&limit=1", headers=support.headers).get_json()
    assert [item["username"] for item in slots["items"]] == [alice.username] and slots["next_cursor"]
    mine = client.get(f"/admin/chat/messages?user_id={bob.id}", headers=support.headers).get_json()["items"]
    assert [item["message"] for item in mine] == ["spam spam"]
    assert client.get("/admin/chat/messages?room=casino", headers=support.headers).status_code == 422


def test_the_audit_export_is_csv_with_the_filters(client, app, make_operator, make_player):
    admin = make_operator("admin")
    target = make_player()
    client.post(f"/admin/players/{target.id}/lock", json={"reason": "=HYPERLINK(1)"}, headers=admin.headers)
    client.post(f"/admin/players/{target.id}/unlock", json={"reason": "cleared"}, headers=admin.headers)
    response = client.get("/admin/audit/export?action=account_lock", headers=admin.headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["action"] for row in rows] == ["account_lock"]
    assert rows[0]["reason"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert client.get("/admin/audit/export?admin_id=abc", headers=admin.headers).status_code == 422


def test_a_player_excluded_from_rankings_takes_no_place_or_prize_in_a_tournament(app, client, admin, make_player, reels):
    from tests import tournaments

    tournament = tournaments.create(app, admin, join_required=False)
    cheat, honest = make_player(balance=100), make_player(balance=100)
    reels("two_bananas")
    tournaments.spin(client, cheat, 5)
    reels(None)
    tournaments.spin(client, honest, 5)
    excluded = client.post(f"/admin/players/{cheat.id}/rankings/exclude", json={"reason": "collusion"}, headers=admin.headers)
    assert excluded.status_code == 200
    board = client.get(f"/tournaments/{tournament['id']}/standings", headers=honest.headers).get_json()
    assert [item["username"] for item in board["items"]] == [honest.username]
    assert client.post(f"/admin/tournaments/{tournament['id']}/end", headers=admin.headers).get_json()["closed"]
    results = client.get(f"/tournaments/{tournament['id']}/results", headers=honest.headers).get_json()
    assert [(item["username"], item["rank"], item["prize"]) for item in results["items"]] == [
        (honest.username, 1, 100)
    ]  # the only ranked player takes the pool
    assert_ledger_holds(app)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/players/{id}/rankings/exclude",
        "/admin/players/{id}/rankings/include",
        "/admin/players/{id}/second-factor/reset",
        "/admin/players/{id}/role",
    ],
)
@pytest.mark.parametrize(
    "body",
    [None, {}, {"reason": 12345}, {"reason": "no"}, {"reason": "a" * 501}, {"reason": ["list"]}, {"reason": 1.5}],
)
def test_reasoned_actions_refuse_bad_input_and_write_nothing(client, app, admin, make_player, path, body):
    target = make_player()
    response = client.post(path.format(id=target.id), json=body, headers=admin.headers)
    assert 400 <= response.status_code < 500 and "error" in response.get_json()
    assert audit_actions(app) == []


@pytest.mark.parametrize(
    "path",
    ["/admin/players/{id}/rankings/exclude", "/admin/players/{id}/second-factor/reset", "/admin/players/{id}/role"],
)
@pytest.mark.parametrize("user_id", ["999999", "0", "-1", "9" * 25, "abc"])
def test_reasoned_actions_refuse_unknown_or_malformed_players(client, app, admin, path, user_id):
    body = {"reason": "checking", **({"role": "risk"} if path.endswith("/role") else {})}
    response = client.post(path.format(id=user_id), json=body, headers=admin.headers)
    assert response.status_code == 404
    assert audit_actions(app) == []


@pytest.mark.parametrize(
    "body", [{}, {"code": 123456}, {"code": "1234567"}, {"code": "12345x"}, {"code": None}, {"code": "123456", "extra": 1}]
)
def test_enrolment_confirmation_refuses_bad_input(client, app, admin, body):
    assert client.post("/admin/second-factor/enrol", headers=admin.headers).status_code == 200
    response = client.post("/admin/second-factor/enrol/confirm", json=body, headers=admin.headers)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.execute(select(OperatorSecondFactor.confirmed_at)).scalar_one() is None


def test_confirmation_needs_an_enrolment_and_a_malformed_body_is_a_400(client, admin):
    assert_error(
        client.post("/admin/second-factor/enrol/confirm", json={"code": "123456"}, headers=admin.headers), 409, "not_enrolling"
    )
    response = client.post(
        "/admin/second-factor/verify", data="{bad", headers={**admin.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["room=casino", "user_id=abc", "user_id=0", "limit=1000", "cursor=0", "limit=-5"])
def test_the_chat_viewer_refuses_bad_queries(client, admin, query):
    assert client.get(f"/admin/chat/messages?{query}", headers=admin.headers).status_code == 422


def test_the_dashboard_alerts_when_a_games_rtp_drifts_out_of_its_band(client, app, admin, make_player, reels, monkeypatch):
    monkeypatch.setitem(app.config, "ADMIN_RTP_ALERT_MIN_ROUNDS", 3)
    monkeypatch.setitem(app.config, "ADMIN_RTP_ALERT_BAND", 5.0)
    gambler = make_player(balance=100)
    reels(None)  # every spin loses: RTP 0 against 96 % published
    for n in range(2):
        client.post("/spin", json={"bet": 1}, headers={**gambler.headers, "Idempotency-Key": f"rtp{n}"})
    assert client.get("/admin/dashboard", headers=admin.headers).get_json()["alerts"] == []  # too few rounds yet
    client.post("/spin", json={"bet": 1}, headers={**gambler.headers, "Idempotency-Key": "rtp2"})
    alerts = client.get("/admin/dashboard", headers=admin.headers).get_json()["alerts"]
    assert [alert["kind"] for alert in alerts] == ["rtp_drift"] and "slots" in alerts[0]["message"]


def test_codes_are_rate_limited_per_operator(client, app, admin, second_factor_required, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_SECOND_FACTOR", "3 per minute")
    enrol(client, admin)
    login = with_tokens(admin, client.post("/login", json={"username": admin.username, "password": admin.password}).get_json())
    for _ in range(3):
        assert_error(client.post("/admin/second-factor/verify", json={"code": "000001"}, headers=login.headers), 401)
    assert client.post("/admin/second-factor/verify", json={"code": "000001"}, headers=login.headers).status_code == 429

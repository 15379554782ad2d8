"""Scheduled tournaments (cron, UTC): creation, the preview, each occurrence a period, and the edge cases
(a duration longer than the gap between occurrences, ending early, an end racing the next period)."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from imperioApp.extensions import db
from imperioApp.models import LedgerEntry, TournamentPeriod
from imperioApp.services.competitions import closing
from tests.concurrency import race
from tests.tournaments import join, move_clock, spin

from .helpers import assert_error, assert_ledger_holds

ISO = "%Y-%m-%dT%H:%M:%S+00:00"
MIDNIGHT = datetime(2030, 3, 4, tzinfo=timezone.utc)  # a Monday


def _body(**overrides):
    body = {
        "title": "Evening slots",
        "metric": "wagered",
        "starts_at": MIDNIGHT.strftime(ISO),
        "schedule": "0 20 * * *",
        "duration_seconds": 7200,
        "prize_pool": {"mode": "fixed", "amount": 100},
    }
    body.update(overrides)
    return body


def _periods(response):
    assert response.status_code == 200, response.get_json()
    return [(p["index"], p["starts_at"], p["ends_at"]) for p in response.get_json()["periods"]]


def _at(day, hour):
    return (MIDNIGHT + timedelta(days=day, hours=hour)).isoformat()


def test_the_preview_shows_the_next_five_periods_and_writes_nothing(client, make_admin, monkeypatch):
    admin = make_admin()
    move_clock(monkeypatch, MIDNIGHT - timedelta(days=1))
    response = client.post("/admin/tournaments/preview", json=_body(), headers=admin.headers)
    assert _periods(response) == [(n + 1, _at(n, 20), _at(n, 22)) for n in range(5)]
    weekly = client.post(
        "/admin/tournaments/preview", json=_body(schedule="30 18 * * FRI", repeat_count=2), headers=admin.headers
    )
    assert _periods(weekly) == [(1, _at(4, 18.5), _at(4, 20.5)), (2, _at(11, 18.5), _at(11, 20.5))]
    fixed = client.post(
        "/admin/tournaments/preview",
        json=_body(schedule=None, duration_seconds=600, repeat_every_seconds=3600, repeat_count=3),
        headers=admin.headers,
    )
    assert [p[1] for p in _periods(fixed)] == [_at(0, 0), _at(0, 1), _at(0, 2)]
    once = client.post("/admin/tournaments/preview", json=_body(schedule=None, duration_seconds=None), headers=admin.headers)
    assert _periods(once) == [(1, _at(0, 0), None)]
    assert client.get("/tournaments", headers=admin.headers).get_json()["items"] == []
    assert client.get("/admin/audit?action=tournament_create", headers=admin.headers).get_json()["items"] == []


def test_a_schedule_that_started_in_the_past_begins_with_the_period_still_running(client, make_admin, monkeypatch):
    admin = make_admin()
    move_clock(monkeypatch, MIDNIGHT + timedelta(days=2, hours=21))  # inside the third evening
    response = client.post("/admin/tournaments/preview", json=_body(), headers=admin.headers)
    assert _periods(response)[:2] == [(1, _at(2, 20), _at(2, 22)), (2, _at(3, 20), _at(3, 22))]


@pytest.mark.parametrize(
    "change, code",
    [
        # Nakama #319/#447/#1166: a period longer than the gap would still run when the next starts.
        ({"schedule": "0 20 * * *", "duration_seconds": 86_401}, "schedule_overlap"),
        ({"schedule": "0 8,20 * * *", "duration_seconds": 12 * 3600 + 60}, "schedule_overlap"),
        ({"schedule": "0 1,23 * * *", "duration_seconds": 3 * 3600}, "schedule_overlap"),  # 23:00 to 01:00
        ({"schedule": None, "repeat_every_seconds": 600, "duration_seconds": 601}, "schedule_overlap"),
        ({"schedule": "0 0 30 2 *"}, "invalid_schedule"),
        ({"schedule": "0 25 * * *"}, "invalid_schedule"),
        ({"schedule": "0 20 * * * *"}, None),
        ({"schedule": "every day"}, None),
        ({"schedule": 20}, None),
        ({"schedule": ["0", "20", "*", "*", "*"]}, None),
        ({"duration_seconds": None}, None),
        ({"duration_seconds": None, "ends_at": _at(0, 2)}, None),
        ({"duration_seconds": 7200.0}, None),
        ({"repeat_every_seconds": 86_400}, None),
    ],
)
def test_a_bad_schedule_is_refused_with_a_clear_422_and_writes_nothing(client, make_admin, change, code):
    admin = make_admin()
    for path in ("/admin/tournaments", "/admin/tournaments/preview"):
        response = client.post(path, json=_body(**change), headers=admin.headers)
        body = response.get_json()
        assert response.status_code == 422 and "error" in body, body
        if code:
            assert body["error"]["code"] == code, body
    assert client.get("/tournaments", headers=admin.headers).get_json()["items"] == []


def test_the_longest_duration_the_gap_allows_is_accepted(client, make_admin):
    admin = make_admin()
    created = client.post("/admin/tournaments", json=_body(duration_seconds=86_400), headers=admin.headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["schedule"] == "0 20 * * *"


def test_the_preview_refuses_what_create_refuses(client, make_admin, make_player):
    admin = make_admin()
    malformed = client.post("/admin/tournaments/preview", data="{", headers={**admin.headers, "Content-Type": "application/json"})
    assert_error(malformed, 400)
    body = _body()
    del body["title"]
    assert_error(client.post("/admin/tournaments/preview", json=body, headers=admin.headers), 422)
    assert_error(client.post("/admin/tournaments/preview", json=_body(unknown=1), headers=admin.headers), 422)
    assert_error(client.post("/admin/tournaments/preview", json=_body(repeat_count=-1), headers=admin.headers), 422)
    assert_error(client.post("/admin/tournaments/preview", json=_body(repeat_count=2**63), headers=admin.headers), 422)
    assert_error(client.post("/admin/tournaments/preview", json=_body(), headers=make_player().headers), 403)
    assert client.post("/admin/tournaments/preview", json=_body()).status_code == 401


def _create(client, admin, **overrides):
    response = client.post("/admin/tournaments", json=_body(**overrides), headers=admin.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _close_due(app):
    with app.app_context():
        return closing.close_due()


def test_each_occurrence_is_its_own_period_and_past_ones_stay_readable(app, client, make_admin, make_player, monkeypatch):
    admin, player = make_admin(), make_player(balance=1000)
    move_clock(monkeypatch, MIDNIGHT)
    tournament = _create(client, admin, repeat_count=3)
    assert tournament["period"]["starts_at"] == _at(0, 20)
    listed = client.get("/tournaments?status=upcoming", headers=player.headers).get_json()["items"]
    assert [(item["id"], item["schedule"]) for item in listed] == [(tournament["id"], "0 20 * * *")]
    for day in range(3):
        move_clock(monkeypatch, MIDNIGHT + timedelta(days=day, hours=20, minutes=30))
        assert join(client, player, tournament["id"]).status_code == 201
        # The rounds' settlement time is the real clock: put the period around it instead.
        with app.app_context():
            period = (
                db.session.execute(
                    select(TournamentPeriod)
                    .where(TournamentPeriod.tournament_id == tournament["id"])
                    .order_by(TournamentPeriod.number.desc())
                )
                .scalars()
                .first()
            )
            assert period.number == day + 1 and period.starts_at == MIDNIGHT + timedelta(days=day, hours=20)
            db.session.remove()
        move_clock(monkeypatch, MIDNIGHT + timedelta(days=day, hours=22, seconds=10))
        _close_due(app)
    for number in (1, 2, 3):
        results = client.get(f"/tournaments/{tournament['id']}/results?period={number}", headers=player.headers)
        assert results.status_code == 200 and results.get_json()["period"] == number
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(TournamentPeriod)).scalar_one() == 3  # repeat_count
        db.session.remove()
    detail = client.get(f"/tournaments/{tournament['id']}", headers=player.headers).get_json()
    assert detail["period"]["number"] == 3 and detail["period"]["phase"] == "closed" and detail["status"] == "finished"
    assert_ledger_holds(app)


def test_ending_early_closes_now_and_the_next_period_keeps_to_the_schedule(
    app, client, make_admin, make_player, reels, monkeypatch
):
    """Nakama #555 (end a tournament early) and #1166 (the reset must not move the schedule)."""
    admin, player = make_admin(), make_player(balance=1000)
    real_now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = real_now - timedelta(minutes=10)
    schedule = f"{start.minute} {start.hour} * * *"
    tournament = _create(client, admin, starts_at=start.strftime(ISO), schedule=schedule, duration_seconds=3600)
    assert tournament["period"]["starts_at"] == start.isoformat()
    assert join(client, player, tournament["id"]).status_code == 201
    reels(None)
    spin(client, player, 7)
    ended = client.post(f"/admin/tournaments/{tournament['id']}/end", headers=admin.headers)
    assert ended.status_code == 200 and ended.get_json()["closed"], ended.get_json()
    results = client.get(f"/tournaments/{tournament['id']}/results?period=1", headers=player.headers).get_json()
    assert [(item["score"], item["prize"]) for item in results["items"]] == [(7, 100)]
    current = client.get(f"/tournaments/{tournament['id']}", headers=player.headers).get_json()["period"]
    assert current["number"] == 2 and current["phase"] == "upcoming"
    assert current["starts_at"] == (start + timedelta(days=1)).isoformat()
    assert current["ends_at"] == (start + timedelta(days=1, hours=1)).isoformat()
    assert_ledger_holds(app)


def test_an_end_racing_the_scheduled_close_opens_exactly_one_next_period(app, client, make_admin, make_player, monkeypatch):
    """Nakama #729: the end callback racing the reset. Two closes on two threads: one period 2, one refund."""
    admin, player = make_admin(), make_player(balance=1000)
    move_clock(monkeypatch, MIDNIGHT + timedelta(hours=20, minutes=5))
    tournament = _create(client, admin, starts_at=(MIDNIGHT + timedelta(hours=19)).strftime(ISO), entry_fee=10)
    assert join(client, player, tournament["id"]).status_code == 201
    move_clock(monkeypatch, MIDNIGHT + timedelta(hours=22, minutes=1))
    outcomes = race(app, 2, closing.close_due)
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    with app.app_context():
        periods = db.session.execute(
            select(TournamentPeriod.number, TournamentPeriod.starts_at, TournamentPeriod.status)
            .where(TournamentPeriod.tournament_id == tournament["id"])
            .order_by(TournamentPeriod.number)
        ).all()
        refunds = db.session.execute(
            select(func.count(), func.sum(LedgerEntry.amount)).where(LedgerEntry.type == "tournament_refund")
        ).one()
        db.session.remove()
    assert [tuple(row) for row in periods] == [
        (1, MIDNIGHT + timedelta(hours=20), "closed"),
        (2, MIDNIGHT + timedelta(days=1, hours=20), "open"),
    ]
    assert tuple(refunds) == (1, 10)  # nobody played: the fee back, once
    assert_ledger_holds(app)


def test_a_close_running_late_skips_occurrences_already_over(app, client, make_admin, monkeypatch):
    admin = make_admin()
    move_clock(monkeypatch, MIDNIGHT)
    tournament = _create(client, admin)
    move_clock(monkeypatch, MIDNIGHT + timedelta(days=3, hours=21))  # close-due did not run for three days
    _close_due(app)
    current = client.get(f"/tournaments/{tournament['id']}", headers=admin.headers).get_json()["period"]
    assert (current["number"], current["starts_at"], current["phase"]) == (2, _at(3, 20), "running")


def test_a_scheduled_tournament_can_be_changed_before_it_starts(client, make_admin, monkeypatch):
    admin = make_admin()
    move_clock(monkeypatch, MIDNIGHT)
    tournament = _create(client, admin)
    changed = client.patch(f"/admin/tournaments/{tournament['id']}", json={"schedule": "0 18 * * *"}, headers=admin.headers)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["period"]["starts_at"] == _at(0, 18)
    too_long = client.patch(f"/admin/tournaments/{tournament['id']}", json={"duration_seconds": 90_000}, headers=admin.headers)
    assert_error(too_long, 422, "schedule_overlap")

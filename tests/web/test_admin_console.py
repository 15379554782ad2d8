"""The back office in Debian's chromium (Playwright), at desktop width: sign-in with the second
factor, the live dashboard, players, confirmations, a support operator refused, four eyes,
chat moderation, tournaments and the audit export; players are shown the door."""

import time
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import func, select

from imperioApp.extensions import db
from imperioApp.models import LedgerEntry, User
from tests.api.helpers import audit_actions, set_role, wait_for_next_step

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture skips, with the reason, without it
    expect = None

DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def open_console(browser, live_server):
    """open_console() -> a console page in a new browser context (another operator each time).

    Each page may ask only this server, and raise no script error or CSP violation.
    """
    contexts, requested, problems = [], [], []

    def factory():
        context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
        context.on("request", lambda request: requested.append(request.url))
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.on("console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None)
        page.set_default_timeout(30_000)
        page.goto(f"{live_server.url}/admin/console")
        page.wait_for_selector("body[data-ready='true']")
        return page

    try:
        yield factory
    finally:
        for context in contexts:
            context.close()
    assert not problems, problems
    assert {urlsplit(url).netloc for url in requested if not url.startswith(("blob:", "data:"))} == {
        f"127.0.0.1:{live_server.port}"
    }


@pytest.fixture
def console(open_console):
    return open_console()


def sign_in(page, who):
    page.fill("#sign-in-form input[name=username]", who.username)
    page.fill("#sign-in-form input[name=password]", who.password)
    page.click("#sign-in-form button[type=submit]")


def confirm(page, reason, **fields):
    """Read what the dialog says will happen, fill it in and confirm; return the text."""
    page.wait_for_selector("#confirm[open]")
    what = page.locator("#confirm-what").inner_text()
    for name, value in fields.items():
        field = page.locator(f"#confirm-fields [name={name}]")
        if field.evaluate("node => node.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(str(value))
    if reason is not None:
        page.fill("#confirm-form input[name=reason]", reason)
    page.click("#confirm-ok")
    page.wait_for_selector("#confirm:not([open])", state="attached")
    return what


def open_player(page, query, username):
    page.click("#nav button[data-view=players]")
    page.fill("#find-form input[name=q]", query)
    page.click("#find-form button")
    page.click(f"#players-table tbody tr >> text={username}")
    expect(page.locator("#player-title")).to_contain_text(username)


def test_an_operator_finds_a_player_corrects_the_balance_locks_and_audits(app, console, make_admin, make_player, client, reels):
    admin = make_admin(username="operator")
    player = make_player(username="gambler_ann")
    reels(None)
    client.post("/spin", json={"bet": 5}, headers=player.headers)
    page = console
    sign_in(page, admin)
    expect(page.locator("#who")).to_have_text("signed in as operator · admin")
    expect(page.locator("#kpi-rounds")).to_have_text("1")

    open_player(page, "ANN", "gambler_ann")
    page.click(".tabs button[data-tab=ledger]")
    expect(page.locator("#tab-ledger tbody tr")).to_have_count(2)  # the bonus and the losing bet
    page.click(".tabs button[data-tab=rounds]")
    page.click("#tab-rounds tbody tr")
    expect(page.locator("#round-detail")).to_contain_text('"server_seed_hash"')
    page.click(".tabs button[data-tab=sessions]")
    expect(page.locator("#tab-sessions tbody tr")).to_contain_text(player.session_id)

    page.click("[data-act=adjust]")
    what = confirm(page, "goodwill <script>alert(1)</script>", amount=100)
    assert "gambler_ann" in what and "through the ledger" in what
    expect(page.locator("#status")).to_contain_text("adjusted by 100")

    # Cancelling a confirmation does nothing.
    page.click("[data-act=lock]")
    page.wait_for_selector("#confirm[open]")
    expect(page.locator("#confirm-what")).to_contain_text("every session ends now")
    page.click("#confirm-cancel")
    expect(page.locator("#status")).to_have_text("cancelled")
    assert audit_actions(app) == ["balance_adjustment"]

    page.click("[data-act=lock]")
    confirm(page, "fraud check")
    expect(page.locator("#player-badges")).to_contain_text("locked")

    page.click("#nav button[data-view=dashboard]")
    page.click("#ledger-check")
    expect(page.locator("#ledger-result")).to_contain_text("balances match their ledgers")

    page.click("#nav button[data-view=audit]")
    rows = page.locator("#audit-table tbody tr")
    expect(rows).to_have_count(3)
    # The reason is shown as typed: text, never markup.
    expect(rows.nth(2)).to_contain_text("goodwill <script>alert(1)</script>")
    page.fill("#audit-filter input[name=action]", "account_lock")
    page.click("#audit-filter button[type=submit]")
    expect(rows).to_have_count(1)
    with page.expect_download() as download:
        page.click("#audit-export")
    exported = open(download.value.path(), encoding="utf-8").read()
    assert exported.splitlines()[0].startswith("id,created_at") and "account_lock" in exported and "ledger_check" not in exported

    with app.app_context():
        suspended = db.session.execute(select(User.suspended_at).where(User.id == player.id)).scalar_one()
        db.session.remove()
    assert audit_actions(app) == ["balance_adjustment", "account_lock", "ledger_check"] and suspended is not None


def test_a_player_signing_in_is_refused_the_console(console, player):
    sign_in(console, player)
    expect(console.locator("#status")).to_contain_text("admin_required")
    expect(console.locator("#console")).to_be_hidden()


def test_operators_enrol_a_second_factor_and_sign_in_with_it(app, open_console, make_admin, monkeypatch, screenshot):
    monkeypatch.setitem(app.config, "OPERATOR_2FA_REQUIRED", True)
    admin = make_admin(username="nightshift")
    page = open_console()
    sign_in(page, admin)
    expect(page.locator("#enrol")).to_be_visible()
    screenshot(page, "back-office-enrol")
    assert page.locator("#enrol-qr img").get_attribute("src").startswith("data:image/svg+xml")
    # The QR code is drawn: the browser decoded the SVG into an image of its size.
    expect(page.locator("#enrol-qr img")).to_have_js_property("complete", True)
    assert page.locator("#enrol-qr img").evaluate("image => image.naturalWidth") > 100
    totp = pyotp.TOTP(page.locator("#enrol-secret").inner_text())
    page.fill("#enrol-form input[name=code]", totp.now())
    page.click("#enrol-form button")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("#recovery-done")
    expect(page.locator("#who")).to_have_text("signed in as nightshift · admin")
    expect(page.locator("#recovery-codes li")).to_have_count(0)  # shown once

    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    sign_in(page, admin)
    expect(page.locator("#verify")).to_be_visible()
    expect(page.locator("#console")).to_be_hidden()
    page.fill("#verify-form input[name=code]", "000000" if totp.now() != "000000" else "111111")
    page.click("#verify-form button")
    expect(page.locator("#status")).to_contain_text("invalid_code")
    wait_for_next_step(totp)
    page.fill("#verify-form input[name=code]", totp.now())
    page.click("#verify-form button")
    expect(page.locator("#who")).to_have_text("signed in as nightshift · admin")
    expect(page.locator("#kpi-rounds")).to_have_text("0")


def test_a_support_operator_is_refused_a_lock_and_nothing_is_written(app, console, make_admin, make_player, screenshot):
    support = make_admin(username="helpdesk")
    set_role(app, support.id, "support")
    make_player(username="victim_vic")
    page = console
    sign_in(page, support)
    expect(page.locator("#who")).to_have_text("signed in as helpdesk · support")
    expect(page.locator("#nav button[data-view=approvals]")).to_be_hidden()
    open_player(page, "vic", "victim_vic")
    page.click("[data-act=lock]")
    what = confirm(page, "looks odd")
    assert "needs the role risk" in what
    expect(page.locator("#status")).to_contain_text("role_required")
    screenshot(page, "back-office-refused")
    assert audit_actions(app) == []
    # What support may do, it does.
    page.click("[data-act='sessions/end']")
    confirm(page, "player asked")
    expect(page.locator("#status")).to_contain_text("End sessions: done")
    assert audit_actions(app) == ["sessions_end"]


def test_an_adjustment_waits_for_a_second_admin_who_approves_it(app, open_console, make_admin, make_player, monkeypatch):
    monkeypatch.setitem(app.config, "ADJUSTMENT_APPROVAL_THRESHOLD", 500)
    first, second = make_admin(username="cashier_one"), make_admin(username="cashier_two")
    player = make_player(username="whale_wendy", balance=0)
    page = open_console()
    sign_in(page, first)
    open_player(page, "wendy", "whale_wendy")
    page.click("[data-act=adjust]")
    what = confirm(page, "tournament prize by hand", amount=5000)
    assert "second admin" in what
    expect(page.locator("#status")).to_contain_text("waiting for a second admin")

    other = open_console()
    sign_in(other, second)
    other.click("#nav button[data-view=approvals]")
    row = other.locator("#approvals-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("cashier_one")
    row.locator("button >> text=Approve").click()
    what = confirm(other, "checked the prize list")
    assert "5000 coins" in what and "whale_wendy" in what
    expect(other.locator("#status")).to_contain_text("approved: balance 5000")
    with app.app_context():
        assert db.session.get(User, player.id).balance == 5000
        rows = db.session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.user_id == player.id)
        ).scalar_one()
        db.session.remove()
    assert rows == 3  # the bonus, its move to 0, the approved adjustment
    assert audit_actions(app) == ["adjustment_request", "adjustment_approve"]


def test_the_dashboard_updates_while_another_player_plays(app, console, make_admin, make_player, client, screenshot):
    admin = make_admin(username="floor_manager")
    gambler = make_player(username="busy_bee", balance=500)
    page = console
    sign_in(page, admin)
    expect(page.locator("#kpi-rounds")).to_have_text("0")
    for n in range(3):
        assert (
            client.post("/spin", json={"bet": 2}, headers={**gambler.headers, "Idempotency-Key": f"dash{n}"}).status_code == 200
        )
    # The page polls on its own: no reload, no click.
    expect(page.locator("#kpi-rounds")).to_have_text("3", timeout=60_000)
    expect(page.locator("#kpi-wagered")).to_have_text("6")
    expect(page.locator("#kpi-active")).to_have_text("1")
    assert page.locator("#chart-rpm svg").get_attribute("data-total") == "3"
    expect(page.locator("#chart-rtp path[data-game=slots]")).to_have_count(1)
    expect(page.locator("#rtp-table tbody tr")).to_have_count(3)
    screenshot(page, "back-office-dashboard")


def test_chat_messages_are_moderated_from_the_message(app, console, make_admin, make_player):
    from imperioApp.models import ChatMessage
    from imperioApp.models.base import utcnow

    admin = make_admin(username="chat_mod")
    spammer = make_player(username="spammy")
    with app.app_context():
        db.session.add(
            ChatMessage(room="lobby", user_id=spammer.id, message="<img src=x onerror=alert(1)> buy coins", created_at=utcnow())
        )
        db.session.commit()
        db.session.remove()
    page = console
    sign_in(page, admin)
    page.click("#nav button[data-view=chat]")
    row = page.locator("#chat-table tbody tr")
    expect(row).to_contain_text("<img src=x onerror=alert(1)> buy coins")
    row.locator("button >> text=Mute").click()
    what = confirm(page, "spam", minutes=30)
    assert "spammy" in what and "buy coins" in what
    expect(page.locator("#status")).to_contain_text("Mute in chat spammy: done")
    assert audit_actions(app) == ["chat_mute"]


def test_tournaments_are_created_checked_and_ended_from_the_console(app, console, make_admin):
    admin = make_admin(username="tourney_ops")
    page = console
    sign_in(page, admin)
    page.click("#nav button[data-view=tournaments]")
    form = page.locator("#tournament-form")
    form.locator("input[name=title]").fill("Friday sprint")
    form.locator("input[name=starts_at]").fill(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 120)))
    form.locator("input[name=duration_minutes]").fill("60")
    form.locator("button[type=submit]").click()
    what = confirm(page, None)  # a tournament's routes keep no reason: none is asked
    assert "Friday sprint" in what
    row = page.locator("#tournaments-table tbody tr")
    expect(row).to_contain_text("Friday sprint")
    row.locator("button >> text=Check").click()
    expect(page.locator("#tournament-check")).to_contain_text("standings match the rounds")
    row.locator("button >> text=End now").click()
    confirm(page, None)
    expect(page.locator("#status")).to_contain_text("End tournament period: done")
    assert audit_actions(app) == ["tournament_create", "tournament_end"]

    # Before a tournament starts, its rounds can be changed.
    from datetime import timedelta

    from tests import tournaments

    upcoming = tournaments.create(
        app,
        admin,
        title="Next week",
        starts_at=tournaments.now() + timedelta(days=7),
        ends_at=tournaments.now() + timedelta(days=8),
    )
    page.click("#nav button[data-view=dashboard]")
    page.click("#nav button[data-view=tournaments]")
    row = page.locator("#tournaments-table tbody tr", has_text="Next week")
    row.locator("button >> text=Rounds").click()
    confirm(page, None, max_rounds=10, min_rounds=3)
    expect(page.locator("#status")).to_contain_text("rounds of Next week changed")
    with app.app_context():
        from imperioApp.services.competitions import tournaments as engine

        changed = engine.detail(upcoming["id"])
        db.session.remove()
    assert (changed["min_rounds"], changed["max_rounds"]) == (3, 10)


def test_the_create_page_previews_the_next_periods(app, console, make_admin):
    """Needs POST /admin/tournaments/preview (the schedules' endpoint, built alongside)."""
    if not any(rule.rule == "/admin/tournaments/preview" for rule in app.url_map.iter_rules()):
        pytest.skip("POST /admin/tournaments/preview is not on this branch yet")
    admin = make_admin(username="planner")
    page = console
    sign_in(page, admin)
    page.click("#nav button[data-view=tournaments]")
    form = page.locator("#tournament-form")
    form.locator("input[name=title]").fill("Hourly dash")
    form.locator("input[name=starts_at]").fill(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 3600)))
    form.locator("input[name=duration_minutes]").fill("30")
    form.locator("input[name=repeat_minutes]").fill("60")
    expect(page.locator("#tournament-preview li")).to_have_count(5)
    expect(page.locator("#tournament-preview li").first).to_contain_text("period")


def test_the_console_page_and_its_files_come_from_this_server_with_a_strict_csp(client):
    page = client.get("/admin/console")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "<script>" not in html
    for asset in ("admin.js", "admin.css", "charts.js"):
        assert client.get(f"/admin/console/assets/{asset}").status_code == 200


def test_an_expired_access_token_is_refreshed_without_signing_the_operator_out(app, console, make_admin, monkeypatch):
    from datetime import timedelta

    monkeypatch.setitem(app.config, "JWT_ACCESS_TOKEN_EXPIRES", timedelta(seconds=2))
    admin = make_admin(username="long_shift")
    page = console
    sign_in(page, admin)
    expect(page.locator("#who")).to_have_text("signed in as long_shift · admin")
    first = page.evaluate("sessionStorage.getItem('imperio.admin.token')")
    # Past the token's life (it lasts 2 s): the next request refreshes it and goes on.
    page.wait_for_timeout(3_000)
    page.click("#nav button[data-view=players]")
    page.click("#find-form button")
    expect(page.locator("#players-table tbody tr")).to_have_count(1)
    assert page.evaluate("sessionStorage.getItem('imperio.admin.token')") != first
    expect(page.locator("#console")).to_be_visible()


def test_player_search_pages_past_the_first_page(app, console, make_admin, make_player):
    admin = make_admin(username="pager_op")
    for n in range(25):
        make_player(username=f"crowd_{n:02d}")
    page = console
    sign_in(page, admin)
    page.click("#nav button[data-view=players]")
    page.fill("#find-form input[name=q]", "crowd_")
    page.click("#find-form button")
    rows = page.locator("#players-table tbody tr")
    expect(rows).to_have_count(20)
    page.click("#players-more")
    expect(rows).to_have_count(25)
    expect(page.locator("#players-more")).to_be_hidden()
    expect(rows.nth(24)).to_contain_text("crowd_00")

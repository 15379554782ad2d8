"""The admin console in Debian's chromium (Playwright): sign in, find a player, adjust, lock,
watch RTP, check the ledger, read the audit; players are shown the door."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from imperioApp.extensions import db
from imperioApp.models import AdminAudit, User

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture skips, with the reason, without it
    expect = None


@pytest.fixture
def console(browser, live_server):
    """A console page on the live server; it may ask only that host, and raise no script error or CSP violation."""
    context = browser.new_context()
    requested, problems = [], []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None)
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{live_server.url}/admin/console")
        yield page
    finally:
        context.close()
    assert not problems, problems
    assert {urlsplit(url).netloc for url in requested} == {f"127.0.0.1:{live_server.port}"}


def sign_in(page, who):
    page.fill("#sign-in-form input[name=username]", who.username)
    page.fill("#sign-in-form input[name=password]", who.password)
    page.click("#sign-in-form button[type=submit]")


def test_an_operator_finds_a_player_corrects_the_balance_locks_and_audits(app, console, make_admin, make_player, client, reels):
    admin = make_admin(username="operator")
    player = make_player(username="gambler_ann")
    reels(None)
    client.post("/spin", json={"bet": 5}, headers=player.headers)
    page = console
    sign_in(page, admin)
    expect(page.locator("#who")).to_have_text("signed in as operator")

    page.fill("#find-form input[name=q]", "ANN")
    page.click("#find-form button")
    page.click("#players-table tbody tr >> text=gambler_ann")
    expect(page.locator("#player-title")).to_have_text(f"#{player.id} gambler_ann")
    expect(page.locator("#tab-ledger tbody tr")).to_have_count(2)  # the bonus and the losing bet
    page.click(".tabs button[data-tab=rounds]")
    page.click("#tab-rounds tbody tr")
    expect(page.locator("#round-detail")).to_contain_text('"server_seed_hash"')
    page.click(".tabs button[data-tab=sessions]")
    expect(page.locator("#tab-sessions tbody tr")).to_have_count(1)
    expect(page.locator("#tab-sessions tbody tr")).to_contain_text(player.session_id)

    page.fill("#adjust-form input[name=amount]", "100")
    page.fill("#adjust-form input[name=reason]", "goodwill <script>alert(1)</script>")
    page.click("#adjust-form button")
    expect(page.locator("#status")).to_contain_text("adjusted by 100")
    page.fill("#account-form input[name=reason]", "fraud check")
    page.click("#account-form button[data-action=lock]")
    expect(page.locator("dd[data-fact='suspended since']")).not_to_have_text("")

    page.click("nav button[data-view=integrity]")
    expect(page.locator("#rtp-table tbody tr")).to_have_count(3)
    page.click("#ledger-check")
    expect(page.locator("#ledger-result")).to_contain_text("balances match their ledgers")

    page.click("nav button[data-view=audit]")
    rows = page.locator("#audit-table tbody tr")
    expect(rows).to_have_count(3)
    # The reason is shown as typed: text, never markup.
    expect(rows.nth(2)).to_contain_text("goodwill <script>alert(1)</script>")

    with app.app_context():
        actions = db.session.execute(select(AdminAudit.action).order_by(AdminAudit.id)).scalars().all()
        suspended = db.session.execute(select(User.suspended_at).where(User.id == player.id)).scalar_one()
        db.session.remove()
    assert actions == ["balance_adjustment", "account_lock", "ledger_check"] and suspended is not None


def test_a_player_signing_in_is_refused_the_console(console, player):
    sign_in(console, player)
    expect(console.locator("#status")).to_contain_text("admin_required")
    expect(console.locator("#console")).to_be_hidden()


def test_the_console_page_and_its_files_come_from_this_server_with_a_strict_csp(client):
    page = client.get("/admin/console")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "<script>" not in html
    for asset in ("admin.js", "admin.css"):
        assert client.get(f"/admin/console/assets/{asset}").status_code == 200

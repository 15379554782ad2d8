"""The lobby as a new player meets it, at desktop (1280×800) and phone (390×844) width.

Every step is a click or a key press in the page; the server is asked only to check what the
page did. Each test also runs the axe-core accessibility scan (the copy in static/vendor)
and measures every visible tap target.
"""

import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from imperioApp.services.protection import periods

from .test_lobby import PASSWORD, page_balance, wallet

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
AXE = "/assets/vendor/axe-core-4.14.1/axe.min.js"


@pytest.fixture(params=sorted(SIZES))
def size(request):
    return request.param


@pytest.fixture
def player_page(open_page, size):
    """open_page at this test's width."""
    width, height = SIZES[size]
    return lambda: open_page(width=width, height=height)


@pytest.fixture
def clock(monkeypatch):
    """The protection clock, movable forward: clock.advance(minutes=11)."""

    class Clock:
        offset = timedelta()

        def advance(self, **delta):
            self.offset += timedelta(**delta)

    fake = Clock()
    monkeypatch.setattr(periods, "clock", lambda: datetime.now(timezone.utc) + fake.offset)
    return fake


def small_targets(page):
    """Visible buttons, links, fields and tabs smaller than 44 × 44 CSS px (checkboxes: their label)."""
    return page.evaluate("""() => [...document.querySelectorAll('button, a[href], input, select, summary, [role=tab]')]
        .map(n => (n.type === 'checkbox' || n.type === 'radio') ? (n.closest('label') || n) : n)
        .filter(n => { const r = n.getBoundingClientRect(); const s = getComputedStyle(n);
                       return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && r.right > 0 && r.left < innerWidth; })
        .filter(n => { const r = n.getBoundingClientRect(); return r.width < 43.5 || r.height < 43.5; })
        .map(n => { const r = n.getBoundingClientRect(); return `${n.tagName}#${n.id}.${n.className} "${n.textContent.trim().slice(0, 20)}" ${Math.round(r.width)}x${Math.round(r.height)}`; })""")


def accessibility_problems(page, live_server):
    """Serious or critical axe-core violations on the page as it stands."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(url=live_server.url + AXE)
    return page.evaluate("""async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)""")


def check_page(page, live_server, where):
    assert small_targets(page) == [], where
    assert accessibility_problems(page, live_server) == [], where


def in_view(page, selector):
    """The element is wholly inside the viewport (and not under the phone's action bar when it is a result)."""
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= height + 1


def type_sign_up(page, name):
    """Sign up with the keyboard: type each field, Tab between them, Enter to submit."""
    page.locator("#signup-form").get_by_label("Username").click()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(f"{name}@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#connection.live", timeout=30_000)
    return page.evaluate("JSON.parse(sessionStorage.getItem('imperio.tokens')).access_token")


def wait_for_count(page, selector, count, timeout=30_000):
    """Wait until `selector` matches exactly `count` elements: a list is drawn when its request returns."""
    page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length === count", arg=[selector, count], timeout=timeout
    )


def tab(page, name):
    page.get_by_role("tab", name=name).click()


def test_the_landing_screen_shows_the_games_and_live_big_wins(
    player_page, live_server, app, monkeypatch, reels, size, screenshot
):
    page = player_page()
    cards = page.locator(".showcase .game-card")
    assert cards.count() == 3
    assert [c.inner_text().split("\n")[0] for c in cards.all()] == ["Cherry Charm", "Blackjack", "Roulette"]
    assert page.locator(".showcase img").evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("#ticker").is_visible() and page.locator("#connection").is_hidden()  # no "offline" pill
    check_page(page, live_server, "landing")
    screenshot(page, f"{size}-landing")
    # A big win reaches a visitor who has not signed in yet.
    monkeypatch.setitem(app.config, "BIG_WIN_THRESHOLD", 100)
    winner = player_page()
    type_sign_up(winner, f"landwin{size}")
    reels("three_cherries")
    winner.locator("#slots-bet").fill("2")
    winner.locator("#spin").click()
    page.wait_for_selector(f'#ticker-items li[data-username="landwin{size}"]', timeout=30_000)
    assert page.locator("#toasts .toast").count() == 0  # the ticker shows it; no promotion over the forms


def test_sign_up_errors_sit_beside_their_fields_once(player_page, live_server, size, screenshot):
    page = player_page()
    form = page.locator("#signup-form")
    form.get_by_label("Username").fill("x")
    form.get_by_label("Email").fill("not-an-email")
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Create account").click()
    assert "3–32" in page.locator("#username-error").inner_text()
    assert "email address" in page.locator("#email-error").inner_text()
    assert "8 characters" in page.locator("#password-error").inner_text()
    assert form.get_by_label("Username").get_attribute("aria-invalid") == "true"
    screenshot(page, f"{size}-signup-errors")
    # A taken name: one line, beside the username, without the server's raw words after it.
    requests.post(
        live_server.url + "/signup",
        json={"username": f"taken{size}", "email": f"t{size}@example.com", "password": PASSWORD},
        timeout=10,
    )
    form.get_by_label("Username").fill(f"taken{size}")
    form.get_by_label("Email").fill(f"other{size}@example.com")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    page.wait_for_function(
        "() => document.querySelector('#username-error').textContent.length > 0"
        " || document.querySelector('#signup-form .form-error').textContent.length > 0"
    )
    text = page.locator("#username-error").inner_text() or page.locator("#signup-form .form-error").inner_text()
    assert text == "That username is taken: choose another.", text
    assert page.locator("#email-error").inner_text() == "" and page.locator("#password-error").inner_text() == ""


def test_a_new_player_plays_each_game_with_the_action_button_in_view(player_page, live_server, size, pocket, screenshot):
    page = player_page()
    token = type_sign_up(page, f"newbie{size}")
    check_page(page, live_server, "slots")
    # Cherry Charm: Spin is on screen without scrolling; the reels and result are too afterwards.
    assert in_view(page, "#spin")
    page.locator("#spin").click()
    page.wait_for_function("() => document.querySelector('#slots-result').dataset.roundId")
    assert in_view(page, "#reels") and in_view(page, "#spin")
    screenshot(page, f"{size}-slots")

    tab(page, "Blackjack")
    assert in_view(page, "#bj-deal")
    page.locator("#bj-deal").click()
    page.wait_for_function("() => document.querySelector('#bj-result').dataset.roundId")
    wait_for_count(page, "#player-cards .card.dealt", 2)  # the cards slid in
    if page.locator("#pane-blackjack").get_attribute("data-state") != "over":
        assert in_view(page, "#bj-stand") and in_view(page, "#bj-hit")
        page.locator("#bj-stand").click()
        page.wait_for_selector("#pane-blackjack[data-state='over']")
    assert in_view(page, "#bj-deal") and in_view(page, "#bj-result")
    check_page(page, live_server, "blackjack")
    screenshot(page, f"{size}-blackjack")

    tab(page, "Roulette")
    pocket(7)
    page.locator("#layout .outside", has_text="Red").click()
    page.locator("#layout [data-number='7']").click()
    assert in_view(page, "#roulette-spin")  # the sticky action bar on a phone
    page.locator("#roulette-spin").click()
    page.wait_for_function("() => document.querySelector('#roulette-result').dataset.roundId")
    assert page.locator("#winning-number").inner_text() == "7"
    assert in_view(page, "#wheel") and in_view(page, "#roulette-result")
    check_page(page, live_server, "roulette")
    screenshot(page, f"{size}-roulette")
    assert page_balance(page) == wallet(live_server, token)
    assert page.locator("#roulette-result").inner_text().count("—") == 0


def test_a_player_finds_and_joins_a_public_table(player_page, live_server, app, monkeypatch, size, pocket, screenshot):
    monkeypatch.setitem(app.config, "TABLE_BETTING_SECONDS", 4.0)
    host = player_page()
    host_token = type_sign_up(host, f"host{size}")
    guest = player_page()
    guest_token = type_sign_up(guest, f"guest{size}")
    tab(guest, "Tables")
    guest.wait_for_selector("#table-list li.empty")
    tab(host, "Tables")
    host.get_by_role("button", name="Open a table").click()
    host.wait_for_selector("#room:not([hidden])")
    # The list updates live: the guest sees the table and who sits there.
    row = guest.locator(f"#table-list li:has-text('host{size}')")
    row.wait_for(timeout=30_000)
    assert "1 of 4 seats" in row.inner_text()
    check_page(guest, live_server, "table list")
    screenshot(guest, f"{size}-table-list")
    row.get_by_role("button").click()
    guest.wait_for_selector("#room:not([hidden])")
    host.wait_for_selector(f"#room-players:has-text('guest{size}')", timeout=30_000)
    pocket(0)
    for page, bet in ((host, "Red"), (guest, "Black")):
        page.locator("#table-board-slot #layout .outside", has_text=bet).click()
    host.get_by_role("button", name="Bet on this spin").click()
    guest.wait_for_selector("#room-countdown:has-text('Betting closes')", timeout=30_000)
    assert in_view(guest, "#room-bet")
    guest.get_by_role("button", name="Bet on this spin").click()
    for page in (host, guest):
        page.wait_for_selector("#table-results li", timeout=30_000)
        page.wait_for_function("() => document.querySelector('#table-result').dataset.roundId", timeout=30_000)
        assert page.locator("#table-number").inner_text() == "0"
        results = page.locator("#table-results").inner_text()
        assert f"host{size}" in results and f"guest{size}" in results and "won 0" in results
        assert in_view(page, "#table-wheel")
    check_page(host, live_server, "table")
    screenshot(host, f"{size}-table")
    assert page_balance(host) == wallet(live_server, host_token)
    assert page_balance(guest) == wallet(live_server, guest_token)


def test_limits_a_reality_check_and_a_time_out_in_the_page(player_page, live_server, size, clock, screenshot):
    page = player_page()
    type_sign_up(page, f"careful{size}")
    tab(page, "My protection")
    form = page.locator("#limit-form")
    form.locator("select[name='kind']").select_option("loss")
    form.locator("select[name='period']").select_option("day")
    form.get_by_label("Coins").fill("50")
    form.get_by_role("button", name="Set limit").click()
    row = page.locator("#limit-rows tr[data-kind='loss'][data-period='day']")
    row.locator(".amount:has-text('50')").wait_for()
    # A raise waits a day: the page counts down to it, in local time.
    form.get_by_label("Coins").fill("80")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Set limit").click()
    row.locator(".pending:has-text('80 in 2')").wait_for()
    assert "T" not in row.locator(".pending").inner_text().split("(")[1]  # no raw ISO timestamp
    wait_for_count(page, "#limit-history li", 2)
    page.locator("#reality-form select").select_option("10")
    page.locator("#reality-form").get_by_role("button", name="Save").click()
    page.wait_for_selector(".toast:has-text('every 10 minutes')")
    check_page(page, live_server, "protection")
    screenshot(page, f"{size}-protection")

    tab(page, "Cherry Charm")
    page.locator("#spin").click()
    page.wait_for_function("() => document.querySelector('#slots-result').dataset.roundId")
    clock.advance(minutes=11)
    previous = page.locator("#slots-result").get_attribute("data-round-id")
    page.locator("#spin").click()
    page.wait_for_selector("#reality-dialog[open]", timeout=30_000)
    assert previous != page.locator("#slots-result").get_attribute("data-round-id")
    assert "11 min" in page.locator("#reality-elapsed").inner_text()
    check_page(page, live_server, "reality check")
    screenshot(page, f"{size}-reality-check")
    page.get_by_role("button", name="Continue playing").click()
    page.wait_for_selector("#reality-dialog:not([open])", state="attached")

    tab(page, "My protection")
    page.locator("#timeout-form select").select_option("24")
    page.locator("#timeout-form").get_by_role("button", name="Take a time-out").click()
    page.wait_for_selector("#break-dialog[open]")
    assert "cannot be undone" in page.locator("#break-warning").inner_text()
    screenshot(page, f"{size}-timeout-confirm")
    page.get_by_role("button", name="Start my break").click()
    page.wait_for_selector("#auth:not([hidden])")
    notice = page.locator("#auth-notice").inner_text()
    assert "break has started" in notice and "token" not in notice.lower() and ":00.000" not in notice
    # Logging in again: a banner, the games closed, no promotion.
    login = page.locator("#login-form")
    login.get_by_label("Username or email").fill(f"careful{size}")
    login.get_by_label("Password").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#exclusion-banner:not([hidden])")
    assert "taking a break until" in page.locator("#exclusion-banner").inner_text()
    assert page.locator("#spin").is_disabled() and page.locator("#ticker").is_hidden()
    check_page(page, live_server, "on a break")
    screenshot(page, f"{size}-on-a-break")


def test_self_exclusion_needs_the_password(player_page, live_server, size):
    page = player_page()
    type_sign_up(page, f"excluder{size}")
    tab(page, "My protection")
    page.locator("#exclude-form select").select_option("6")
    page.locator("#exclude-form").get_by_role("button", name="Exclude myself").click()
    page.wait_for_selector("#break-dialog[open]")
    page.get_by_label("Your password").fill("not-the-password")
    page.get_by_role("button", name="Exclude me").click()
    page.wait_for_function("() => document.querySelector('#break-error').textContent.length > 0")
    assert page.locator("#break-error").inner_text() == "That is not your current password."
    page.keyboard.press("Escape")
    page.wait_for_selector("#break-dialog:not([open])", state="attached")
    assert page.locator("#auth").is_hidden()  # still playing
    page.locator("#exclude-form").get_by_role("button", name="Exclude myself").click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Exclude me").click()
    page.wait_for_selector("#auth:not([hidden])")
    assert "excluded yourself until" in page.locator("#auth-notice").inner_text()


def test_notifications_close_by_button_escape_and_a_tap_outside(player_page, live_server, size, screenshot):
    page = player_page()
    type_sign_up(page, f"bell{size}")
    bell = page.locator("#bell")
    for close in ("button", "escape", "outside"):
        bell.click()
        page.wait_for_selector("#notifications:not([hidden])")
        panel, logout = page.locator("#notifications").bounding_box(), page.locator("#logout").bounding_box()
        assert panel["y"] >= logout["y"] + logout["height"], "the panel covers Log out"
        if close == "button":
            screenshot(page, f"{size}-notifications")
            page.get_by_role("button", name="Close notifications").click()
        elif close == "escape":
            page.keyboard.press("Escape")
        else:
            page.mouse.click(5, page.viewport_size["height"] - 5)
        page.wait_for_selector("#notifications[hidden]", state="attached")


def test_chat_in_a_drawer_and_toasts_that_never_cover_a_field(player_page, live_server, size, screenshot):
    page = player_page()
    type_sign_up(page, f"talker{size}")
    if size == "phone":
        assert page.locator("#chat-input").is_hidden()
        page.get_by_role("button", name="Chat").click()
    page.locator("#chat-input").fill("hello table")
    page.locator("#chat-input").press("Enter")
    page.wait_for_selector("#chat-log li:has-text('hello table')")
    page.locator("#chat-input").focus()
    for i in range(5):
        page.evaluate("n => document.querySelector('#public-stats').click()", i)
    page.wait_for_function("() => document.querySelectorAll('#toasts .toast').length >= 2")
    assert page.locator("#toasts .toast").count() <= 3
    overlap = page.evaluate("""() => { const t = document.querySelector('#toasts').getBoundingClientRect();
        return [...document.querySelectorAll('input, select')].filter(f => f.offsetParent !== null).some(f => {
          const r = f.getBoundingClientRect(); return r.left < t.right && r.right > t.left && r.top < t.bottom && r.bottom > t.top; }); }""")
    assert not overlap
    screenshot(page, f"{size}-chat-toasts")
    # Later toasts may still arrive: follow the one dismissed, not the count.
    first = page.locator("#toasts .toast").first
    first.evaluate("toast => { toast.dataset.dismissed = 'yes'; }")
    first.get_by_role("button", name="Dismiss").click()
    page.wait_for_selector("#toasts .toast[data-dismissed='yes']", state="detached")
    if size == "phone":
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.body.classList.contains('drawer-open')")
        assert page.locator("#chat-input").is_hidden()


def test_a_message_typed_before_the_chat_room_is_joined_is_sent_once_it_is(open_page, monkeypatch):
    """The server handles a socket's events concurrently: a send must not overtake the join."""
    from imperioApp.services.social import chat

    typed = threading.Event()
    join = chat.join

    def slow_join(user_id, room):
        # The lobby's join is held until the player has pressed Enter: the send comes first.
        typed.wait(timeout=60)
        return join(user_id, room)

    monkeypatch.setattr(chat, "join", slow_join)
    page = open_page()
    type_sign_up(page, "early_talker")
    page.locator("#chat-input").fill("first words")
    page.locator("#chat-input").press("Enter")
    typed.set()
    page.wait_for_selector("#chat-log li:has-text('first words')", timeout=60_000)
    assert page.locator("#chat-error").text_content() == ""
    assert page.locator("#chat-log li:has-text('first words')").count() == 1


def test_staying_logged_in_across_tabs_and_reloads_then_logging_out_everywhere(browser, live_server, size):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        page.wait_for_selector("body[data-ready='true']")
        type_sign_up(page, f"stayer{size}")
        # The refresh token is nowhere a page script can read it.
        readable = page.evaluate("() => document.cookie + JSON.stringify(sessionStorage) + JSON.stringify(localStorage)")
        assert "imperio_refresh" not in readable and "refresh_token" not in readable
        cookie = next(c for c in context.cookies() if c["name"] == "imperio_refresh")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/session"
        page.reload()
        page.wait_for_selector("#connection.live", timeout=30_000)
        second = context.new_page()
        second.goto(live_server.url + "/")
        second.wait_for_selector("#connection.live", timeout=30_000)
        assert second.locator("#who").inner_text() == f"stayer{size}"
        tab(page, "My protection")
        page.get_by_role("button", name="Log out everywhere").click()
        page.wait_for_selector("#auth:not([hidden])")
        second.wait_for_selector("#auth:not([hidden])", timeout=30_000)
        assert "logged out" in second.locator("#auth-notice").inner_text()
        third = context.new_page()
        third.goto(live_server.url + "/")
        third.wait_for_selector("body[data-ready='true']")
        assert third.locator("#auth").is_visible()
    finally:
        context.close()

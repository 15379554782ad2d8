"""The lobby in a real browser: sign up, play the three games with clicks, watch live, verify."""

import time
from datetime import timedelta
from urllib.parse import urlsplit

import requests

PASSWORD = "correct-horse-battery"


def sign_up(page, name):
    """Sign up through the page's form; return the access token the page holds."""
    form = page.locator("#signup-form")
    form.get_by_label("Username").fill(name)
    form.get_by_label("Email").fill(f"{name}@example.com")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    page.wait_for_selector("#connection.live")
    return page.evaluate("JSON.parse(sessionStorage.getItem('imperio.tokens')).access_token")


def page_balance(page):
    return int(page.locator("#balance").get_attribute("data-coins"))


def api_get(server, token, path, **query):
    response = requests.get(server.url + path, params=query, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wallet(server, token):
    return api_get(server, token, "/wallet")["coins"]


def rounds(server, token, **query):
    return api_get(server, token, "/games/history", **query)["items"]


def wait_for_round(page, selector, previous=None):
    """Wait until the result at `selector` names a round other than `previous`; return its id."""
    page.wait_for_function(
        "([sel, prev]) => { const n = document.querySelector(sel); return n && n.dataset.roundId && n.dataset.roundId !== prev; }",
        arg=[selector, previous or ""],
    )
    return page.locator(selector).get_attribute("data-round-id")


def tab(page, name):
    page.get_by_role("tab", name=name).click()


def spin_slots(page, previous=None):
    page.locator("#spin").click()
    return wait_for_round(page, "#slots-result", previous)


def play_blackjack_round(page):
    """Deal, then stand (hitting below 12) until the round is over."""
    previous = page.locator("#bj-result").get_attribute("data-round-id")
    page.locator("#bj-deal").click()
    wait_for_round(page, "#bj-result", previous)
    while page.locator("#pane-blackjack").get_attribute("data-state") != "over":
        total = int(page.locator("#player-value").inner_text().strip("()").split(" / ")[0])
        button = page.locator("#bj-hit" if total < 12 else "#bj-stand")
        cards = page.locator("#player-cards .card").count()
        button.click()
        page.wait_for_function(
            "([n]) => document.querySelector('#pane-blackjack').dataset.state === 'over'"
            " || document.querySelectorAll('#player-cards .card').length !== n",
            arg=[cards],
        )


def test_sign_up_and_play_slots(open_page, live_server, screenshot):
    page = open_page()
    token = sign_up(page, "slotfan")
    assert page_balance(page) == wallet(live_server, token) == 1000
    page.locator("#slots-bet").fill("5")
    previous = None
    for _ in range(3):
        previous = spin_slots(page, previous)
        assert page_balance(page) == wallet(live_server, token)
    played = rounds(live_server, token, game_type="slots")
    assert len(played) == 3 and {r["bet"] for r in played} == {5}
    # The reels show the fruits of the server's stop segments.
    detail = api_get(live_server, token, f"/games/{previous}")
    shown = [page.locator(f'.reel[data-reel="{i}"]').get_attribute("data-segment") for i in range(3)]
    assert [int(s) for s in shown] == detail["outcome"]["segments"]
    assert page.locator(".reel .fruit.on").evaluate_all("nodes => nodes.map(n => n.alt)") == detail["outcome"]["fruits"]
    screenshot(page, "slots")


def test_double_click_on_spin_places_one_bet(open_page, live_server):
    page = open_page()
    token = sign_up(page, "doubler")
    page.locator("#spin").dblclick()
    wait_for_round(page, "#slots-result")
    page.wait_for_selector("#spin:not([disabled])")
    assert len(rounds(live_server, token)) == 1
    assert page_balance(page) == wallet(live_server, token)


def test_a_retry_after_a_lost_answer_replays_the_same_spin(open_page, live_server):
    page = open_page()
    token = sign_up(page, "retrier")
    keys = []

    def lose_the_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        route.fetch()  # the server plays the spin ...
        route.abort()  # ... but the page never hears of it

    page.route("**/spin", lose_the_answer, times=1)
    page.locator("#spin").click()
    page.wait_for_function("() => document.querySelector('#slots-result').textContent.includes('cannot be reached')")
    page.on(
        "request", lambda request: keys.append(request.headers.get("idempotency-key")) if request.url.endswith("/spin") else None
    )
    page.locator("#spin").click()
    wait_for_round(page, "#slots-result")
    assert len(keys) == 2 and keys[0] == keys[1]
    assert len(rounds(live_server, token)) == 1
    assert page_balance(page) == wallet(live_server, token) == 1000 - 1 + rounds(live_server, token)[0]["payout"]


def test_blackjack_with_the_hole_card_hidden_until_the_dealer_plays(open_page, live_server, screenshot):
    page = open_page()
    token = sign_up(page, "dealerwatch")
    tab(page, "Blackjack")
    for _ in range(2):
        play_blackjack_round(page)
        assert page_balance(page) == wallet(live_server, token)
    screenshot(page, "blackjack")
    assert all(r["status"] == "settled" for r in rounds(live_server, token, game_type="blackjack"))


def test_blackjack_split_double_and_natural(open_page, live_server, deal, screenshot):
    page = open_page()
    token = sign_up(page, "splitter")
    tab(page, "Blackjack")
    # 8-8 against a 5: split, 8+2 doubled to 8+2+10, 8+3 stands; the dealer's 5+9 draws 10.
    deal("8", "5", "8", "9", "2", "3", "10", "10", "4", "4")
    page.locator("#bj-wager").fill("10")
    page.locator("#bj-deal").click()
    page.wait_for_selector("#bj-split:not([disabled])")
    assert page.locator("#dealer-cards .card").count() == 2
    assert page.locator("#dealer-cards .card.back").count() == 1
    assert page.locator("#dealer-cards .card").first.get_attribute("aria-label") == "5 of spades"
    page.locator("#bj-split").click()
    page.wait_for_selector("#player-cards-2:not([hidden]) .card")
    screenshot(page, "blackjack-split")
    page.locator("#bj-double").click()
    page.wait_for_function("() => document.querySelectorAll('#player-cards .card').length === 3")
    page.locator("#bj-stand").click()
    page.wait_for_selector("#pane-blackjack[data-state='over']")
    assert page.locator("#dealer-cards .card.back").count() == 0
    assert "Hand 1: win. Hand 2: win." in page.locator("#bj-result").inner_text()
    assert page_balance(page) == wallet(live_server, token) == 1000 - 30 + 60
    screenshot(page, "blackjack-settled")

    deal("Ace", "5", "King", "9")
    page.locator("#bj-deal").click()
    page.wait_for_function("() => document.querySelector('#bj-result').textContent.includes('natural')")
    assert "Blackjack!" in page.locator("#bj-result").inner_text()
    assert page_balance(page) == wallet(live_server, token) == 1030 - 10 + 25


def place(page, mode, *numbers):
    page.locator("#bet-mode").select_option(mode)
    for number in numbers:
        page.locator(f'#layout [data-number="{number}"]').click()


def test_roulette_every_bet_type_with_chips_and_per_bet_payouts(open_page, live_server, pocket, screenshot):
    page = open_page()
    token = sign_up(page, "wheelie")
    tab(page, "Roulette")
    place(page, "straight", 17)
    place(page, "split", 17, 20)
    place(page, "street", 16)
    place(page, "corner", 13)
    place(page, "six_line", 13)
    for label in ("trio 0-1-2", "trio 0-2-3", "basket 0-1-2-3"):
        page.get_by_role("button", name=label).click()
    page.get_by_label("5", exact=True).check()
    for name in ("2nd 12", "Red", "Black", "Odd", "Even", "1–18", "19–36"):
        page.locator("#layout .outside", has_text=name).click()
    page.get_by_label("column 2").click()
    page.get_by_label("1", exact=True).check()
    place(page, "straight", 17)  # a second chip on the same straight
    assert page.locator("#slip li").count() == 16
    pocket(17)
    page.locator("#roulette-spin").click()
    round_id = wait_for_round(page, "#roulette-result")
    assert page.locator("#winning-number").inner_text() == "17"
    detail = api_get(live_server, token, f"/games/{round_id}")
    bets = detail["outcome"]["bets"]
    assert {bet["type"] for bet in bets} == {
        "straight",
        "split",
        "street",
        "corner",
        "six_line",
        "trio",
        "basket",
        "dozen",
        "column",
        "red",
        "black",
        "odd",
        "even",
        "low",
        "high",
    }
    shown = page.locator("#roulette-payouts li").all_inner_texts()
    assert [int(text.rsplit("→ ", 1)[1].replace(",", "")) for text in shown] == [bet["payout"] for bet in bets]
    assert next(bet for bet in bets if bet["type"] == "straight")["payout"] == 2 * 36
    assert page_balance(page) == wallet(live_server, token)
    screenshot(page, "roulette")


def test_big_win_ticker_leaderboard_and_chat_between_two_players(open_page, live_server, app, monkeypatch, reels, screenshot):
    monkeypatch.setitem(app.config, "BIG_WIN_THRESHOLD", 100)
    watcher = open_page()
    sign_up(watcher, "watcher")
    winner = open_page()
    winner_token = sign_up(winner, "luckyone")
    # Wait for the boards' first state so the update below is a push, not the join reply.
    watcher.wait_for_selector("#leaderboard li.empty")

    reels("three_cherries")
    winner.locator("#slots-bet").fill("2")
    winner.locator("#spin").click()
    wait_for_round(winner, "#slots-result")
    answered_at = winner.evaluate("Date.now()")
    assert page_balance(winner) == wallet(live_server, winner_token) == 1000 - 2 + 500

    item = watcher.wait_for_selector('#ticker-items li[data-username="luckyone"]', timeout=15_000)
    assert "won 498 at slots" in item.inner_text()
    watcher.wait_for_selector('#leaderboard li[data-username="luckyone"]', timeout=15_000)
    ticker_delay = int(item.get_attribute("data-received-at")) - answered_at
    board_delay = int(watcher.locator("#leaderboard").get_attribute("data-updated-at")) - answered_at
    assert ticker_delay < 2000 and board_delay < 2000, (ticker_delay, board_delay)

    hostile = "<script>window.pwned = 1</script><img src=x onerror='window.pwned=2'> hi"
    winner.locator("#chat-input").fill(hostile)
    winner.locator("#chat-form button").click()
    line = watcher.wait_for_selector("#chat-log li:has-text('luckyone')")
    assert line.query_selector(".text").inner_text() == hostile
    assert watcher.locator("#chat-log script, #chat-log img").count() == 0
    assert watcher.evaluate("window.pwned") is None
    watcher.locator("#chat-input").fill("congrats!")
    watcher.locator("#chat-input").press("Enter")
    winner.wait_for_selector("#chat-log li:has-text('congrats!')")
    screenshot(watcher, "live-ticker-leaderboard-chat")

    # Flooding is refused, in words (the server allows CHAT_RATE_LIMIT messages per window).
    for n in range(app.config["CHAT_RATE_LIMIT"]):
        winner.locator("#chat-input").fill(f"again {n}")
        winner.locator("#chat-input").press("Enter")
        winner.wait_for_function(
            "() => document.querySelector('#chat-input').value === '' || document.querySelector('#chat-error').textContent !== ''"
        )
    assert "Too many requests" in winner.locator("#chat-error").inner_text()


def test_rotate_then_verify_slots_roulette_and_blackjack_in_the_page(open_page, live_server, screenshot):
    page = open_page()
    token = sign_up(page, "verifier")
    tab(page, "Fairness")
    page.locator("#client-seed").fill("my-own-lucky-seed")
    page.get_by_role("button", name="Use this client seed").click()
    page.wait_for_function("() => document.querySelector('#toasts').textContent.includes('Client seed saved')")
    hash_before = page.locator("#seed-hash").inner_text()

    tab(page, "Cherry Charm")
    spin_slots(page)
    tab(page, "Roulette")
    place(page, "straight", 7)
    page.locator("#layout .outside", has_text="Red").click()
    page.locator("#roulette-spin").click()
    wait_for_round(page, "#roulette-result")
    tab(page, "Blackjack")
    play_blackjack_round(page)

    tab(page, "Fairness")
    page.get_by_role("button", name="Rotate: reveal the server seed").click()
    revealed = page.wait_for_selector("#revealed-seed").inner_text()
    assert page.locator("#seed-hash").inner_text() != hash_before

    tab(page, "History")
    page.wait_for_selector("#history-rows tr")
    played = rounds(live_server, token)
    assert sorted(r["game_type"] for r in played) == ["blackjack", "roulette", "slots"]
    for round_ in played:
        assert round_["fairness"]["client_seed"] == "my-own-lucky-seed"
        assert round_["fairness"]["server_seed_hash"] == hash_before
        page.get_by_role("button", name=f"verify round {round_['id']}").click()
        page.wait_for_selector(f"#verification[data-round-id='{round_['id']}'][data-status]")
        assert page.locator("#verification").get_attribute("data-status") == "match", page.locator("#verification").inner_text()
        assert revealed in page.locator("#round-detail").inner_text()
        screenshot(page, f"verified-{round_['game_type']}")


def test_shared_roulette_table_by_invite(open_page, live_server, app, monkeypatch, screenshot):
    monkeypatch.setitem(app.config, "TABLE_BETTING_SECONDS", 2.0)
    host = open_page()
    host_token = sign_up(host, "tablehost")
    guest = open_page()
    guest_token = sign_up(guest, "tableguest")
    tab(host, "Tables")
    host.locator("#create-room input[name='private']").check()
    host.get_by_role("button", name="Open a table").click()
    host.wait_for_selector("#room:not([hidden])")
    link = host.locator("#invite-link").input_value()
    assert "#table=" in link and "&invite=" in link
    # The invite link opens the lobby straight at the private table.
    guest.goto(link)
    guest.wait_for_selector("#room:not([hidden])")
    host.wait_for_selector("#room-players:has-text('tableguest')")
    for page in (host, guest):
        # The bets go on the table's own drawn layout.
        page.locator("#table-board-slot #layout .outside", has_text="Black").click()

    host.get_by_role("button", name="Bet on this spin").click()
    guest.wait_for_selector("#room-countdown:has-text('Betting closes')")
    guest.get_by_role("button", name="Bet on this spin").click()
    for page in (host, guest):
        page.wait_for_selector("#room-events li.result", timeout=20_000)
        page.wait_for_selector("#room-events li:has-text('You were paid')", timeout=20_000)
    result = host.locator("#room-events li.result").inner_text()
    assert "tablehost" in result and "tableguest" in result
    assert page_balance(host) == wallet(live_server, host_token)
    assert page_balance(guest) == wallet(live_server, guest_token)
    screenshot(guest, "shared-table")


def test_statistics_achievements_notifications_and_profile(open_page, live_server):
    page = open_page()
    token = sign_up(page, "achiever")
    spin_slots(page)
    tab(page, "Stats & achievements")
    # Statistics are cached for a second: refresh until the round shows (bounded by a deadline).
    deadline = time.monotonic() + 15
    while page.locator("#stats-rows tr td").first.inner_text() != "1":
        assert time.monotonic() < deadline, "the round never reached the statistics"
        page.wait_for_timeout(250)
        page.locator("#me-refresh").click()
    first_spin = page.locator("#achievements li.unlocked")
    assert first_spin.count() >= 1
    assert page.locator("#achievements progress").count() == len(api_get(live_server, token, "/achievements/progress"))
    page.locator("#public-stats").check()
    page.wait_for_function("() => document.querySelector('#toasts').textContent.includes('statistics are public')")
    assert api_get(live_server, token, "/profile")["public_stats"] is True
    page.locator("#bell").click()
    page.wait_for_selector("#notification-list li.unread")
    page.get_by_role("button", name="Mark all read").click()
    page.wait_for_function("() => document.querySelector('#unread').textContent === '0'")
    assert api_get(live_server, token, "/notifications", unread="true")["items"] == []


def test_round_recall_shows_every_card_and_action(open_page, live_server, deal):
    page = open_page()
    sign_up(page, "recaller")
    tab(page, "Blackjack")
    deal("10", "9", "5", "8", "King")
    page.locator("#bj-deal").click()
    page.wait_for_selector("#bj-hit:not([disabled])")
    page.locator("#bj-hit").click()
    page.wait_for_selector("#pane-blackjack[data-state='over']")
    tab(page, "History")
    page.get_by_role("button", name="details of round 1").click()
    page.wait_for_selector("#round-detail .steps li")
    steps = page.locator("#round-detail .steps li").all_inner_texts()
    assert steps == [
        "Player hand 1 gets 10♠",
        "Dealer gets 9♠",
        "Player hand 1 gets 5♠",
        "Dealer (hole card) gets 8♠",
        "Player hit on hand 1",
        "Player hand 1 gets King♠",
        "Hand 1 (25): lose, wager 10, paid 0",
    ]


def test_errors_are_shown_in_plain_words(open_page, live_server):
    page = open_page()
    sign_up(page, "brokeplayer")
    page.locator("#slots-bet").fill("100000")
    page.locator("#spin").click()
    page.wait_for_selector("#slots-result.error")
    assert "above the table limit" in page.locator("#slots-result").inner_text()
    page.locator("#logout").click()
    page.wait_for_selector("#auth:not([hidden])")
    form = page.locator("#login-form")
    form.get_by_label("Username or email").fill("brokeplayer")
    form.get_by_label("Password").fill("wrong-password")
    form.get_by_role("button", name="Log in").click()
    page.wait_for_function("() => document.querySelector('#login-form .form-error').textContent.length > 0")
    assert "Wrong username or password" in form.locator(".form-error").inner_text()
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#connection.live")


def test_phone_width_keyboard_and_labels(open_page, screenshot):
    page = open_page(width=390, height=844)
    sign_up(page, "pocketplayer")
    spin_slots(page)
    filled = {
        "History": "#history-rows tr",
        "Fairness": "#seed-hash:not(:empty)",
        "Stats & achievements": "#achievements li",
        "Tournaments": "#tournaments-running li",
    }
    for name in (
        "Cherry Charm",
        "Blackjack",
        "Roulette",
        "Tables",
        "Tournaments",
        "History",
        "Fairness",
        "Stats & achievements",
        "My protection",
    ):
        tab(page, name)
        if name in filled:
            page.wait_for_selector(filled[name])
        screenshot(page, f"phone-{name.lower().replace(' & ', '-').replace(' ', '-')}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        wide = page.evaluate(
            "() => [...document.querySelectorAll('*')].filter(n => n.getBoundingClientRect().right > window.innerWidth + 1 && n.offsetParent !== null).map(n => n.tagName + '#' + n.id + '.' + n.className).slice(0, 8)"
        )
        assert overflow <= 0, f"{name} overflows the phone width by {overflow}px: {wide}"
    # Tabs move with the arrow keys; every control has an accessible name.
    page.get_by_role("tab", name="Roulette").focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("tab", name="Tables").get_attribute("aria-selected") == "true"
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input, select')]
        .filter(n => n.offsetParent !== null)
        .filter(n => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !n.textContent.trim())
        .map(n => n.outerHTML)""")
    assert unnamed == []


# A lost connection shows at the latest when Engine.IO's heartbeat lapses (ping interval 25 s +
# timeout 20 s) and the client retries every 5 s at most; the deadline covers both on a loaded machine.
RECONNECT_DEADLINE_MS = 90_000


def test_the_page_reconnects_after_a_server_restart(browser, process_server):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(process_server.url + "/")
        page.wait_for_selector("body[data-ready='true']")
        token = sign_up(page, "stayer")
        page.wait_for_selector("#connection.live", timeout=RECONNECT_DEADLINE_MS)
        # Killed, not asked to stop: the process and its sockets are gone when kill() returns.
        process_server.kill()
        page.wait_for_selector("#connection:not(.live)", timeout=RECONNECT_DEADLINE_MS)
        process_server.start()
        page.wait_for_selector("#connection.live", timeout=RECONNECT_DEADLINE_MS)
        # Still signed in, and playing again.
        spin_slots(page)
        assert page_balance(page) == wallet(process_server, token)
    finally:
        context.close()


def test_the_page_refreshes_its_token_before_it_expires(open_page, live_server, app, monkeypatch):
    # A minute and a bit: the page refreshes a minute before expiry, so within seconds here.
    monkeypatch.setitem(app.config, "JWT_ACCESS_TOKEN_EXPIRES", timedelta(seconds=63))
    page = open_page()
    first = sign_up(page, "refresher")
    page.wait_for_function(
        "([old]) => JSON.parse(sessionStorage.getItem('imperio.tokens')).access_token !== old", arg=[first], timeout=30_000
    )
    fresh = page.evaluate("JSON.parse(sessionStorage.getItem('imperio.tokens')).access_token")
    spin_slots(page)
    assert page_balance(page) == wallet(live_server, fresh)


def test_the_api_docs_page_renders_from_this_host(browser, live_server):
    context = browser.new_context()
    requested = []
    context.on("request", lambda request: requested.append(request.url))
    try:
        page = context.new_page()
        page.goto(live_server.url + "/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        assert page.locator(".swagger-ui .opblock").count() > 30
    finally:
        context.close()
    assert {urlsplit(url).netloc for url in requested} == {f"127.0.0.1:{live_server.port}"}, requested


def test_an_open_blackjack_round_survives_a_reload(open_page, live_server, deal):
    page = open_page()
    token = sign_up(page, "reloader")
    tab(page, "Blackjack")
    deal("10", "9", "7", "10", "5")
    page.locator("#bj-deal").click()
    page.wait_for_selector("#bj-stand:not([disabled])")
    page.reload()
    page.wait_for_selector("#connection.live")
    tab(page, "Blackjack")
    page.wait_for_selector("#bj-stand:not([disabled])")
    assert page.locator("#dealer-cards .card.back").count() == 1
    assert "open round is back" in page.locator("#bj-result").inner_text()
    page.locator("#bj-stand").click()
    page.wait_for_selector("#pane-blackjack[data-state='over']")
    assert "You lose." in page.locator("#bj-result").inner_text()
    assert page_balance(page) == wallet(live_server, token) == 990


def test_logging_out_elsewhere_ends_the_session_in_this_tab(open_page, live_server):
    page = open_page()
    token = sign_up(page, "twotabs")
    response = requests.post(live_server.url + "/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 204
    page.wait_for_selector("#auth:not([hidden])", timeout=30_000)
    # A plain explanation, not a token error.
    assert "logged out" in page.locator("#auth-notice").inner_text()
    assert "token" not in page.locator("#auth-notice").inner_text().lower()

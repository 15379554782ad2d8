"""The lobby's Tournaments tab, played with clicks at desktop and phone width: the lists with their
countdowns, joining behind a confirmation that shows the fee and the prizes, live standings with
your row highlighted and the places around you, then the results and the prize toast."""

from datetime import timedelta

import requests

from tests.tournaments import create, now

from .test_lobby import page_balance, wallet
from .test_lobby_player import SIZES, check_page, player_page, size, tab, type_sign_up, wait_for_count  # noqa: F401  (fixtures)


def _post(live_server, who, path, **kwargs):
    response = requests.post(live_server.url + path, headers=who.headers, timeout=30, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_join_a_tournament_watch_the_standings_and_win_a_prize(
    player_page,  # noqa: F811  (the fixture imported above)
    live_server,
    app,
    make_admin,
    make_player,
    size,  # noqa: F811
    screenshot,
):
    admin, rival = make_admin(), make_player(balance=100)
    race = create(
        app,
        admin,
        title="Evening race",
        game_types=["slots"],
        entry_fee=10,
        prize_pool={"mode": "fixed", "amount": 100},
        payouts=[60, 40],
    )
    create(app, admin, title="Tomorrow's race", starts_at=now() + timedelta(days=1), ends_at=now() + timedelta(days=1, hours=2))
    _post(live_server, rival, f"/tournaments/{race['id']}/join")
    _post(live_server, rival, "/spin", json={"bet": 3})

    page = player_page()
    name = f"racer{size}"
    token = type_sign_up(page, name)
    tab(page, "Tournaments")
    running = page.locator(f'#tournaments-running li[data-tournament-id="{race["id"]}"]')
    running.wait_for()
    assert "Ends in" in running.inner_text() and "Entry 10 coins" in running.inner_text()
    assert "Starts in" in page.locator("#tournaments-upcoming li").first.inner_text()
    check_page(page, live_server, "tournament lists")
    screenshot(page, f"{size}-tournament-lists")

    page.get_by_role("button", name="Open Evening race").click()
    page.locator("#tournament-title", has_text="Evening race").wait_for()
    assert page.locator("#tournament-countdown").inner_text().startswith("Ends in")
    assert page.locator("#tournament-prizes tr").all_inner_texts() == ["#1\t60%", "#2\t40%"]
    page.locator(f'#tournament-standings li[data-username="{rival.username}"]').wait_for()

    before = page_balance(page)
    page.get_by_role("button", name="Join for 10 coins").click()
    dialog = page.locator("#join-dialog")
    dialog.wait_for()
    assert "10 coins" in page.locator("#join-fee").inner_text()
    assert page.locator("#join-prizes tr").all_inner_texts() == ["#1\t60%", "#2\t40%"]
    assert "100 coins" in page.locator("#join-pool").inner_text()
    check_page(page, live_server, "join dialog")
    dialog.get_by_role("button", name="Join", exact=True).click()
    page.locator("#tournament-entry", has_text="You are in").wait_for()
    assert page_balance(page) == before - 10 == wallet(live_server, token)
    assert page.locator("#tournament-join").is_hidden()

    tab(page, "Cherry Charm")
    page.locator("#slots-bet").fill("5")
    page.locator("#spin").click()
    page.wait_for_function("() => document.querySelector('#slots-result').dataset.roundId")
    tab(page, "Tournaments")
    mine = page.locator(f'#tournament-standings li[aria-current="true"][data-username="{name}"]')
    mine.wait_for(timeout=30_000)
    assert mine.inner_text().split("\n")[0] == "#1"
    page.get_by_role("button", name="Around me").click()
    page.wait_for_function("() => document.querySelector('#standings-around').getAttribute('aria-pressed') === 'true'")
    page.locator(f'#tournament-standings li[aria-current="true"][data-username="{name}"]').wait_for()
    wait_for_count(page, "#tournament-standings li", 2)
    check_page(page, live_server, "standings")
    screenshot(page, f"{size}-tournament-standings")

    _post(live_server, admin, f"/admin/tournaments/{race['id']}/end")
    page.locator("#toasts .toast", has_text="You won 60 coins: #1 in Evening race").wait_for(timeout=30_000)
    page.locator("#tournament-results tr.me", has_text="60 coins").wait_for(timeout=30_000)
    assert page.locator("#tournament-countdown").inner_text().startswith("Ended")
    page.wait_for_function(
        "expected => Number(document.querySelector('#balance').dataset.coins) === expected", arg=wallet(live_server, token)
    )
    check_page(page, live_server, "results")
    screenshot(page, f"{size}-tournament-results")

    page.get_by_role("button", name="All tournaments").click()
    page.locator(f'#tournaments-finished li[data-tournament-id="{race["id"]}"]').wait_for()

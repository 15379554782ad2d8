"""The lobby in a real browser: sign up, play the three games with clicks, watch live, verify."""

import re
import time
from urllib.parse import urlsplit

import pytest
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


def wallet(server, token):
    return requests.get(server.url + "/wallet", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["coins"]


def rounds(server, token, **query):
    response = requests.get(server.url + "/games/history", params=query, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return response.json()["items"]


def wait_for_round(page, selector, previous):
    """Wait until the result at `selector` names a round other than `previous`; return its id."""
    page.wait_for_function(
        "([sel, prev]) => { const n = document.querySelector(sel); return n && n.dataset.roundId && n.dataset.roundId !== prev; }",
        arg=[selector, previous or ""],
    )
    return page.locator(selector).get_attribute("data-round-id")


def test_sign_up_and_play_slots(open_page, live_server, screenshot):
    page = open_page()
    token = sign_up(page, "slotfan")
    assert page_balance(page) == wallet(live_server, token) == 1000
    previous = None
    for _ in range(3):
        page.get_by_role("button", name="Spin", exact=True).first.click()
        previous = wait_for_round(page, "#slots-result", previous)
        assert page_balance(page) == wallet(live_server, token)
    screenshot(page, "slots")
    assert len(rounds(live_server, token, game_type="slots")) == 3

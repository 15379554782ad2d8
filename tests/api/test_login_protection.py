"""Brute-force protection: failures claimed before the hash, per (account, address) locks, a per-account budget."""

import threading

import pytest

from imperioApp.services.identity import passwords
from tests.api.helpers import assert_error
from tests.concurrency import race


def attempt(client, username, password, address):
    field = "email" if "@" in username else "username"
    return client.post("/login", json={field: username, "password": password}, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def hashes_checked(monkeypatch):
    """How many passwords the server actually checked."""
    counter = {"n": 0}
    lock = threading.Lock()
    real = passwords.verify_password

    def counting(password_hash, password):
        with lock:
            counter["n"] += 1
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return counter


def test_thirty_parallel_guesses_check_at_most_the_limit(app, player, hashes_checked):
    limit = app.config["LOGIN_MAX_FAILURES"]
    results = race(app, 30, lambda: attempt(app.test_client(), player.username, "wrong-guess", "10.9.9.9").status_code)
    assert sorted(results) == [401] * limit + [429] * (30 - limit)
    assert hashes_checked["n"] <= limit


def test_an_attacker_at_one_address_cannot_keep_the_owner_out(client, player):
    for _ in range(10):
        attempt(client, player.username, "wrong-guess", "203.0.113.7")
    assert_error(attempt(client, player.username, player.password, "203.0.113.7"), 429, "account_locked")
    assert attempt(client, player.username, player.password, "198.51.100.20").status_code == 200


def test_many_addresses_share_one_budget_per_name(app, client, player, monkeypatch, hashes_checked):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_MAX_FAILURES", 8)
    answers = [attempt(client, player.username, "wrong-guess", f"192.0.2.{n}").status_code for n in range(12)]
    assert answers == [401] * 8 + [429] * 4
    assert hashes_checked["n"] == 8
    refused = attempt(client, player.username, "wrong-guess", "192.0.2.200")
    assert_error(refused, 429, "account_locked")
    assert 0 < int(refused.headers["Retry-After"]) <= 3601


def test_the_username_and_the_email_of_one_account_share_one_budget(app, client, player, monkeypatch, hashes_checked):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_MAX_FAILURES", 8)
    spellings = [player.username, player.email, player.username.upper(), player.email.upper()]
    answers = [attempt(client, spellings[n % 4], "wrong-guess", f"192.0.2.{n}").status_code for n in range(12)]
    assert answers == [401] * 8 + [429] * 4
    assert hashes_checked["n"] == 8


def test_one_addresss_failures_are_the_accounts_whichever_name_was_typed(client, player):
    for n in range(5):
        assert attempt(client, [player.username, player.email][n % 2], "wrong-guess", "10.4.4.4").status_code == 401
    assert_error(attempt(client, player.email, player.password, "10.4.4.4"), 429, "account_locked")
    assert_error(attempt(client, player.username, player.password, "10.4.4.4"), 429, "account_locked")


def test_an_operator_reset_clears_the_accounts_one_budget(app, client, player, make_admin):
    for n in range(5):
        attempt(client, [player.username, player.email][n % 2], "wrong-guess", "10.5.5.5")
    admin = make_admin()
    reset = client.post(f"/admin/players/{player.id}/lockout/reset", json={"reason": "owner called"}, headers=admin.headers)
    assert reset.status_code == 200
    assert attempt(client, player.email, player.password, "10.5.5.5").status_code == 200


def test_known_and_unknown_names_get_the_same_answers_at_every_step(client, player):
    def answers(name):
        seen = []
        for _ in range(7):
            response = attempt(client, name, "wrong-guess", "10.1.1.1")
            seen.append((response.status_code, response.get_json()))
        return seen

    assert answers(player.username) == answers("nobody_at_all")


def test_a_success_clears_its_address_failures(client, player):
    for _ in range(4):
        attempt(client, player.username, "wrong-guess", "10.2.2.2")
    assert attempt(client, player.username, player.password, "10.2.2.2").status_code == 200
    for _ in range(4):
        assert attempt(client, player.username, "wrong-guess", "10.2.2.2").status_code == 401
    assert attempt(client, player.username, player.password, "10.2.2.2").status_code == 200


def test_the_lock_answers_with_when_to_come_back(client, player):
    for _ in range(5):
        attempt(client, player.username, "wrong-guess", "10.3.3.3")
    locked = attempt(client, player.username, "wrong-guess", "10.3.3.3")
    assert_error(locked, 429, "account_locked")
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1

"""Driving the browser pages' forms with a Flask test client, as a browser would."""

import re
from urllib.parse import parse_qs, urlsplit

PASSWORD = "correct-horse-battery"


def csrf_of(response):
    """The CSRF token in a page's form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def sign_up(client, username="page_player", email=None, password=PASSWORD):
    token = csrf_of(client.get("/signup"))
    return client.post(
        "/signup",
        data={"csrf_token": token, "username": username, "email": email or f"{username}@example.com", "password": password},
    )


def log_in(client, login, password=PASSWORD, **extra):
    token = csrf_of(client.get("/login"))
    return client.post("/login", data={"csrf_token": token, "login": login, "password": password, **extra})


def log_out(client):
    return client.post("/logout", data={"csrf_token": csrf_of(client.get("/logout"))})


def launch(client, game):
    response = client.get(f"/redirect-{game}")
    assert response.status_code == 302, response.get_data(as_text=True)
    url = urlsplit(response.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    return url, query


def bearer(token):
    return {"Authorization": f"Bearer {token}"}

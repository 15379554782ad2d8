"""A real browser (Debian's chromium, headless, driven by Playwright) signs up, logs out, logs in
and opens each game; a stub frontend on another port uses the launch token as the old ones do."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

GAMES = {"Cherry Charm": "cherry", "Blackjack": "blackjack", "Roulette": "roulette"}
DEADLINE_MS = 30_000  # a loaded 2-core CI machine

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture skips, with the reason, without it
    expect = None

# The stub frontend does what the old clients do with their launch URL: read username and
# token from the query, then call the API with the token as the bearer.
STUB_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>stub {game}</title></head>
<body><h1>stub {game}</h1><pre id="result"></pre><script>
const api = {api};
const params = new URLSearchParams(location.search);
const token = params.get("token"), username = params.get("username");
const auth = {{"Authorization": "Bearer " + token}};
async function call(method, path, body) {{
  const headers = body === undefined ? auth : {{...auth, "Content-Type": "application/json"}};
  const response = await fetch(api + path, {{method, headers, body: body === undefined ? undefined : JSON.stringify(body)}});
  return {{status: response.status, body: await response.json()}};
}}
(async () => {{
  const result = {{username, token}};
  result.coins = await call("GET", "/getCoins?userId=" + username);
  result.spin = await call("POST", "/spin", {{userId: username}});
  result.profile = await call("PATCH", "/profile", {{public_stats: true}});
  document.getElementById("result").textContent = JSON.stringify(result);
}})().catch(error => {{ document.getElementById("result").textContent = JSON.stringify({{error: String(error)}}); }});
</script></body></html>"""


class Served:
    """A WSGI app or an http.server handler on a free loopback port, in a thread, until stopped."""

    def __init__(self, server):
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class StubFrontend(BaseHTTPRequestHandler):
    """Serves STUB_PAGE at every path; the server's api_url says where the API is."""

    def do_GET(self):
        game = urlsplit(self.path).path.strip("/") or "game"
        body = STUB_PAGE.format(game=game, api=json.dumps(self.server.api_url)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def servers(app, make_app):
    """The app on one port, the stub frontends on another, pointing at each other."""
    stub_server = ThreadingHTTPServer(("127.0.0.1", 0), StubFrontend)  # bound first: the app's config needs its port
    stub_url = f"http://127.0.0.1:{stub_server.server_port}"
    browser_app = make_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CORS_ORIGINS=[stub_url],
        CHERRY_CHARM_URL=f"{stub_url}/cherry",
        BLACK_JACK_URL=f"{stub_url}/blackjack",
        ROULETTE_URL=f"{stub_url}/roulette",
    )
    api = Served(make_server("127.0.0.1", 0, browser_app, threaded=True))
    stub_server.api_url = api.url
    stub = Served(stub_server)
    yield api, stub
    stub.stop()
    api.stop()


@pytest.fixture
def page(browser):
    # The session's browser (conftest): a second Playwright in the same process would refuse to start.
    context = browser.new_context()
    context.set_default_timeout(DEADLINE_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def stub_result(page):
    result = page.locator("#result")
    expect(result).not_to_be_empty(timeout=DEADLINE_MS)
    return json.loads(result.text_content())


def test_sign_up_log_out_log_in_and_play_each_game(servers, page, tmp_path):
    api, stub = servers
    page.goto(f"{api.url}/signup")
    page.fill("#username", "browser_player")
    page.fill("#email", "browser_player@example.com")
    page.fill("#password", "correct-horse-battery")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{api.url}/dashboard")
    expect(page.locator("#balance")).to_have_text("1,000")
    page.screenshot(path=str(tmp_path / "dashboard.png"))

    page.click("text=Log out")
    expect(page).to_have_url(f"{api.url}/login")
    expect(page.locator(".notice")).to_contain_text("You have logged out")

    # A launch link while logged out goes through the login form and on to the game.
    page.goto(f"{api.url}/redirect-roulette")
    expect(page).to_have_url(f"{api.url}/login?next=/redirect-roulette")
    page.fill("#login", "browser_player@example.com")
    page.fill("#password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{stub.url}/roulette/?*")
    assert stub_result(page)["coins"]["status"] == 200

    launched = {}
    for label, path in GAMES.items():
        page.goto(f"{api.url}/dashboard")
        page.click(f"a.button:has-text('{label}')")
        page.wait_for_url(f"{stub.url}/{path}/?*")
        query = parse_qs(urlsplit(page.url).query)
        assert query["username"] == ["browser_player"]
        result = stub_result(page)
        assert result["coins"]["status"] == 200 and isinstance(result["coins"]["body"]["coins"], int)
        assert result["spin"]["status"] == 200 and len(result["spin"]["body"]["stopSegments"]) == 3
        assert result["profile"]["status"] == 403 and result["profile"]["body"]["error"]["code"] == "token_scope"
        assert result["profile"]["body"]["message"]
        launched[label] = page.url

    # Logging out ends every game token of this browser session: the games' next calls fail.
    page.goto(f"{api.url}/dashboard")
    page.click("text=Log out")
    expect(page).to_have_url(f"{api.url}/login")
    for url in launched.values():
        page.goto(url)
        result = stub_result(page)
        assert result["coins"]["status"] == 401 and result["coins"]["body"]["error"]["code"] == "token_revoked"
        assert result["coins"]["body"]["message"] == "the token has been revoked"
        assert result["spin"]["status"] == 401


def test_a_form_with_a_wrong_csrf_token_is_refused(servers, page):
    api, _ = servers
    page.goto(f"{api.url}/signup")
    page.locator("input[name=csrf_token]").evaluate("input => { input.value = 'forged'; }")
    page.fill("#username", "forger")
    page.fill("#email", "forger@example.com")
    page.fill("#password", "correct-horse-battery")
    with page.expect_response(f"{api.url}/signup") as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 403
    expect(page.locator(".error")).to_contain_text("did not come from this site")
    page.goto(f"{api.url}/dashboard")
    expect(page).to_have_url(f"{api.url}/login?next=/dashboard")

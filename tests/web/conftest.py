"""Browser tests: Debian's chromium driven by Playwright against a real server on a free port.

The server is the test session's app served by Werkzeug's threaded server in this process
(REST and Socket.IO over real sockets), so the ledger check after every test covers what the
browser did, and the engine fixtures can force outcomes. Skipped, with the reason, where
chromium or Playwright is missing.
"""

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "instance" / "screenshots"))

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev requirements install it
    sync_playwright = None


def _skip_reason():
    if sync_playwright is None:
        return "Playwright for Python is not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


class LiveServer:
    """The app on 127.0.0.1:<free port>, served from a thread until stop()."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def open_page(browser, live_server):
    """open_page() -> a page of the lobby in a new browser context (another player each time)."""
    contexts = []

    def factory(width=1280, height=900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.requests = []
        context.on("request", lambda request: context.requests.append(request.url))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(live_server.url + "/")
        page.wait_for_selector("body[data-ready='true']")
        return page

    try:
        yield factory
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, name): save a PNG under instance/screenshots for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

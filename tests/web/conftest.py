"""Browser tests: Debian's chromium driven by Playwright against a real server on a free port.

The server is the test session's app served by Werkzeug's threaded server in this process
(REST and Socket.IO over real sockets), so the ledger check after every test covers what the
browser did, and the engine fixtures can force outcomes. Skipped, with the reason, where
chromium or Playwright is missing.
"""

import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import processes

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
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
        self.app = app
        self.server = None
        self.start(0)

    def start(self, port):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)
        self.thread.start()

    def restart(self, port):
        """Serve again on the same port (the page must find its way back)."""
        self.start(port)

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        self.server = None


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
    requested = []
    problems = []  # uncaught script errors and CSP violations

    def factory(width=1280, height=900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.on("request", lambda request: requested.append(request.url))
        contexts.append(context)
        page = context.new_page()
        page.on("websocket", lambda ws: requested.append(ws.url))
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.on("console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None)
        page.set_default_timeout(20_000)
        page.goto(live_server.url + "/")
        page.wait_for_selector("body[data-ready='true']")
        return page

    try:
        yield factory
    finally:
        for context in contexts:
            context.close()
    assert not problems, problems
    # The page asks nothing of any host but its own server (no CDN, no fonts, no trackers).
    hosts = {urlsplit(url).netloc for url in requested}
    assert requested and hosts == {f"127.0.0.1:{live_server.port}"}, hosts


@pytest.fixture
def screenshot():
    """screenshot(page, name): save a PNG under instance/screenshots for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class ProcessServer:
    """`python run.py` (gevent, as `make run` serves) in its own process, on a migrated SQLite file."""

    def __init__(self, tmp_path, port):
        root = Path(__file__).resolve().parents[2]
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.root = root
        self.command = [sys.executable, "run.py"]
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'lobby.db'}",
            "PORT": str(port),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST": "8",
            "ARGON2_PARALLELISM": "1",
            "LOG_LEVEL": "warning",
            "FLASK_APP": "imperioApp:create_app",
        }
        self.env.pop("REDIS_URL", None)
        subprocess.run(
            [sys.executable, "-m", "flask", "db", "upgrade"],
            cwd=root,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )
        self.process = None

    def start(self, deadline=90):
        self.process = subprocess.Popen(
            self.command, cwd=self.root, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        processes.wait_healthy(self.process, self.url, time.monotonic() + deadline)

    def stop(self):
        if self.process is not None:
            processes.stop(self.process)
            self.process = None

    def kill(self):
        """End the server at once, as a crash would; return when the process has exited."""
        self.process.kill()
        self.process.wait()
        self.process = None


@pytest.fixture
def process_server(tmp_path):
    server = ProcessServer(tmp_path, processes.free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()

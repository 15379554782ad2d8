"""Socket.IO test clients for the realtime tests: connect as a player, read what arrived."""

import time

import pytest

from imperioApp.extensions import socketio


class Socket:
    """A Flask-SocketIO test client plus a buffer, so reading one event keeps the others."""

    def __init__(self, client):
        self.client = client
        self.buffer = []

    @property
    def connected(self):
        return self.client.is_connected()

    def emit(self, name, *args):
        """Send an event; return the handler's acknowledgement."""
        return self.client.emit(name, *args, callback=True)

    def _pull(self):
        # Pop one by one: background threads (timers, pushes) may append meanwhile.
        queue = self.client.queue
        while queue:
            item = queue.pop(0)
            self.buffer.append((item["name"], item["args"][0] if item["args"] else None))

    def events(self, name):
        """Payloads of every `name` event received so far (kept in the buffer)."""
        self._pull()
        return [payload for event, payload in self.buffer if event == name]

    def take(self, name):
        """Like events(), removing them from the buffer."""
        found = self.events(name)
        self.buffer = [(event, payload) for event, payload in self.buffer if event != name]
        return found

    def names(self):
        """Names of everything received so far, in order."""
        self._pull()
        return [event for event, _ in self.buffer]

    def wait(self, name, timeout=3.0, count=1):
        """Wait until `count` `name` events arrived; return their payloads."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(name)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)

    def error(self):
        """The single error received since the last call (and remove it)."""
        errors = self.take("error")
        assert len(errors) == 1, errors
        return errors[0]

    def disconnect(self):
        self.client.disconnect()


@pytest.fixture
def connect(app):
    """connect(player) → an authenticated Socket; connect() → an anonymous one."""
    sockets = []

    def factory(player=None, *, token=None):
        token = token or (player.tokens["access_token"] if player else None)
        auth = {"token": token} if token else None
        sock = Socket(socketio.test_client(app, auth=auth))
        sockets.append(sock)
        return sock

    yield factory
    for sock in sockets:
        if sock.connected:
            sock.disconnect()




def assert_error(sock, code, event=None):
    """The socket got exactly one error, with this code, and is still connected."""
    error = sock.error()
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    if event:
        assert error["event"] == event
    assert sock.connected
    return error

"""Socket.IO test clients for the realtime tests: connect as a player, read what arrived."""

import threading
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

    def wait(self, name, timeout=30.0, count=1):
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


class ManualScheduler:
    """Runs background tasks in threads whose every sleep lasts until the test calls tick().

    A stand-in for Socket.IO's scheduler (start_background_task, sleep), so that tests of
    timed behaviour step through intervals instead of hoping a real sleep was long enough.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._generation = 0
        self._busy = 0  # tasks running now: neither asleep nor finished
        self._asleep = 0
        self._threads = []

    def start_background_task(self, target, *args, **kwargs):
        def run():
            try:
                target(*args, **kwargs)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

        with self._cond:
            self._busy += 1
        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()
        return thread

    def sleep(self, seconds):
        with self._cond:
            generation = self._generation
            self._busy -= 1
            self._asleep += 1
            self._cond.notify_all()
            # tick() counts the sleepers it wakes as busy again, so settle() after tick()
            # cannot mistake "not yet woken" for "done".
            self._cond.wait_for(lambda: self._generation != generation)

    def tick(self):
        """End the current interval: every sleeping task wakes."""
        with self._cond:
            self._busy += self._asleep
            self._asleep = 0
            self._generation += 1
            self._cond.notify_all()

    @property
    def asleep(self):
        """How many tasks are waiting for the next tick."""
        with self._cond:
            return self._asleep

    def settle(self, timeout=30.0):
        """Wait until every task is asleep or finished (generous deadline: CI is loaded)."""
        with self._cond:
            assert self._cond.wait_for(lambda: self._busy == 0, timeout), "background tasks still busy"

    def close(self, timeout=30.0):
        """Wake the tasks until they end (their owner was stopped first)."""
        deadline = time.monotonic() + timeout
        while any(thread.is_alive() for thread in self._threads):
            assert time.monotonic() < deadline, "background tasks did not end"
            self.tick()
            for thread in self._threads:
                thread.join(timeout=0.05)


@pytest.fixture
def ticks(app):
    """The app's timed background work (leaderboard pushes, table betting windows) stepped by
    hand: ticks.tick() ends the current interval, ticks.settle() waits for the work it woke."""
    from imperioApp.realtime import stop_background_tasks
    from imperioApp.realtime.protocol import SCHEDULER

    manual = ManualScheduler()
    app.extensions[SCHEDULER] = manual
    yield manual
    stop_background_tasks(app)
    manual.close()  # table timers still pending settle now, before the tables are emptied
    del app.extensions[SCHEDULER]


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

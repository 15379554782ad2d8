"""Push windows: one coalescer for every "push this at most once per interval" stream of a process.

`open(key)` opens the key's window unless one is open in this process, in which case it only
marks the window changed. A background task waits the interval, then calls `push(key)` (in an
app context) once for everything that changed meanwhile. The window stays open for another
interval if a change arrived during the push, or if `push` returns true (a window shared
with other processes that says to go on); otherwise it closes. So a key is pushed at most once
per interval, carrying its state as of the push, and no change is left unpushed.

Leaderboards (whose windows are shared through `services.engagement.board_pushes`) and
tournament standings both push through one of these.
"""

import threading

from .protocol import scheduler


class PushCoalescer:
    """At most one `push(key)` per key per `interval` from this process, none lost (see the module)."""

    def __init__(self, app, interval, push):
        self.app = app
        self.interval = interval
        self._push = push
        self.stopped = False
        self._lock = threading.Lock()  # guards _windows and stopped
        # Held across the stopped check and the push, so that once stop() returns no task
        # emits again, not even one that had already woken up.
        self._pushing = threading.Lock()
        self._windows = {}  # key -> changed since the window's last push

    def stop(self):
        """Push no more: a push under way finishes, sleeping tasks exit when they wake."""
        with self._pushing, self._lock:
            self.stopped = True

    def open(self, key):
        """Open the key's window (one push at its end), or mark the open one changed."""
        with self._lock:
            if self.stopped:
                return
            if key in self._windows:
                self._windows[key] = True
                return
            self._windows[key] = False
        scheduler(self.app).start_background_task(self._run, key)

    def _run(self, key):
        while True:
            scheduler(self.app).sleep(self.interval)
            with self._pushing:
                with self._lock:
                    if self.stopped:
                        self._windows.pop(key, None)
                        return
                    self._windows[key] = False
                with self.app.app_context():
                    again = self._push(key)
                with self._lock:
                    if not (again or self._windows.get(key)):
                        self._windows.pop(key, None)
                        return

"""A connection pool that serves waiting requests in the order they arrived.

SQLAlchemy's QueuePool hands a returned connection to whoever asks next: the waiter it
wakes must still win the queue's lock, and under gevent the greenlet that returned the
connection (or a request that just arrived) usually asks first. Under saturation a few
requests then lose over and over and wait for seconds while the median stays low. Here a
returned connection goes straight to the longest-waiting request, so overload shows up as
an orderly line whose length is the wait.
"""

import threading
from collections import deque

from sqlalchemy.pool import QueuePool
from sqlalchemy.util import queue as sqla_queue


class _Waiter:
    __slots__ = ("ready", "item")

    def __init__(self):
        self.ready = threading.Event()
        self.item = None


class FairQueue(sqla_queue.Queue):
    """SQLAlchemy's pool queue with first-come, first-served hand-off to waiters."""

    def __init__(self, maxsize=0, use_lifo=False):
        super().__init__(maxsize, use_lifo)
        self._waiters = deque()

    def put(self, item, block=True, timeout=None):
        """Give `item` to the oldest waiter, or keep it (sqla_queue.Full when full and not blocking)."""
        with self.mutex:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.item = item
                waiter.ready.set()
                return
        super().put(item, block, timeout)

    def get(self, block=True, timeout=None):
        """The oldest kept item, or the next one returned once earlier waiters are served."""
        with self.mutex:
            if self._qsize() and not self._waiters:
                return self._get()
            if not block:
                raise sqla_queue.Empty
            waiter = _Waiter()
            self._waiters.append(waiter)
        if waiter.ready.wait(timeout):
            return waiter.item
        with self.mutex:
            if waiter.ready.is_set():  # served between the timeout and the lock
                return waiter.item
            self._waiters.remove(waiter)
        raise sqla_queue.Empty


class FairQueuePool(QueuePool):
    """QueuePool whose waiting checkouts are served in arrival order."""

    _queue_class = FairQueue

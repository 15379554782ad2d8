"""The database pool serves waiting requests in arrival order: no request is starved."""

import threading

import pytest
from sqlalchemy.util import queue as sqla_queue

from imperioApp.adapters.pool import FairQueue, FairQueuePool
from imperioApp.extensions import db

DEADLINE = 30  # seconds; generous for a loaded machine, reached only when the code is wrong


def waiters(queue):
    with queue.mutex:
        return len(queue._waiters)


def start_waiting(queue, got, name, expected):
    thread = threading.Thread(target=lambda: got.append((name, queue.get(True, DEADLINE))))
    thread.start()
    event = threading.Event()
    for _ in range(DEADLINE * 1000):
        if waiters(queue) == expected:
            break
        event.wait(0.001)
    assert waiters(queue) == expected
    return thread


def test_a_returned_connection_goes_to_the_longest_waiting_request():
    queue = FairQueue(2)
    got = []
    first = start_waiting(queue, got, "first", 1)
    second = start_waiting(queue, got, "second", 2)
    queue.put("connection A")
    # A request arriving now finds nothing free: the connection is already the first waiter's.
    with pytest.raises(sqla_queue.Empty):
        queue.get(block=False)
    queue.put("connection B")
    first.join(DEADLINE), second.join(DEADLINE)
    assert sorted(got) == [("first", "connection A"), ("second", "connection B")]
    assert waiters(queue) == 0 and queue.qsize() == 0


def test_with_nobody_waiting_a_returned_connection_is_kept_for_the_next_request():
    queue = FairQueue(1)
    queue.put("connection")
    assert queue.qsize() == 1
    assert queue.get(block=False) == "connection"
    with pytest.raises(sqla_queue.Empty):
        queue.get(block=False)
    queue.put("connection")
    with pytest.raises(sqla_queue.Full):
        queue.put("one too many", block=False)


def test_a_request_that_gives_up_leaves_the_line():
    queue = FairQueue(1)
    with pytest.raises(sqla_queue.Empty):
        queue.get(True, 0.001)
    assert waiters(queue) == 0
    queue.put("connection")  # kept, not handed to the request that left
    assert queue.get(block=False) == "connection"


def test_the_app_pools_database_connections_fairly(app):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("SQLite keeps SQLAlchemy's own pool")
        assert isinstance(db.engine.pool, FairQueuePool)
        assert isinstance(db.engine.pool._pool, FairQueue)

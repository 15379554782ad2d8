"""Rounds that settle while a leaderboard write is under way go out together in the next one."""

import threading

import pytest

from imperioApp.services.engagement import board_pushes

DEADLINE = 30  # seconds; reached only when the code is wrong


class _Calls(list):
    hold = None
    entered = None


@pytest.fixture
def calls(monkeypatch):
    """Record every script call's writes; `calls.hold` makes the next call wait until released."""
    record = _Calls()

    def fake(writes):
        record.append(list(writes))
        hold, record.hold = record.hold, None
        if hold is not None:
            entered.set()
            assert hold.wait(DEADLINE)

    entered = threading.Event()
    record.entered = entered
    monkeypatch.setattr(board_pushes, "_score_and_mark", fake)
    return record


def test_a_round_alone_is_written_before_its_request_answers(app, calls):
    queue = board_pushes.RoundScoreQueue(app)
    queue.add([("games_played", "all", "all", 1, 1, 1)])
    assert calls == [[("games_played", "all", "all", 1, 1, 1)]]
    assert queue.wait_idle(0)


def test_rounds_settling_during_a_write_share_the_next_call_and_none_is_lost(app, calls):
    queue = board_pushes.RoundScoreQueue(app)
    release = threading.Event()
    calls.hold = release
    first = threading.Thread(target=queue.add, args=([("m", "p", "all", 1, 1, 10)],))
    first.start()
    assert calls.entered.wait(DEADLINE)  # the first round's write is under way
    for user in (2, 3, 4):
        queue.add([("m", "p", "all", user, 1, user)])  # queued: these return at once
    assert len(calls) == 1
    release.set()
    first.join(DEADLINE)
    assert board_pushes.flush(app) is True  # the app's own queue: nothing pending
    assert queue.wait_idle(DEADLINE)
    assert calls == [
        [("m", "p", "all", 1, 1, 10)],
        [("m", "p", "all", 2, 1, 2), ("m", "p", "all", 3, 1, 3), ("m", "p", "all", 4, 1, 4)],
    ]


def test_a_request_writes_two_batches_at_most_and_a_background_writer_finishes(app, calls, monkeypatch):
    queue = board_pushes.RoundScoreQueue(app)
    writers = []
    original = board_pushes.RoundScoreQueue._write_in_background

    def counted(self):
        writers.append(threading.current_thread().name)
        original(self)

    monkeypatch.setattr(board_pushes.RoundScoreQueue, "_write_in_background", counted)
    seen = []

    def fake(writes):
        seen.append(list(writes))
        if len(seen) <= 2:  # rounds keep arriving while this request writes
            queue._pending.append([("m", "p", "all", 100 + len(seen), 1, 1)])

    monkeypatch.setattr(board_pushes, "_score_and_mark", fake)
    queue.add([("m", "p", "all", 1, 1, 1)])
    assert queue.wait_idle(DEADLINE)
    assert writers == ["round-score-writer"]
    assert [write[3] for batch in seen for write in batch] == [1, 101, 102]


def test_the_rounds_queued_behind_a_failing_write_are_still_written(app, monkeypatch):
    queue = board_pushes.RoundScoreQueue(app)
    seen = []

    def fake(writes):
        seen.append(list(writes))
        if len(seen) == 1:
            queue._pending.append([("m", "p", "all", 2, 1, 2)])  # settled during the write
            raise RuntimeError("index write broke")

    monkeypatch.setattr(board_pushes, "_score_and_mark", fake)
    with pytest.raises(RuntimeError):
        queue.add([("m", "p", "all", 1, 1, 1)])
    assert queue.wait_idle(DEADLINE)
    assert seen == [[("m", "p", "all", 1, 1, 1)], [("m", "p", "all", 2, 1, 2)]]
    queue.add([("m", "p", "all", 3, 1, 3)])  # released: the next round writes at once
    assert seen[-1] == [("m", "p", "all", 3, 1, 3)]


class _Linger:
    """An injected sleep: each linger waits until the test lets it end."""

    def __init__(self):
        self.waiting = threading.Semaphore(0)  # released once per linger started
        self.go = threading.Semaphore(0)

    def __call__(self, seconds):
        assert seconds == 0.05
        self.waiting.release()
        assert self.go.acquire(timeout=DEADLINE)

    def end_one(self):
        assert self.waiting.acquire(timeout=DEADLINE)
        self.go.release()


def test_with_a_linger_the_rounds_of_one_interval_share_one_call_after_their_requests(app, calls):
    linger = _Linger()
    queue = board_pushes.RoundScoreQueue(app, linger=0.05, sleep=linger)
    queue.add([("m", "p", "all", 1, 1, 10)])
    queue.add([("m", "p", "all", 2, 1, 20), ("n", "p", "all", 2, 1, 5)])
    queue.add([("m", "p", "all", 1, 2, 12)])  # the same player again: only the newest goes
    assert calls == []  # the requests answered before anything was written
    linger.end_one()
    assert queue.wait_idle(DEADLINE)
    assert calls == [[("m", "p", "all", 1, 2, 12), ("m", "p", "all", 2, 1, 20), ("n", "p", "all", 2, 1, 5)]]
    assert board_pushes.flush(app) is True


def test_with_a_linger_a_failing_call_does_not_stop_the_writes_after_it(app, monkeypatch):
    linger = _Linger()
    queue = board_pushes.RoundScoreQueue(app, linger=0.05, sleep=linger)
    seen = []

    def fake(writes):
        seen.append(list(writes))
        if len(seen) == 1:
            queue.add([("m", "p", "all", 2, 1, 2)])  # settled during the write
            raise RuntimeError("index write broke")

    monkeypatch.setattr(board_pushes, "_score_and_mark", fake)
    queue.add([("m", "p", "all", 1, 1, 1)])
    linger.end_one()  # the first call fails
    linger.end_one()  # the round that settled meanwhile goes in the next
    assert queue.wait_idle(DEADLINE)
    assert seen == [[("m", "p", "all", 1, 1, 1)], [("m", "p", "all", 2, 1, 2)]]
    queue.add([("m", "p", "all", 3, 1, 3)])  # a new interval starts a new writer
    linger.end_one()
    assert queue.wait_idle(DEADLINE)
    assert seen[-1] == [("m", "p", "all", 3, 1, 3)]

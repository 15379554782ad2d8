"""The one push coalescer behind leaderboard and tournament pushes: one push per window, none lost."""

import threading

from imperioApp.realtime.coalescing import PushCoalescer

from .helpers import end_interval


def test_changes_in_a_window_are_pushed_once_and_a_change_during_the_push_gets_one_more(app, ticks):
    pushed, during = [], threading.Event()
    coalescer = None

    def push(key):
        pushed.append(key)
        if during.is_set():
            during.clear()
            coalescer.open(key)  # a change that lands while the push reads
        return False

    coalescer = PushCoalescer(app, 1.0, push)
    for _ in range(5):
        coalescer.open("a")
    coalescer.open("b")
    ticks.settle()
    assert ticks.asleep == 2  # one window per key
    end_interval(ticks)
    assert sorted(pushed) == ["a", "b"] and ticks.asleep == 0
    coalescer.open("a")
    during.set()
    end_interval(ticks)
    assert pushed[2:] == ["a"] and ticks.asleep == 1  # still open: the change during the push
    end_interval(ticks)
    assert pushed[2:] == ["a", "a"] and ticks.asleep == 0


def test_a_push_that_says_go_on_keeps_the_window_open_and_stop_ends_it(app, ticks):
    pushed = []
    coalescer = PushCoalescer(app, 1.0, lambda key: pushed.append(key) or len(pushed) < 2)
    coalescer.open("board")
    end_interval(ticks)
    end_interval(ticks)
    assert pushed == ["board", "board"] and ticks.asleep == 0
    coalescer.open("board")
    ticks.settle()
    coalescer.stop()
    end_interval(ticks)
    coalescer.open("board")
    assert pushed == ["board", "board"] and ticks.asleep == 0

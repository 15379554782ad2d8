"""Race one callable in many real threads, each with its own app context and connection; wait,
with a deadline, for what another thread or process does."""

import threading
import time

from imperioApp.extensions import db


def race(app, count, call):
    """Run `call()` in `count` threads released together; return each result or raised exception."""
    barrier = threading.Barrier(count)
    results, lock = [], threading.Lock()

    def run():
        with app.app_context():
            barrier.wait()
            try:
                result = call()
            except Exception as exc:  # returned, so the test's assertion shows it
                result = exc
            finally:
                db.session.remove()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == count, "a racing thread did not finish"
    return results


def wait_for(check, deadline_seconds):
    """Poll `check()` until it is truthy or `deadline_seconds` pass; return its last result."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)

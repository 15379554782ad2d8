"""Transaction boundaries for services, and work deferred until after commit."""

from contextlib import contextmanager

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from ...adapters import driver
from ...extensions import db

log = structlog.get_logger(__name__)

_DEPTH = "atomic_depth"
_AFTER_COMMIT = "after_commit_callbacks"


@contextmanager
def atomic():
    """Run the block in one database transaction; nested blocks join the outermost one."""
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
    except BaseException:
        if depth == 0:
            _roll_back(session)
        raise
    else:
        if depth == 0:
            _commit(session)  # rolls back itself if the commit fails
    finally:
        session.info[_DEPTH] = depth


def _commit(session):
    # A transaction the driver started and the session never joined (a round's usual case)
    # has no session bookkeeping to end: COMMIT, return the connection, run the callbacks.
    joined = session.in_transaction()
    try:
        if joined:
            session.flush()  # the session's pending writes belong before the COMMIT
        driver.finish(session, commit=True)
        if joined:
            session.commit()
    except BaseException:
        _roll_back(session)
        raise
    driver.release(session)
    if not joined:
        _run_after_commit(session)


def _roll_back(session):
    try:
        driver.finish(session, commit=False)
    finally:
        try:
            session.rollback()
        finally:
            session.info.pop(_AFTER_COMMIT, None)
            driver.release(session)


def in_transaction():
    """True inside an `atomic()` block."""
    return db.session().info.get(_DEPTH, 0) > 0


def after_commit(callback):
    """Call `callback()` once the current transaction commits; dropped if it rolls back."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session):
    callbacks = session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a subscriber's failure never undoes a committed round
            log.exception("after_commit_callback_failed")


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)

"""Prebuilt SQL run on the database driver directly: the settlement hot path only.

Building and executing a statement through SQLAlchemy costs more CPU than the database
spends on it, so the few statements every round runs are compiled once per dialect and
sent through the DBAPI cursor of the session's own connection (same transaction).

On PostgreSQL the first statement of a transaction also opens it: the connection runs in
autocommit mode for the block and the statement goes out as `BEGIN; <statement>` in one
round trip (psycopg2 would otherwise send its own BEGIN first); `unit_of_work.atomic`
sends the COMMIT or ROLLBACK when the outermost block ends.
"""

import json
from datetime import timezone

from sqlalchemy.dialects import postgresql, sqlite

DIALECTS = {"postgresql": postgresql.psycopg2.dialect(), "sqlite": sqlite.dialect(paramstyle="named")}
BEGUN = "driver_begun"  # session.info: the DBAPI connection whose transaction we opened

# Observers of every statement sent here (the query-budget tests count them); none in production.
listeners = []


def compile_for(statement, dialect_name):
    """(SQL text, the values of its constant parameters) of a Core statement for a dialect's driver."""
    compiled = statement.compile(dialect=DIALECTS[dialect_name])
    return str(compiled), {name: value for name, value in compiled.params.items() if value is not None}


def placeholder(dialect_name, name):
    """How a named parameter is written in the dialect's driver SQL."""
    return f"%({name})s" if dialect_name == "postgresql" else f":{name}"


class Prebuilt:
    """One statement's SQL per dialect, from a Core statement or from text per dialect."""

    def __init__(self, statement=None, **sql):
        self._sql = {name: (text, {}) for name, text in sql.items()}
        if statement is not None:
            for name in DIALECTS:
                self._sql.setdefault(name, compile_for(statement, name))

    def sql(self, dialect_name):
        """The SQL for `dialect_name`."""
        return self._sql[dialect_name][0]

    def params(self, dialect_name, params):
        """`params` completed with the statement's own constants."""
        constants = self._sql[dialect_name][1]
        return {**constants, **params} if constants else params


def dialect_of(session):
    """The name of the dialect the session talks to."""
    return session.get_bind().dialect.name


def execute(session, prebuilt, params):
    """Run a Prebuilt on the session's connection; return the DBAPI cursor."""
    connection = session.connection()
    dbapi = connection.connection.dbapi_connection
    dialect_name = connection.dialect.name
    sql = prebuilt.sql(dialect_name)
    params = prebuilt.params(dialect_name, params)
    if dialect_name == "postgresql" and _opens_transaction(session, dbapi):
        sql = "BEGIN; " + sql
    cursor = dbapi.cursor()
    for listener in listeners:
        listener(sql)
    try:
        cursor.execute(sql, params)
    except Exception:
        if getattr(dbapi, "closed", False):
            # The server went away: discard this connection and the pool's others (opened
            # before the failure, so likely dead too); later checkouts reconnect. SQLAlchemy
            # does the same for the statements it runs itself.
            session.info.pop(BEGUN, None)
            connection.invalidate()
            connection.engine.dispose(close=False)
        raise
    return cursor


def _opens_transaction(session, dbapi):
    # psycopg2 reports STATUS_READY (1) until it has sent its own BEGIN.
    if session.info.get(BEGUN) is dbapi or dbapi.autocommit or dbapi.status != 1:
        return False
    dbapi.autocommit = True
    session.info[BEGUN] = dbapi
    return True


def finish(session, commit):
    """End a transaction `execute` opened (COMMIT or ROLLBACK); a no-op otherwise."""
    dbapi = session.info.pop(BEGUN, None)
    if dbapi is None:
        return
    try:
        if not dbapi.closed:
            statement = "COMMIT" if commit else "ROLLBACK"
            for listener in listeners:
                listener(statement)
            dbapi.cursor().execute(statement)
    finally:
        if not dbapi.closed:
            dbapi.autocommit = False


def json_value(value):
    """A JSON column's value as the driver returned it (psycopg2 decodes JSON, sqlite3 returns text)."""
    return json.loads(value) if isinstance(value, str) else value


def timestamp(dialect_name, moment):
    """A UTC datetime as the dialect's column stores it (SQLite: naive text, as SQLAlchemy writes it)."""
    if moment is None or dialect_name != "sqlite":
        return moment
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")

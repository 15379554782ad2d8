"""Prebuilt SQL run on the database driver directly: the settlement hot path only.

Building and executing a statement through SQLAlchemy costs more CPU than the database
spends on it, so the few statements every round runs are compiled once per dialect and
sent through the DBAPI cursor of the session's own connection (same transaction).

On PostgreSQL the first statement of a transaction also opens it: the connection runs in
autocommit mode for the block and the statement goes out as `BEGIN; <statement>` in one
round trip (psycopg2 would otherwise send its own BEGIN first); `unit_of_work.atomic`
sends the COMMIT or ROLLBACK when the outermost block ends.

On PostgreSQL the hottest statements are also server-side prepared statements: parsing
and planning the settlement CTE cost the server about as much as running it. Each pooled
connection PREPAREs a statement the first time it runs it (one extra round trip, once per
connection) and then sends only `EXECUTE name (values)`. Prepared statements belong to the
database session and survive ROLLBACK; a reconnected connection starts with none, because
the pool clears a connection's `info` when it replaces the connection. Behind a pooler in
transaction mode (PgBouncer) a session is not one server connection: a statement prepared
in one transaction may be missing in the next, so with DB_PREPARED_STATEMENTS=0 the
statements go out as plain SQL (`unprepared`, set per connection by `create_app`).

On PostgreSQL a transaction that starts on the driver takes its connection from the pool
itself (`Held`), not through the SQLAlchemy session: the session's transaction, connection
and commit bookkeeping had cost a round about as much CPU as one of its round trips. If
code inside the same transaction then uses the session, `DriverAwareSession` binds the
session to that very connection (wrapped once in a SQLAlchemy `Connection`), so ORM and
driver statements always share one transaction. `unit_of_work.atomic` ends both.
"""

import hashlib
import re
from datetime import date, datetime, timezone

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .. import json_codec
from ..speedups.db_sessions import LeanCloseSession

DIALECTS = {"postgresql": postgresql.psycopg2.dialect(), "sqlite": sqlite.dialect(paramstyle="named")}
BEGUN = "driver_begun"  # session.info: the DBAPI connection whose transaction we opened
HELD = "driver_held"  # session.info: the Held connection of a transaction the driver started

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
    """One statement's SQL per dialect, from a Core statement or from text per dialect.

    `prepared`: on PostgreSQL, run it as a server-side prepared statement; the value maps
    the parameters that may be None to their SQL types (the others take the type of the
    value they first arrive with: bigint, text, boolean, timestamptz, date).
    """

    def __init__(self, statement=None, *, prepared=None, **sql):
        self._sql = {name: (text, {}) for name, text in sql.items()}
        if statement is not None:
            for name in DIALECTS:
                self._sql.setdefault(name, compile_for(statement, name))
        self._prepared = None
        if prepared is not None and "postgresql" in self._sql:
            self._prepared = _PreparedForm(self._sql["postgresql"][0], prepared)

    def sql(self, dialect_name):
        """The SQL for `dialect_name`."""
        return self._sql[dialect_name][0]

    def params(self, dialect_name, params):
        """`params` completed with the statement's own constants."""
        constants = self._sql[dialect_name][1]
        return {**constants, **params} if constants else params


def dialect_of(session):
    """The name of the dialect the session talks to."""
    held = session.info.get(HELD)
    return (held.engine if held is not None else session.get_bind()).dialect.name


class Held:
    """A pooled connection the driver checked out for one transaction, outside the session."""

    __slots__ = ("engine", "fairy", "wrapped")

    def __init__(self, engine):
        self.engine = engine
        self.fairy = engine.pool.connect()
        self.wrapped = None  # the SQLAlchemy Connection, once the session needs one

    @property
    def dbapi(self):
        """The DBAPI connection."""
        return self.fairy.dbapi_connection

    def connection(self):
        """The SQLAlchemy Connection over this pooled connection (made once)."""
        if self.wrapped is None:
            self.wrapped = Connection(self.engine, connection=self.fairy)
        return self.wrapped

    def invalidate(self):
        """Discard the connection (the server went away); the pool reconnects later."""
        (self.wrapped or self.fairy).invalidate()

    def release(self):
        """Return the connection to the pool (or discard it, if the server went away)."""
        dbapi = self.fairy.dbapi_connection
        if dbapi is None or getattr(dbapi, "closed", False):
            self.invalidate()
        else:
            (self.wrapped or self.fairy).close()


class DriverAwareSession(LeanCloseSession):
    """The app's session: inside a transaction the driver started, it runs on that connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        held = self.info.get(HELD)
        if held is not None and bind is None:
            return held.connection()
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    def close(self):
        """Close; a driver transaction still open (a block that never ended) is rolled back first."""
        # In autocommit mode the pool's reset on return would leave the BEGIN we sent open.
        if BEGUN in self.info:
            finish(self, commit=False)
        release(self)
        super().close()


def use_driver_sessions(db):
    """Make the sessions of `db` (Flask-SQLAlchemy) `DriverAwareSession`s; `create_app` calls it first."""
    factory = db.session.session_factory
    if not issubclass(factory.class_, DriverAwareSession):
        # As sessionmaker does with the class it is given: its own subclass.
        factory.class_ = type(DriverAwareSession.__name__, (DriverAwareSession,), {})


def _hold(session):
    """(DBAPI connection, its pool record's info, dialect name, Held or None) for the session's transaction."""
    held = session.info.get(HELD)
    if held is None and not session.in_transaction():
        engine = session.get_bind()
        if engine.dialect.name == "postgresql":
            held = session.info[HELD] = Held(engine)
    if held is not None:
        return held.dbapi, held.fairy.info, held.engine.dialect.name, held
    connection = session.connection()
    return connection.connection.dbapi_connection, connection.connection.info, connection.dialect.name, None


def release(session):
    """Return the connection a driver transaction held (after `finish` and the session's own end)."""
    held = session.info.pop(HELD, None)
    if held is not None:
        held.release()


_SQL_TYPES = {bool: "boolean", int: "bigint", str: "text", datetime: "timestamptz", date: "date"}


class _PreparedForm:
    """A PostgreSQL statement as `PREPARE name (types) AS ...` and `EXECUTE name (values)`."""

    def __init__(self, sql, nullable_types):
        self.names = []

        def number(match):
            if match.group(1) not in self.names:
                self.names.append(match.group(1))
            return f"${self.names.index(match.group(1)) + 1}"

        # Sent with no parameters, so psycopg2's %% escape becomes a plain %.
        self.body = re.sub(r"%\((\w+)\)s", number, sql).replace("%%", "%")
        self.name = "imperio_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
        self.nullable_types = nullable_types
        self.sql = f"EXECUTE {self.name} ({', '.join(['%s'] * len(self.names))})" if self.names else f"EXECUTE {self.name}"

    def values(self, params):
        """The statement's parameters in `$n` order."""
        return tuple(params[name] for name in self.names)

    def prepare_sql(self, params):
        """The PREPARE statement, its parameter types taken from `params`."""
        types = []
        for name in self.names:
            value = params[name]
            if value is None:
                if name not in self.nullable_types:
                    raise TypeError(f"prepared parameter {name!r} is None and has no declared type")
                types.append(self.nullable_types[name])
            else:
                types.append(self.nullable_types.get(name) or _SQL_TYPES[type(value)])
        return f"PREPARE {self.name} ({', '.join(types)}) AS {self.body}" if types else f"PREPARE {self.name} AS {self.body}"


PREPARED = "imperio_prepared"  # connection info: names of the statements prepared on it
UNPREPARED = "imperio_unprepared"  # connection info: never prepare on this connection


def unprepared(engine):
    """Send this engine's statements unprepared: its connections go through a transaction pooler."""

    @event.listens_for(engine, "connect")
    def _mark(dbapi_connection, connection_record):
        connection_record.info[UNPREPARED] = True


def _ensure_prepared(info, dbapi, form, params):
    prepared = info.setdefault(PREPARED, set())
    if form.name in prepared:
        return
    sql = form.prepare_sql(params)
    for listener in listeners:
        listener(sql)
    dbapi.cursor().execute(sql)
    prepared.add(form.name)


def execute(session, prebuilt, params):
    """Run a Prebuilt on the session's connection; return the DBAPI cursor."""
    dbapi, info, dialect_name, held = _hold(session)
    sql = prebuilt.sql(dialect_name)
    params = prebuilt.params(dialect_name, params)
    cursor = dbapi.cursor()
    try:
        if dialect_name == "postgresql":
            opening = _opens_transaction(session, dbapi)
            form = prebuilt._prepared
            if form is not None and not info.get(UNPREPARED):
                # Before the BEGIN when this statement opens the transaction: a PREPARE
                # outside it cannot leave the transaction aborted.
                _ensure_prepared(info, dbapi, form, params)
                sql, params = form.sql, form.values(params)
            if opening:
                sql = "BEGIN; " + sql
        for listener in listeners:
            listener(sql)
        cursor.execute(sql, params)
    except Exception:
        if getattr(dbapi, "closed", False):
            # The server went away: discard this connection and the pool's others (opened
            # before the failure, so likely dead too); later checkouts reconnect. SQLAlchemy
            # does the same for the statements it runs itself.
            session.info.pop(BEGUN, None)
            if held is not None:
                session.info.pop(HELD, None)
                held.invalidate()
                held.engine.dispose(close=False)
            else:
                connection = session.connection()
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
    return json_codec.loads(value) if isinstance(value, str) else value


def timestamp(dialect_name, moment):
    """A UTC datetime as the dialect's column stores it (SQLite: naive text, as SQLAlchemy writes it)."""
    if moment is None or dialect_name != "sqlite":
        return moment
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")

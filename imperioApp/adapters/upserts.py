"""Prebuilt multi-row upserts for the settlement hot path: one statement, compiled once.

`INSERT .. SELECT <row> UNION ALL SELECT <row> .. ON CONFLICT (..) DO UPDATE .. RETURNING ..`
built once per dialect from row templates whose values are constants (rendered into the
SQL) or named parameters shared between rows. SQLAlchemy caches the compiled form of
this shape, so an execution only binds the few parameters that vary. The alternatives
cost more client CPU than the database spends on the statement: a multi-row VALUES
clause is never cached (it recompiles on every call), and executemany
("insertmanyvalues") rebuilds its VALUES clause and binds every value of every row.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, literal_column, select, text, true, union_all
from sqlalchemy.dialects import postgresql, sqlite

# Typed as the two dialects' inserts, which both have on_conflict_do_nothing/do_update.
DIALECT_INSERTS: dict[str, Callable[[Any], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def param(table, column, name=None):
    """A named parameter for `column` of `table` (several rows may share one name)."""
    return bindparam(name or column, type_=table.c[column].type)


def constant(table, column, value):
    """A constant for `column`, written into the SQL itself (our own values only: not escaped for input)."""
    text = f"'{value}'" if isinstance(value, str) else str(int(value))
    return literal_column(text, type_=None if table is None else table.c[column].type)


class Upsert:
    """An upsert of fixed rows, each mapping every column to param() or constant()."""

    def __init__(self, table, rows, conflict, set_, returning):
        # set_(old, new) returns the ON CONFLICT assignments: old is the table's columns,
        # new the incoming row (`excluded`).
        self._parts = (table, rows, conflict, set_, returning)
        self._statements = {name: self._build(insert, true()) for name, insert in DIALECT_INSERTS.items()}

    def _build(self, insert, condition):
        table, rows, conflict, set_, returning = self._parts
        columns = list(rows[0])
        # WHERE true: SQLite needs it to tell the upsert's ON CONFLICT from a join's ON.
        source = union_all(*(select(*(row[column].label(column) for column in columns)).where(condition) for row in rows))
        statement = insert(table).from_select(columns, source)
        return statement.on_conflict_do_update(
            index_elements=[table.c[column] for column in conflict],
            set_=set_(table.c, statement.excluded),
        ).returning(*returning)

    def execute(self, connection, params):
        """Run on `connection` with the named parameters; return the RETURNING rows."""
        return connection.execute(self._statements[connection.dialect.name], params).all()

    def guarded_sql(self, dialect_name, condition):
        """The driver SQL of this upsert with its rows inserted only where `condition` (SQL text) holds."""
        from . import driver

        sql, constants = driver.compile_for(self._build(DIALECT_INSERTS[dialect_name], text(condition)), dialect_name)
        # Our own constants (the SET clause's numbers and metric names), written into the SQL
        # so that the statement can be embedded in another one.
        for name, value in constants.items():
            sql = sql.replace(driver.placeholder(dialect_name, name), str(constant(None, None, value)))
        return sql

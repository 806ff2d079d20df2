"""Writing many rows at once: PostgreSQL's COPY, SQLite's executemany, plain Core elsewhere.

An INSERT with RETURNING for thousands of rows makes psycopg parse one enormous statement (most
of an import's time on PostgreSQL, measured by ``bench/import_ledger.py``). Instead the ids are
taken from the table's sequence first and the rows copied in with their ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import JSON, Connection, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """Return ``count`` new ids for rows of ``table``, to insert in this transaction.

    PostgreSQL hands them out from the id column's sequence, safe under any concurrency. SQLite
    has no sequence: the ids follow the largest one, which no one else can take meanwhile because
    SQLite admits one writer at a time (a concurrent writer makes this transaction fail, never
    share an id).
    """
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        return list(
            connection.scalars(
                text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": sequence, "n": count}
            )
        )
    start = connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    return list(range(start, start + count))


def insert_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts holding at least ``columns``) into ``table`` in the current transaction."""
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        _executemany(connection, table, columns, rows)
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), [{name: row[name] for name in columns} for row in rows])
        return
    as_json = {name for name in columns if isinstance(table.c[name].type, JSON)}
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in columns)
    statement = f"COPY {table.name} ({quoted}) FROM STDIN"
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[name], ensure_ascii=False) if name in as_json else row[name]
                        for name in columns
                    ]
                )
    except connection.dialect.loaded_dbapi.Error as error:
        # Raised as SQLAlchemy raises driver errors (IntegrityError, OperationalError, …).
        raise DBAPIError.instance(statement, None, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def _executemany(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """Insert with the driver's executemany, each value converted as SQLAlchemy would convert it.

    The column types' own bind processors (JSON, UTC timestamps, dates, booleans) are applied in
    one tight loop; SQLAlchemy's per-row bookkeeping of a Core executemany is skipped.
    """
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    convert = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    pairs = list(zip(columns, convert, strict=True))
    values = [tuple(f(row[name]) if f else row[name] for name, f in pairs) for row in rows]
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(statement, values)
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def insert_ignoring_conflicts(connection: Connection, table: Table, rows: Sequence[dict], returning=()):
    """Insert ``rows``, skipping any that would break a unique constraint; return the inserted ones.

    ``INSERT … ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite alike: a concurrent or repeated
    insert of the same key adds nothing and raises nothing. ``returning`` names columns to return
    for the rows actually inserted.
    """
    if not rows:
        return []
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(table).on_conflict_do_nothing()
    if not returning:
        connection.execute(statement, list(rows))
        return []
    statement = statement.returning(*(table.c[name] for name in returning))
    return connection.execute(statement, list(rows)).all()

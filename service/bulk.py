"""Writing many rows at once: PostgreSQL's COPY, SQLite's multi-row INSERT, plain Core elsewhere.

An INSERT with RETURNING for thousands of rows makes psycopg parse one enormous statement (most
of an import's time on PostgreSQL, measured by ``bench/import_ledger.py``). Instead the ids are
taken from the table's sequence first and the rows copied in with their ids.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import JSON, Connection, Executable, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import SingletonThreadPool, StaticPool


class EncodedJSON(str):
    """JSON data already encoded: a JSON column stores this text as it is, without encoding it again."""


class NewIds:
    """New ids for rows of ``table``, to insert in this transaction, handed out a batch at a time.

    PostgreSQL hands them out from the id column's sequence, safe under any concurrency. SQLite
    has no sequence: the ids follow the largest one, read once here, which no one else can take
    meanwhile because SQLite admits one writer at a time (a concurrent writer makes this
    transaction fail, never share an id). Reading it once lets rows still queued in
    :class:`BulkWrites` count as taken.
    """

    def __init__(self, connection: Connection, table: Table):
        self.connection = connection
        if connection.dialect.name == "postgresql":
            self._sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
            )
        else:
            self._sequence = None
            self._next = connection.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1

    def take(self, count: int) -> list[int]:
        """Return ``count`` new ids."""
        if count <= 0:
            return []
        if self._sequence is not None:
            statement = text("SELECT nextval(:s) FROM generate_series(1, :n)")
            return list(self.connection.scalars(statement, {"s": self._sequence, "n": count}))
        ids = list(range(self._next, self._next + count))
        self._next += count
        return ids


def insert_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts holding at least ``columns``) into ``table`` in the current transaction."""
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        for statement, values in _sqlite_inserts(connection, table, columns, rows):
            _execute_sqlite(connection, statement, values)
    elif connection.dialect.name == "postgresql":
        with _checks_planned_once(connection):
            _copy(connection, table, columns, rows)
    else:
        connection.execute(insert(table), [{name: _decoded(row[name]) for name in columns} for row in rows])


class BulkWrites:
    """The bulk statements of one transaction, run in the order given: on SQLite, on a second thread.

    An import spends about as long preparing rows in Python (converting values, hashing events)
    as SQLite spends inserting them, and SQLite lets go of the GIL while it executes a statement:
    a second thread executing each multi-row INSERT while this one prepares the next overlaps the
    two (``bench/import_ledger.py``). On PostgreSQL the server already works in its own process;
    the statements run at once, in the caller's thread.

    The statements run on ``connection``: the caller must not use it (nor its session) until
    :meth:`drain` or :meth:`finish` has returned. After a statement fails, none after it runs and
    the failure is raised to the caller, by the next :meth:`insert` or :meth:`execute` or by
    :meth:`drain` or :meth:`finish`. Use it through :func:`bulk_writes`.
    """

    def __init__(self, connection: Connection):
        self.connection = connection
        self._failure: BaseException | None = None
        self._worker = None
        if _may_use_a_thread(connection):
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writes")

    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[dict]) -> None:
        """Insert ``rows`` as :func:`insert_rows` does."""
        if self._worker is None:
            insert_rows(self.connection, table, columns, rows)
            return
        for statement, values in _sqlite_inserts(self.connection, table, columns, rows):
            self._submit(_execute_sqlite, self.connection, statement, values)

    def execute(self, statement: Executable, parameters: list[dict]) -> None:
        """Execute a Core statement once per set of ``parameters``."""
        if self._worker is None:
            self.connection.execute(statement, parameters)
            return
        self._submit(self.connection.execute, statement, parameters)

    def drain(self) -> None:
        """Wait until every statement so far has run, so the caller may use the connection meanwhile.

        Raises the first failure. Statements handed over afterwards run as before.
        """
        if self._worker is not None:
            self._worker.submit(_nothing).result()
        self._raise_failure()

    def finish(self) -> None:
        """Wait until every statement has run; raise the first failure."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
        self._raise_failure()

    def abandon(self) -> None:
        """Run nothing more and wait for the statement under way (the caller is rolling back)."""
        if self._worker is not None:
            self._failure = self._failure or _Abandoned()
            self._worker.shutdown(wait=True, cancel_futures=True)

    def _submit(self, call, *args) -> None:
        self._raise_failure()
        self._worker.submit(self._run, call, args)

    def _run(self, call, args) -> None:
        if self._failure is not None:
            return
        try:
            call(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self._failure = exc

    def _raise_failure(self) -> None:
        if self._failure is not None and not isinstance(self._failure, _Abandoned):
            raise self._failure


def _nothing() -> None:
    pass


class _Abandoned(Exception):
    """Marks writes the caller gave up on."""


@contextmanager
def bulk_writes(connection: Connection) -> Iterator[BulkWrites]:
    """Yield a :class:`BulkWrites` on ``connection``, and give the connection back on leaving.

    Leaving waits for the statements to finish; leaving on an error drops those not yet run.
    """
    writes = BulkWrites(connection)
    try:
        yield writes
        writes.finish()
    except BaseException:
        # Also when the wait itself is interrupted (Ctrl-C): nothing queued may run after the
        # caller's rollback, where SQLite would commit it on its own.
        writes.abandon()
        raise


def _may_use_a_thread(connection: Connection) -> bool:
    """Whether the statements may run on a second thread: SQLite, in a file.

    An in-memory database's connection belongs to the thread that opened it (its pool keeps one
    per thread, and the driver refuses any other).
    """
    pool = connection.engine.pool
    return connection.dialect.name == "sqlite" and not isinstance(pool, SingletonThreadPool | StaticPool)


@contextmanager
def _checks_planned_once(connection: Connection) -> Iterator[None]:
    """Let PostgreSQL plan a foreign key's check once for the statement inside, not once per row.

    The engine has PostgreSQL plan every statement for its own parameters
    (``plan_cache_mode=force_custom_plan``, :func:`service.db.make_engine`). A foreign key's check
    is a statement too, run for each row inserted, so under that setting it is planned again for
    every row: copying a planned reminder day's 275,000 items took 11.6 s instead of 3.4 s
    (docs/benchmarks.md). Its plan, a primary-key lookup, is the same for every row, so the bulk
    statements run under the server's default, and the caller's setting is put back after them.
    A failure leaves it to the transaction's end, which puts back what ``SET LOCAL`` changed.
    """
    previous = connection.scalar(text("SELECT current_setting('plan_cache_mode')"))
    connection.execute(text("SET LOCAL plan_cache_mode = auto"))
    yield
    connection.execute(text("SELECT set_config('plan_cache_mode', :previous, true)"), {"previous": previous})


def _copy(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict]) -> None:
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in columns)
    if not connection.scalar(text("SELECT row_security_active(:t)"), {"t": table.name}):
        _copy_into(connection, table.name, table, columns, quoted, rows)
        return
    # PostgreSQL refuses COPY FROM into a table whose row-level security applies to the role
    # (service/rls.py: the web and jobs roles): the rows are copied into a temporary table of the
    # same columns, then inserted from it in one statement, which the policies check row by row.
    # Every name is the model's own, quoted: no input reaches these statements but the rows, copied.
    target = connection.dialect.identifier_preparer.quote(table.name)
    staging = f"bulk_{table.name}"
    quoted_staging = connection.dialect.identifier_preparer.quote(staging)
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {quoted_staging} ON COMMIT DROP "
        f"AS SELECT {quoted} FROM {target} WITH NO DATA"  # nosec B608 # quoted model names
    )
    _copy_into(connection, staging, table, columns, quoted, rows)
    connection.exec_driver_sql(
        f"INSERT INTO {target} ({quoted}) SELECT {quoted} FROM {quoted_staging}"  # nosec B608 # quoted names
    )
    connection.exec_driver_sql(f"DROP TABLE {quoted_staging}")


def _copy_into(connection: Connection, target: str, table: Table, columns, quoted: str, rows) -> None:
    as_json = {name for name in columns if isinstance(table.c[name].type, JSON)}
    statement = f'COPY "{target}" ({quoted}) FROM STDIN'
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([_json_text(row[name]) if name in as_json else row[name] for name in columns])
    except connection.dialect.loaded_dbapi.Error as error:
        # Raised as SQLAlchemy raises driver errors (IntegrityError, OperationalError, …).
        raise DBAPIError.instance(statement, None, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


#: SQLite's default cap on a statement's parameters (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
SQLITE_MAX_PARAMETERS = 32766
#: Distinct values remembered per column while converting (dates and flags repeat down a ledger).
MEMO_LIMIT = 10_000


def _sqlite_inserts(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[dict]
) -> Iterator[tuple[str, list]]:
    """Yield multi-row ``INSERT … VALUES (…), (…), …`` statements and their values.

    One statement carries as many rows as SQLite's parameter limit allows (about 960 of 34
    columns): SQLite inserts them in one step, a third faster than the driver's executemany
    stepping row by row. The values are converted as SQLAlchemy would, by the column types' own
    bind processors (JSON, UTC timestamps, dates, booleans), each distinct value once; SQLAlchemy's
    per-row bookkeeping of a Core executemany is skipped.
    """
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    limit = connection.connection.dbapi_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per_statement = max(1, min(limit, SQLITE_MAX_PARAMETERS) // len(columns))
    names = ", ".join(quote(c) for c in columns)
    head = f"INSERT INTO {quote(table.name)} ({names}) VALUES "  # nosec B608 # quoted names; values are ? parameters
    placeholders = f"({', '.join('?' for _ in columns)})"
    converting = [
        (index, process, None if isinstance(table.c[name].type, JSON) else {})
        for index, name in enumerate(columns)
        if (process := _bind_processor(table.c[name], dialect)) is not None
    ]
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values: list = []
        for row in chunk:
            cells = [row[name] for name in columns]
            for index, process, memo in converting:
                cells[index] = _converted(cells[index], process, memo)
            values += cells
        yield head + ", ".join([placeholders] * len(chunk)), values


def _converted(value, process, memo: dict | None):
    """Return ``process(value)``, remembered in ``memo`` (when given) for the next equal value.

    Equal datetimes in different zones are the same instant but not the same wall-clock time,
    which is what a column without zones stores: their zone is part of what is remembered.
    """
    if memo is None:
        return process(value)
    key = (value, value.tzinfo) if value.__class__ is datetime else value
    try:
        return memo[key]
    except KeyError:
        result = process(value)
        if len(memo) < MEMO_LIMIT:
            memo[key] = result
        return result
    except TypeError:  # an unhashable value
        return process(value)


def _execute_sqlite(connection: Connection, statement: str, values: list) -> None:
    dialect = connection.dialect
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(statement, values)
    except dialect.loaded_dbapi.Error as error:
        # Raised as SQLAlchemy raises driver errors (IntegrityError, OperationalError, …), with
        # the statement cut short: its thousand rows of placeholders would fill the log.
        shown = statement if len(statement) <= 300 else f"{statement[:300]} … ({len(values)} values)"
        raise DBAPIError.instance(shown, None, error, dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def _json_text(value) -> str:
    return value if value.__class__ is EncodedJSON else json.dumps(value, ensure_ascii=False)


def _decoded(value):
    return json.loads(value) if value.__class__ is EncodedJSON else value


def _bind_processor(column, dialect):
    """Return how SQLAlchemy converts a value for ``column``, keeping :class:`EncodedJSON` as it is."""
    process = column.type._cached_bind_processor(dialect)
    if process is None or not isinstance(column.type, JSON):
        return process
    return lambda value: value if value.__class__ is EncodedJSON else process(value)


def upsert_insert(dialect_name: str):
    """Return the dialect's ``insert`` that knows ``ON CONFLICT`` (PostgreSQL's, else SQLite's)."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_ignoring_conflicts(connection: Connection, table: Table, rows: Sequence[dict], returning=()):
    """Insert ``rows``, skipping any that would break a unique constraint; return the inserted ones.

    ``INSERT … ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite alike: a concurrent or repeated
    insert of the same key adds nothing and raises nothing. ``returning`` names columns to return
    for the rows actually inserted.
    """
    if not rows:
        return []
    if connection.dialect.name == "postgresql" and len(rows) > 1 and _no_python_defaults_left(table, rows[0]):
        return _insert_recordset_ignoring_conflicts(connection, table, rows, returning)
    statement = upsert_insert(connection.dialect.name)(table).on_conflict_do_nothing()
    if not returning:
        connection.execute(statement, list(rows))
        return []
    statement = statement.returning(*(table.c[name] for name in returning))
    return connection.execute(statement, list(rows)).all()


def _no_python_defaults_left(table: Table, row: dict) -> bool:
    """Whether every column ``row`` leaves out is one the database fills (or leaves NULL) by itself.

    SQLAlchemy computes a column's Python-side default for a row that omits it; a statement of
    our own text would not.
    """
    return all(column.name in row or column.default is None for column in table.columns)


def _insert_recordset_ignoring_conflicts(
    connection: Connection, table: Table, rows: Sequence[dict], returning
) -> list:
    """PostgreSQL: the rows as one JSON parameter of a statement whose text never changes.

    SQLAlchemy writes many rows as one ``VALUES`` list of a placeholder per value, a new text for
    each number of rows, which psycopg parses anew every time (a planned reminder day spent 4 of its
    5 s inserting 30,000 notifications there). ``json_populate_recordset`` gives PostgreSQL the rows
    typed by the table itself; the statement is parsed once and prepared.
    """
    preparer = connection.dialect.identifier_preparer
    names = [name for name in rows[0] if name in table.c]
    columns = ", ".join(preparer.quote(name) for name in names)
    statement = (
        f"INSERT INTO {preparer.format_table(table)} ({columns}) "  # nosec B608 # names from the model
        f"SELECT {columns} FROM json_populate_recordset(NULL::{preparer.format_table(table)}, :rows) "
        "ON CONFLICT DO NOTHING"
    )
    if returning:
        statement += " RETURNING " + ", ".join(preparer.quote(name) for name in returning)
    payload = json.dumps(
        [{name: row[name] for name in names} for row in rows],
        ensure_ascii=False,
        default=_json_scalar,
    )
    with _checks_planned_once(connection):
        result = connection.execute(text(statement), {"rows": payload})
        return result.all() if returning else []


def _json_scalar(value):
    """Dates and times as ISO text, which PostgreSQL reads back into the column's type."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")

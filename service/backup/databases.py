"""Dumping and restoring the database: SQLite through its online backup API, PostgreSQL through pg_dump.

PostgreSQL's tools come from the machine (Debian: ``apt-get install postgresql-client``): found on
``PATH``, else in the newest ``/usr/lib/postgresql/*/bin``. pg_dump must be at least as new as the
server. The connection is handed to them as a libpq connection string without the password, which
travels in ``PGPASSWORD``: a password in the arguments would show in ``ps``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # pg_dump and pg_restore, argument lists, no shell
from contextlib import closing
from pathlib import Path

from psycopg.conninfo import make_conninfo
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from service.backup.archive import BackupError
from service.db import normalise_url

log = logging.getLogger(__name__)

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def kind_of(url: str) -> str:
    """Return ``sqlite`` or ``postgresql`` for a database URL; refuse any other."""
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported database {backend!r}: backups know SQLite and PostgreSQL")
    return backend


def safe_url(url: str) -> str:
    """Return ``url`` with its password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def migration_head(url: str) -> str | None:
    """Return the Alembic revision the database is at, or None when it has none."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


# SQLite


def sqlite_path(url: str) -> Path:
    """Return the database file of a SQLite URL; refuse an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{url!r} is not a SQLite database file")
    return Path(database)


def dump_sqlite(url: str, out: Path) -> None:
    """Copy the live SQLite database to ``out`` with the online backup API (a consistent snapshot)."""
    path = sqlite_path(url)
    if not path.is_file():
        raise BackupError(f"the database file {path} does not exist")
    with closing(sqlite3.connect(path, timeout=30)) as source, closing(sqlite3.connect(out)) as copy:
        source.backup(copy)
        # One self-contained file: the copy needs no -wal beside it.
        copy.execute("PRAGMA journal_mode = DELETE")


def sqlite_is_empty(url: str) -> bool:
    """Whether the SQLite target has no tables (or no file yet)."""
    path = sqlite_path(url)
    if not path.exists() or path.stat().st_size == 0:
        return True
    try:
        with closing(sqlite3.connect(path)) as connection:
            return connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an empty SQLite database ({exc})") from None


def restore_sqlite(dump: Path, url: str) -> None:
    """Copy the staged SQLite dump into the (empty) target database file."""
    path = sqlite_path(url)
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} of the target database does not exist")
    with closing(sqlite3.connect(dump)) as source, closing(sqlite3.connect(path)) as target:
        result = source.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"the archive's SQLite database fails its integrity check: {result}")
        source.backup(target)


# PostgreSQL


def find_pg_tool(name: str) -> str:
    """Return the path of ``pg_dump`` or ``pg_restore``; say how to get it when it is missing."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/").glob(PG_BIN_GLOB.lstrip("/") + f"/{name}"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    raise BackupError(
        f"{name} was not found on PATH nor in {PG_BIN_GLOB}: install PostgreSQL's client tools"
        " (Debian/Ubuntu: apt-get install postgresql-client), as new as the server"
    )


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """Return a connection string without the password, and the environment that carries it."""
    parsed: URL = make_url(url)
    params = {key: value for key, value in parsed.query.items() if isinstance(value, str)}
    conninfo = make_conninfo(
        "",
        dbname=parsed.database,
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        **params,
    )
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return conninfo, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    log.info("running %s", " ".join(command))
    done = subprocess.run(  # nosec B603 # the tools found by find_pg_tool, an argument list, no shell
        command, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()}")


def dump_postgresql(url: str, out: Path) -> None:
    """Dump the database with ``pg_dump`` in its custom format (compressed, restored by pg_restore)."""
    conninfo, env = _libpq(url)
    # Row-level security (migration 0030) holds every role but a superuser to the policies, and
    # pg_dump refuses a table whose policies would hide rows. It reads them under the policies
    # instead, in the all-tenants scope the scheduler's jobs use, so the jobs role can back up.
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c app.all_tenants=on".strip()
    command = [
        find_pg_tool("pg_dump"),
        "--format=custom",
        "--enable-row-security",
        f"--file={out}",
        f"--dbname={conninfo}",
    ]
    _run(command, env, "pg_dump")


def postgresql_is_empty(url: str) -> bool:
    """Whether the PostgreSQL target holds no table, view or sequence outside the system schemas."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            count = connection.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
                    " AND n.nspname NOT LIKE 'pg\\_toast%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                )
            ).scalar()
    except SQLAlchemyError as exc:
        raise BackupError(
            f"cannot connect to {safe_url(url)}: {exc.orig or exc}. Create the empty database first"
            " (createdb, or CREATE DATABASE … OWNER …)"
        ) from None
    finally:
        engine.dispose()
    return count == 0


def restore_postgresql(dump: Path, url: str) -> None:
    """Restore a custom-format dump into the (empty) target, in one transaction: all of it or nothing.

    Objects are owned by the user of ``url`` (``--no-owner``); grants are restored, so roles they
    name must exist on the target's server.
    """
    conninfo, env = _libpq(url)
    command = [
        find_pg_tool("pg_restore"),
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={conninfo}",
        str(dump),
    ]
    _run(command, env, "pg_restore")


def dump(url: str, out: Path) -> None:
    """Dump the database at ``url`` into the file ``out``."""
    if kind_of(url) == "sqlite":
        dump_sqlite(url, out)
    else:
        dump_postgresql(url, out)


def is_empty(url: str) -> bool:
    """Whether the database at ``url`` holds nothing yet."""
    return sqlite_is_empty(url) if kind_of(url) == "sqlite" else postgresql_is_empty(url)


def restore(dump_file: Path, url: str) -> None:
    """Restore the dump into the empty database at ``url``."""
    if kind_of(url) == "sqlite":
        restore_sqlite(dump_file, url)
    else:
        restore_postgresql(dump_file, url)

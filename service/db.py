"""Engines, sessions and the tenancy safety net.

Every session is either scoped to one organisation (``scope_to_org``) or explicitly opened for
work across organisations (``allow_all_tenants``, for sign-in lookups, jobs and the CLI). A
session that is neither refuses to touch tenant-owned rows, so a forgotten scope fails loudly
instead of leaking another firm's data.

On PostgreSQL the same scope is handed to the database's row-level security (``service/rls.py``):
``app.org_id`` and ``app.all_tenants`` are set, local to the transaction, when it begins and
whenever the scope changes within it, and around a statement that opts out with ``all_tenants``.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from models import Event, TenantScoped

log = logging.getLogger(__name__)

ALL_TENANTS = "all"
#: ``session.info`` key of a factory whose sessions skip the ORM net (``tenancy_net=False``): only the
#: tests that prove row-level security holds by itself use it.
NET = "tenancy_net"
#: ``session.info`` key: the transaction under way has had the tenant settings applied (PostgreSQL).
_SETTINGS_APPLIED = "rls_settings_applied"
#: Both settings in one statement, one round trip; ``true``: they end with the transaction.
_SET_TENANT = text(
    "SELECT set_config('app.org_id', :org, true), set_config('app.all_tenants', :all_tenants, true)"
)


class TenancyError(RuntimeError):
    """Code tried to read or write across tenants without opting out: a bug, never user input."""


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL, a busy timeout and real transactions."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # Plan every statement for its own parameters. psycopg prepares a statement used five times on a
    # connection, and PostgreSQL may then settle on one generic plan for every firm and term: the
    # ledger search's went from 7 ms to 400 ms a request at 1M instruments (a plan reading all
    # firms' matches through the bigram index). Firms differ in size by orders of magnitude, so no
    # one plan fits them all; planning costs well under a millisecond for our statements.
    connect_args = kwargs.pop("connect_args", {})
    given = connect_args.get("options") or make_url(url).query.get("options") or ""
    options = f"{given} -c plan_cache_mode=force_custom_plan".strip()
    connect_args = {**connect_args, "options": options}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and breaks SAVEPOINT; take over BEGIN (SQLAlchemy's
    # documented recipe) so transactions and savepoints behave as on PostgreSQL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory the application, jobs and CLI share."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def scope_to_org(session: Session, org_id: int) -> None:
    """Confine ``session`` to one organisation's rows."""
    session.info["tenant"] = org_id
    _follow_scope(session)


def allow_all_tenants(session: Session) -> None:
    """Open ``session`` to every organisation: for jobs, the CLI and pre-sign-in lookups only."""
    session.info["tenant"] = ALL_TENANTS
    _follow_scope(session)


def across_tenants(session: Session) -> AbstractContextManager[Session]:
    """Open a scoped session to every organisation for the duration of the block."""
    return scoped_to(session, ALL_TENANTS)


@contextmanager
def scoped_to(session: Session, org_id: int | str) -> Iterator[Session]:
    """Confine ``session`` to another organisation for the block (the institute working on site).

    ``org_id`` may be :data:`ALL_TENANTS` (see :func:`across_tenants`); the block's writes are
    flushed under that scope, and the previous scope comes back afterwards.
    """
    previous = session.info.get("tenant")
    session.info["tenant"] = org_id
    _follow_scope(session)
    try:
        yield session
        session.flush()
    except BaseException:
        session.info["tenant"] = previous
        # A caller may go on after a domain error; after a failed statement the transaction can
        # only be rolled back, and the next one starts from the session's scope anyway.
        with suppress(Exception):
            _follow_scope(session)
        raise
    session.info["tenant"] = previous
    _follow_scope(session)


def begin_writes_immediately(session: Session) -> None:
    """On SQLite, make the session's transaction take the write lock at BEGIN.

    A deferred transaction that reads and then writes cannot wait for another writer under WAL:
    SQLite answers "database is locked" at once instead of honouring the busy timeout. Taking the
    lock up front makes concurrent writers queue instead. Other databases are left alone, and so
    is a session bound to a connection (tests).
    """
    bind = session.bind
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        session.bind = bind.execution_options(sqlite_begin="IMMEDIATE")


@contextmanager
def unit_of_work(factory: sessionmaker[Session], org_id: int | None = None) -> Iterator[Session]:
    """Yield a session that commits once at the end, or rolls back on any error."""
    session = factory()
    begin_writes_immediately(session)
    if org_id is None:
        allow_all_tenants(session)
    else:
        scope_to_org(session, org_id)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _tenant_settings(tenant) -> dict[str, str]:
    if tenant == ALL_TENANTS:
        return {"org": "", "all_tenants": "on"}
    return {"org": "" if tenant is None else str(int(tenant)), "all_tenants": ""}


#: Connections opened to every tenant by a statement that opts out, with the scope to hand back to
#: the database before the next statement that does not: ``[scope, opt-out running]``. Closing
#: lazily saves a round trip when the next thing is another opt-out, a change of scope or the end
#: of the transaction. Keys are the SQLAlchemy connections of sessions' transactions.
_OPENED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _apply_tenant(connection: Connection, tenant) -> None:
    _OPENED.pop(connection, None)
    connection.execute(_SET_TENANT, _tenant_settings(tenant))


@event.listens_for(Engine, "before_execute")
def _close_opt_out(connection: Connection, _statement, _multiparams, _params, _options) -> None:
    """Hand the scope back to the database before anything but the opt-out runs after it.

    Every statement of SQLAlchemy passes here, ORM or Core, flushes and raw ``text()`` alike; the
    bulk writers' COPY asks the database a question through SQLAlchemy first (``service.bulk``).
    """
    opened = _OPENED.get(connection)
    if opened is not None and not opened[1]:
        _apply_tenant(connection, opened[0])


def _follow_scope(session: Session) -> None:
    """Hand a scope that changed in mid-transaction to the database (PostgreSQL)."""
    if session.info.get(_SETTINGS_APPLIED):
        _apply_tenant(session.connection(), session.info.get("tenant"))


@event.listens_for(Session, "after_begin")
def _set_tenant_on_begin(session: Session, _transaction, connection: Connection) -> None:
    """Hand the session's scope to the database as its transaction begins (PostgreSQL only).

    It must hold for every transaction, after each commit too: ``true`` in ``set_config`` ends
    the settings with the transaction, so a pooled connection never carries a firm to its next
    user. A new transaction of an unscoped session on its own connection has nothing to set (the
    settings start empty); one joined to an outer transaction (tests) may inherit them, and is
    reset.
    """
    if connection.dialect.name != "postgresql":
        return
    _OPENED.pop(connection, None)
    session.info[_SETTINGS_APPLIED] = True
    tenant = session.info.get("tenant")
    if tenant is None and not isinstance(session.bind, Connection):
        return
    _apply_tenant(connection, tenant)


@event.listens_for(Session, "after_transaction_end")
def _forget_settings(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SETTINGS_APPLIED, None)


def _open_statement_to_all_tenants(state: ORMExecuteState):
    """Run a statement that opts out of the tenant filter with the database's policies opened too.

    The session's pending writes are flushed first, under its own scope. The statement's rows are
    read in full; the scope goes back to the database before the next statement that does not
    opt out (:func:`_close_opt_out`).
    """
    session = state.session
    if session.info.get("tenant") == ALL_TENANTS or session.get_bind().dialect.name != "postgresql":
        return None
    if state.execution_options.get("autoflush", True):
        session._autoflush()  # what the statement would flush, under the session's own scope
    connection = session.connection()
    opened = _OPENED.get(connection)
    if opened is None:
        _apply_tenant(connection, ALL_TENANTS)
        opened = _OPENED[connection] = [session.info.get("tenant"), True]
    opened[1] = True
    try:
        frozen = state.invoke_statement().freeze()
    finally:
        opened[1] = False
    return frozen()


def _touches_tenant_rows(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _confine_queries(state: ORMExecuteState) -> None:
    """Add ``org_id = :tenant`` to every ORM statement on tenant-owned entities.

    A column load (an expired attribute of an object already loaded) and a statement that opts out
    with ``all_tenants`` pass, on PostgreSQL with the row-level policies opened for the statement.
    """
    if state.is_column_load or state.execution_options.get("all_tenants"):
        return _open_statement_to_all_tenants(state)
    if state.session.info.get(NET) is False:
        return None
    tenant = state.session.info.get("tenant")
    if tenant == ALL_TENANTS:
        return
    if tenant is None:
        if _touches_tenant_rows(state):
            raise TenancyError("a session touched tenant rows before being scoped to an organisation")
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.org_id == tenant, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _guard_writes(session: Session, _context, _instances) -> None:
    """Refuse to write another tenant's rows and to change or delete history events."""
    for obj in session.dirty | session.deleted:
        if isinstance(obj, Event):
            raise TenancyError("history events are append-only")
    tenant = session.info.get("tenant")
    if tenant == ALL_TENANTS or session.info.get(NET) is False:
        return
    for obj in session.new | session.dirty | session.deleted:
        if not isinstance(obj, TenantScoped):
            continue
        if tenant is None or obj.org_id != tenant:
            raise TenancyError(
                f"refusing to write {type(obj).__name__} of org {obj.org_id} in tenant {tenant}"
            )

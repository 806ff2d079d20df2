"""Row-level security on PostgreSQL: the third tenancy layer, under the ORM net and the composite keys.

Every tenant table has RLS enabled and forced, with policies on a setting the application sets at
the start of each transaction (``service.db`` does it): ``app.org_id``, the organisation a session
is scoped to, and ``app.all_tenants``, set to ``on`` by the explicit opt-outs the ORM net already
knows (``allow_all_tenants``, ``across_tenants``, statements with ``all_tenants=True``). A
connection that sets neither sees no tenant row at all, and cannot write one.

Why a setting for the opt-outs rather than a BYPASSRLS role: the jobs and the web run the same
code, and the same sessions of it are scoped to one firm (an import, an export, a planned day's
firm) or opened to all; a BYPASSRLS role would exempt every statement of the process, including
those scoped to one firm. With the setting, the policies follow exactly the scopes the code
declares, in both processes. Neither defends against SQL injected into the app's own connection
(it could set ``app.org_id`` to any firm just as well): the policies catch our own mistakes, a
query that forgot its firm, a raw ``text()`` or Core statement the ORM net never sees.

The helpers below are what migrations call, one line per table (``protect_tenant_table(op.get_bind(),
"new_table")``); they do nothing on SQLite. The policy names are fixed so that a later migration
can drop and recreate them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, text

#: The setting naming the organisation of the transaction (empty: none).
ORG_SETTING = "app.org_id"
#: The setting that opens the transaction to every organisation (``on``), for the explicit opt-outs.
ALL_TENANTS_SETTING = "app.all_tenants"

#: The functions the policies call: SQL, STABLE, so the planner inlines them and evaluates the
#: setting once per statement. An unset or reset setting reads as '' (after a transaction that set
#: it, PostgreSQL keeps the placeholder with an empty value), hence NULLIF: no organisation.
FUNCTIONS = (
    f"""
    CREATE OR REPLACE FUNCTION app_org_id() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('{ORG_SETTING}', true), '')::integer $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION app_all_tenants() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('{ALL_TENANTS_SETTING}', true), '') = 'on' $$
    """,
)
DROP_FUNCTIONS = ("DROP FUNCTION IF EXISTS app_org_id()", "DROP FUNCTION IF EXISTS app_all_tenants()")

#: The institute's clients: firms with an active link to the organisation of the transaction.
ACTIVE_CLIENTS = (
    "SELECT client_links.firm_id FROM client_links "
    "WHERE client_links.institute_id = app_org_id() AND client_links.ended_at IS NULL"
)


def _is_postgresql(bind: Connection) -> bool:
    return bind.dialect.name == "postgresql"


def create_functions(bind: Connection) -> None:
    """Create the functions the policies call (PostgreSQL only)."""
    if _is_postgresql(bind):
        for statement in FUNCTIONS:
            bind.execute(text(statement))


def _policy(bind: Connection, table: str, name: str, command: str, using: str, check: bool) -> None:
    bind.execute(text(f'DROP POLICY IF EXISTS {name} ON "{table}"'))
    with_check = f" WITH CHECK ({using})" if check else ""
    bind.execute(text(f'CREATE POLICY {name} ON "{table}" FOR {command} USING ({using}){with_check}'))


def _enable(bind: Connection, table: str) -> None:
    bind.execute(text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
    # FORCE: the owner (migrations) is held to the policies too; it opens them with app.all_tenants.
    bind.execute(text(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY'))


def protect_tenant_table(bind: Connection, table: str, *, clients_read: bool = True) -> None:
    """Hold ``table`` (with an ``org_id``) to its organisation's transactions.

    ``tenant``: the organisation of the transaction reads and writes its own rows; a row with no
    organisation (a nullable ``org_id``) belongs to nobody and is reached only across tenants.
    ``clients``: with ``clients_read``, an institute also reads the rows of the firms it has an
    active client link with, as its client pages, board and reports do; never writes them
    (recording results on a client's ledger scopes the transaction to the firm itself, after the
    application checked the link). Accounts, secrets and messages (users, tokens, invitations,
    resets, sign-in records, the outbox) are passed ``clients_read=False``.
    """
    if not _is_postgresql(bind):
        return
    _enable(bind, table)
    _policy(bind, table, "tenant", "ALL", "app_all_tenants() OR org_id = app_org_id()", check=True)
    if clients_read:
        _policy(bind, table, "clients", "SELECT", f"org_id IN ({ACTIVE_CLIENTS})", check=False)
    else:
        bind.execute(text(f'DROP POLICY IF EXISTS clients ON "{table}"'))


def protect_shared_table(bind: Connection, table: str) -> None:
    """Hold ``table`` (with ``institute_id`` and ``firm_id``: links, visits, orders) to either side."""
    if not _is_postgresql(bind):
        return
    _enable(bind, table)
    _policy(
        bind,
        table,
        "sides",
        "ALL",
        "app_all_tenants() OR institute_id = app_org_id() OR firm_id = app_org_id()",
        check=True,
    )


def protect_firm_child_table(bind: Connection, table: str, parent: str, parent_key: str) -> None:
    """Hold ``table`` (``firm_id`` only, a child of a shared ``parent`` row) to the parent's two sides."""
    if not _is_postgresql(bind):
        return
    _enable(bind, table)
    # Names from our own migrations, never from input: a policy expression takes no parameters.
    institute_side = (
        f'EXISTS (SELECT 1 FROM "{parent}" AS parent '  # nosec B608 # table names from migrations
        f'WHERE parent.id = "{table}".{parent_key} AND parent.institute_id = app_org_id())'
    )
    _policy(
        bind,
        table,
        "sides",
        "ALL",
        f"app_all_tenants() OR firm_id = app_org_id() OR {institute_side}",
        check=True,
    )


def unprotect(bind: Connection, table: str) -> None:
    """Drop ``table``'s policies and switch its row-level security off (downgrades)."""
    if not _is_postgresql(bind):
        return
    for name in ("tenant", "clients", "sides"):
        bind.execute(text(f'DROP POLICY IF EXISTS {name} ON "{table}"'))
    bind.execute(text(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY'))
    bind.execute(text(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY'))


@dataclass(frozen=True)
class Roles:
    """The three roles of a PostgreSQL deployment."""

    #: Owns the schema and the tables; ``flask db upgrade`` connects as it (MIGRATIONS_DATABASE_URL).
    owner: str = "calrecall_owner"
    #: The web processes (DATABASE_URL): owns nothing, reads and writes rows under the policies.
    app: str = "calrecall_app"
    #: The scheduler and the CLI (JOBS_DATABASE_URL): same rights as the web role, its own name so
    #: that its connections, limits and timeouts are told apart from the web's.
    jobs: str = "calrecall_jobs"


def _identifier(bind: Connection, name: str) -> str:
    return bind.dialect.identifier_preparer.quote_identifier(name)


def role_statements(bind: Connection, roles: Roles, tables: Iterable[str]) -> list[str]:
    """Return the statements that create the roles (if missing) and grant what each one needs.

    ``tables`` are handed to the owner (with their sequences). Default privileges make the tables
    the owner creates later (migrations) readable and writable by the web and jobs roles.
    """
    owner, app, jobs = (_identifier(bind, name) for name in (roles.owner, roles.app, roles.jobs))
    database = _identifier(bind, bind.scalar(text("SELECT current_database()")))
    names = [roles.owner, roles.app, roles.jobs]
    # Asked with a bound parameter rather than inside a DO block, which takes none: the names come
    # from the command line.
    existing = set(
        bind.scalars(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"), {"names": names})
    )
    statements = []
    for name, quoted in zip(names, (owner, app, jobs), strict=True):
        if name not in existing:
            statements.append(f"CREATE ROLE {quoted} LOGIN")
        # Never a superuser nor BYPASSRLS: either would skip every policy.
        statements.append(f"ALTER ROLE {quoted} NOSUPERUSER NOBYPASSRLS")
        statements.append(f"GRANT CONNECT ON DATABASE {database} TO {quoted}")
    statements += [
        f"GRANT USAGE, CREATE ON SCHEMA public TO {owner}",
        f"GRANT USAGE ON SCHEMA public TO {app}, {jobs}",
    ]
    statements += [f'ALTER TABLE IF EXISTS "{table}" OWNER TO {owner}' for table in tables]
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}, {jobs}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}, {jobs}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}, {jobs}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app}, {jobs}",
        # Under the policies the planner uses an index only for a condition whose functions are
        # LEAKPROOF (they cannot reveal a hidden row's values, say in an error). The ledger search's
        # `search_pairs @> search_bigrams(term)` (models.ledger.SEARCH_PAIRS_DDL) calls the built-in
        # arraycontains, which reads its arrays and raises nothing about their contents but is not
        # marked so: marked, the search's GIN index serves the web role (a rare term among a million
        # instruments in 5 ms instead of 183). Only a superuser may mark it, hence here. The mark
        # lives in this database's catalogue, which no dump carries: run this again in a database a
        # backup was restored into. Never mark our own functions: a dump holding a LEAKPROOF function
        # cannot be restored by a role that is not a superuser.
        "ALTER FUNCTION pg_catalog.arraycontains(anyarray, anyarray) LEAKPROOF",
    ]
    return statements


def create_roles(bind: Connection, roles: Roles, tables: Iterable[str]) -> None:
    """Create the roles and grant their rights on ``bind``'s database (needs CREATEROLE)."""
    for statement in role_statements(bind, roles, tables):
        bind.execute(text(statement))


#: Tenant tables of accounts, secrets and messages: an institute never reads its clients' ones.
PRIVATE_TABLES = frozenset(
    {
        "users",
        "api_tokens",
        "invitations",
        "password_resets",
        "sign_in_attempts",
        "notifications",
        "notification_items",
    }
)


def protection_of(table) -> tuple[str, ...] | None:
    """Return how a :class:`~sqlalchemy.Table` must be protected, or ``None`` for shared reference data.

    ``("tenant", clients_read)`` for a table with ``org_id``; ``("shared",)`` for one with both
    ``institute_id`` and ``firm_id``; ``("firm_child", parent, key)`` for one with ``firm_id`` only,
    whose composite key names a shared parent. What the migrations must have done for each table.
    """
    columns = set(table.c.keys())
    if "org_id" in columns:
        return ("tenant", table.name not in PRIVATE_TABLES)
    if {"institute_id", "firm_id"} <= columns:
        return ("shared",)
    if "firm_id" in columns:
        for key in table.foreign_key_constraints:
            parent = key.referred_table
            if "firm_id" in key.column_keys and {"institute_id", "firm_id"} <= set(parent.c.keys()):
                [own] = [c for c in key.column_keys if c != "firm_id"]
                return ("firm_child", parent.name, own)
        raise ValueError(f"{table.name} has a firm_id but no shared parent: give it a policy of its own")
    return None


def protect_metadata(bind: Connection, metadata) -> list[str]:
    """Protect every table of ``metadata`` as :func:`protection_of` says (schemas made by ``create_all``).

    The tests' schema is made from the models, not by the migrations; this gives it the same
    policies. Return the names of the protected tables.
    """
    create_functions(bind)
    protected = []
    for table in metadata.sorted_tables:
        how = protection_of(table)
        if how is None:
            continue
        if how[0] == "tenant":
            protect_tenant_table(bind, table.name, clients_read=how[1])
        elif how[0] == "shared":
            protect_shared_table(bind, table.name)
        else:
            protect_firm_child_table(bind, table.name, how[1], how[2])
        protected.append(table.name)
    return protected

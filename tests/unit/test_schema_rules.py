"""The rules the schema keeps so that its tenants can be spread over a Citus cluster by ``org_id``.

docs/scaling.md explains the plan. Every table is one of:

- a **tenant table** (distributed by ``org_id``): it has a non-null ``org_id``; every unique
  constraint and unique index includes ``org_id``; every foreign key to another tenant table
  carries ``org_id`` to the parent's ``org_id``;
- a **reference table** (copied to every node): small, read before the tenant is known or by
  everyone, rarely written;
- a **shared table** (an institute and a client firm; distributed by ``firm_id``, next to the
  firm's instruments): it has a required ``firm_id``; every unique key includes it; every foreign
  key to a tenant table carries ``firm_id`` or ``institute_id`` to the parent's ``org_id``;
- a **local table** (kept on the coordinator only).

The exceptions below are the whole list, each with its reason; a new table or constraint that
breaks a rule fails here until it is fixed or declared. ``tests/integration/test_migrations.py``
checks that the migrated schema is this metadata, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from models import Base

#: Copied to every node. FKs from distributed tables to them are allowed.
REFERENCE_TABLES = {
    "organizations": "the tenants themselves: every board, sign-in and link reads them",
    "users": "read on every request before the tenant is known (sign-in by e-mail, sessions), and as "
    "the author of rows of another tenant (an institute's technician records a firm's calibration)",
    "api_tokens": "looked up by the token's hash before the tenant is known, on every API request",
    "invitations": "looked up by the token's hash from an e-mailed link, before the tenant is known",
    "password_resets": "looked up by the token's hash from an e-mailed link, before the tenant is known",
    "sms_opt_outs": "a STOP holds for the phone number across every firm",
    "client_links": "which institute serves which firm: small, and read by every request of an "
    "institute (which firms it may see) and of a firm (who may see it)",
}
#: An institute and one client firm: distributed by ``firm_id``.
SHARED_TABLES = {
    "visits": "an institute's visit to a firm",
    "visit_items": "an instrument of the firm on a visit",
    "service_orders": "a firm's order to an institute",
    "service_order_items": "an instrument of the firm on an order",
    "service_order_steps": "an order's history",
    "nominations": "a firm's nomination in an institute's campaign",
    "nomination_files": "a nomination's documents",
}
#: On the coordinator only.
LOCAL_TABLES = {
    "sign_in_attempts": "the throttle's log, keyed by address and e-mail, often with no tenant at all",
}
#: Unique keys of distributed tables without ``org_id``: public links whose token is the only thing
#: the visitor has. Under Citus they move to a reference table ``token → org_id`` (docs/scaling.md).
GLOBAL_KEYS = {
    ("calibration_records", ("check_token",)): "the public certificate check (QR code) has only the token",
    ("campaigns", ("public_token",)): "the public campaign page has only the token",
}
#: Unique keys of shared tables without ``firm_id``: the institute side's targets for composite keys.
INSTITUTE_SIDE_KEYS = {
    ("visits", ("institute_id", "id")),
    ("service_orders", ("institute_id", "id")),
    ("nominations", ("institute_id", "id")),
    ("nominations", ("campaign_id", "firm_id")),
}
#: Foreign keys between tenant tables without ``org_id``, with the reason each is left. The first
#: three name a row of *another* tenant on purpose, with that tenant's id beside it; Citus cannot
#: keep a key between shards, so there the application's check (done today too) is what remains.
CROSS_TENANT_KEYS = {
    ("comparison_participants", ("firm_id", "instrument_id")): "an institute's comparison project "
    "names the participating firm's instrument",
    ("comparison_participants", ("comparison_id", "firm_id")): "… and the comparison result it "
    "publishes into the firm's ledger",
    ("record_standards", ("standard_instrument_id", "standard_org_id")): "a firm's calibration "
    "record names the institute's standard it was calibrated with",
    ("notification_items", ("notification_id",)): "written only by the planner (COPY, 276k rows a day) "
    "in its notification's transaction; a composite key would add a unique (org_id, id) index to the "
    "outbox and a check per row. Under Citus it becomes (org_id, notification_id)",
}
#: Primary keys of tenant tables that neither are the surrogate ``id`` nor include ``org_id``.
OTHER_PRIMARY_KEYS = {
    ("notification_items", ("notification_id", "instrument_id")): "see its foreign key above",
}


def _unique_keys(table: Table) -> list[tuple[str, ...]]:
    keys = [
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    keys += [tuple(c.name for c in index.columns) for index in table.indexes if index.unique]
    return keys


def _tenant_fk_problems(table: Table, fk: ForeignKeyConstraint, org: str = "org_id") -> str | None:
    pairs = {(element.parent.name, element.column.name) for element in fk.elements}
    if (org, "org_id") in pairs:
        return None
    return (
        f"{table.name}: foreign key {[c for c, _ in sorted(pairs)]} → {fk.referred_table.name} without {org}"
    )


def violations(
    metadata: MetaData,
    reference: dict = REFERENCE_TABLES,
    shared: dict = SHARED_TABLES,
    local: dict = LOCAL_TABLES,
    global_keys: dict = GLOBAL_KEYS,
    institute_keys: set = INSTITUTE_SIDE_KEYS,
    cross_keys: dict = CROSS_TENANT_KEYS,
    other_pks: dict = OTHER_PRIMARY_KEYS,
) -> list[str]:
    """Return every way the tables of ``metadata`` break the rules, given the declared exceptions."""
    problems = []
    not_tenant = set(reference) | set(shared) | set(local)
    for name in sorted(not_tenant - set(metadata.tables)):
        problems.append(f"{name}: declared but not in the schema")
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        if table.name in reference or table.name in local:
            continue
        if table.name in shared:
            if "firm_id" not in table.c or table.c.firm_id.nullable:
                problems.append(f"{table.name}: a shared table without a required firm_id")
            for key in _unique_keys(table):
                if "firm_id" not in key and (table.name, key) not in institute_keys:
                    problems.append(f"{table.name}: unique {list(key)} without firm_id")
            for fk in table.foreign_key_constraints:
                parent = fk.referred_table.name
                if parent in not_tenant:
                    continue
                sides = {e.parent.name for e in fk.elements if e.column.name == "org_id"}
                if not sides & {"firm_id", "institute_id"}:
                    problems.append(
                        f"{table.name}: foreign key to {parent} carries neither firm nor institute"
                    )
            continue
        # A tenant table.
        if "org_id" not in table.c or table.c.org_id.nullable:
            problems.append(f"{table.name}: a tenant table without a required org_id")
            continue
        pk = tuple(c.name for c in table.primary_key)
        if pk != ("id",) and "org_id" not in pk and (table.name, pk) not in other_pks:
            problems.append(f"{table.name}: primary key {list(pk)} without org_id")
        for key in _unique_keys(table):
            if "org_id" not in key and (table.name, key) not in global_keys:
                problems.append(f"{table.name}: unique {list(key)} without org_id")
        for fk in table.foreign_key_constraints:
            parent = fk.referred_table.name
            if parent in not_tenant:
                continue
            columns = tuple(sorted(c.name for c in fk.columns))
            if (table.name, columns) in cross_keys:
                continue
            problem = _tenant_fk_problems(table, fk)
            if problem:
                problems.append(problem)
    return problems


def test_the_schema_keeps_the_rules():
    assert violations(Base.metadata) == []


def test_every_exception_is_still_needed():
    """An exception that no longer matches the schema is removed, so that the list stays the truth."""
    tables = Base.metadata.tables
    for table, key in GLOBAL_KEYS:
        assert key in _unique_keys(tables[table]), (table, key)
    for table, key in INSTITUTE_SIDE_KEYS:
        assert key in _unique_keys(tables[table]), (table, key)
    for table, columns in CROSS_TENANT_KEYS:
        keys = {tuple(sorted(c.name for c in fk.columns)) for fk in tables[table].foreign_key_constraints}
        assert columns in keys, (table, columns)
    for table, pk in OTHER_PRIMARY_KEYS:
        assert tuple(c.name for c in tables[table].primary_key) == pk
    for name in REFERENCE_TABLES.keys() | LOCAL_TABLES.keys():
        assert name in tables, name


def _throwaway() -> MetaData:
    """A schema of two tenant tables that keeps the rules."""
    metadata = MetaData()
    Table("organizations", metadata, Column("id", Integer, primary_key=True))
    Table(
        "gauges",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("org_id", ForeignKey("organizations.id"), nullable=False),
        Column("serial_no", String(40)),
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "serial_no"),
    )
    Table(
        "readings",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("org_id", ForeignKey("organizations.id"), nullable=False),
        Column("gauge_id", Integer, nullable=False),
        ForeignKeyConstraint(["org_id", "gauge_id"], ["gauges.org_id", "gauges.id"]),
    )
    return metadata


def _check(metadata: MetaData) -> list[str]:
    return violations(metadata, reference={"organizations": "the tenants"}, shared={}, local={})


def test_a_schema_that_keeps_the_rules_passes():
    assert _check(_throwaway()) == []


def test_a_tenant_table_without_org_id_fails():
    metadata = _throwaway()
    Table("probes", metadata, Column("id", Integer, primary_key=True), Column("name", String(40)))
    assert _check(metadata) == ["probes: a tenant table without a required org_id"]


def test_a_unique_constraint_without_org_id_fails():
    metadata = _throwaway()
    metadata.tables["gauges"].append_constraint(UniqueConstraint("serial_no", name="uq_serial"))
    Index("uq_gauges_name", metadata.tables["readings"].c.gauge_id, unique=True)
    assert _check(metadata) == [
        "gauges: unique ['serial_no'] without org_id",
        "readings: unique ['gauge_id'] without org_id",
    ]


def test_a_foreign_key_between_tenant_tables_without_org_id_fails():
    metadata = _throwaway()
    Table(
        "adjustments",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("org_id", ForeignKey("organizations.id"), nullable=False),
        Column("reading_id", ForeignKey("readings.id")),
    )
    assert _check(metadata) == ["adjustments: foreign key ['reading_id'] → readings without org_id"]

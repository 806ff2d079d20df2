"""Declarative base, naming convention, tenant mixin, UTC datetime type, references within a tenant."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Relationship, declared_attr, mapped_column, relationship

#: Stable constraint names, so that Alembic migrations name what they create and drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone; PostgreSQL's ``timestamptz`` does. Both come back as aware UTC values so
    that comparisons never mix naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class TenantScoped:
    """Mixin for rows owned by one organisation (a tenant).

    The session's tenancy net filters every ORM query on ``org_id`` and refuses to flush a row of
    another organisation; child tables point at their parents with composite foreign keys
    ``(org_id, parent_id)`` so a row can never refer to another tenant's row.
    """

    @declared_attr
    def org_id(cls) -> Mapped[int]:  # noqa: N805
        """The owning organisation."""
        return mapped_column(Integer, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)


class SharedWithClient:
    """Mixin for rows an institute and one client firm share (a visit, a service order).

    Not tenant rows: every query names the side it reads from (``institute_id`` for the
    institute, ``firm_id`` for the client). Items point at them from either side with a
    composite key, hence :meth:`side_keys`.
    """

    @declared_attr
    def institute_id(cls) -> Mapped[int]:  # noqa: N805
        """The institute that does the work."""
        return mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))

    @declared_attr
    def firm_id(cls) -> Mapped[int]:  # noqa: N805
        """The client firm whose instruments it concerns."""
        return mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))

    @staticmethod
    def side_keys() -> tuple[UniqueConstraint, UniqueConstraint]:
        """Return the unique keys ``(institute_id, id)`` and ``(firm_id, id)`` the items refer to."""
        return UniqueConstraint("institute_id", "id"), UniqueConstraint("firm_id", "id")


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """Return the SQL condition "``column`` is one of ``values``" (check constraints, partial indexes)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def org_fk(
    column: str, table: str, *, org: str = "org_id", parent_org: str = "org_id", **kwargs
) -> ForeignKeyConstraint:
    """Return the composite foreign key ``(org, column)`` → ``table (parent_org, id)``.

    The row named by ``column`` must belong to the organisation in ``org``: a row can never refer to
    another tenant's row.
    """
    return ForeignKeyConstraint([org, column], [f"{table}.{parent_org}", f"{table}.id"], **kwargs)


def in_org(target: str, owner: str, column: str, *, org: str = "org_id", **kwargs) -> Relationship:
    """Return a read-only relationship of ``owner`` to the ``target`` row that ``column`` names in ``org``."""
    return relationship(
        primaryjoin=f"and_({target}.id == {owner}.{column}, {target}.org_id == {owner}.{org})",
        foreign_keys=f"[{owner}.{column}]",
        viewonly=True,
        **kwargs,
    )


def children_in_org(target: str, owner: str, column: str) -> Relationship:
    """Return a read-only relationship of ``owner`` to its ``target`` rows (``column`` names it), by id."""
    return relationship(
        primaryjoin=f"and_({target}.{column} == {owner}.id, {target}.org_id == {owner}.org_id)",
        foreign_keys=f"[{target}.{column}]",
        viewonly=True,
        order_by=f"{target}.id",
    )

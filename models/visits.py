"""The institute's work for its clients: technicians, calibration visits (上门校准), certificate numbers.

Technicians and their days off belong to the institute (tenant rows). A visit is shared by two
organisations, the institute that plans it and the client firm it goes to, so it is not a
tenant row: every query names the side it reads from (``institute_id`` for staff, ``firm_id`` for
the client), and its items point at the client's instruments with composite foreign keys.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from models.base import Base, SharedWithClient, TenantScoped, in_org, org_fk, sql_in, utcnow
from models.ledger import Instrument

#: proposed → confirmed (or reschedule_requested → proposed again) → completed; cancelled any time before.
VISIT_STATES = ("proposed", "confirmed", "reschedule_requested", "completed", "cancelled")
#: Visits still to happen: their instruments are booked, and the plan may still move.
OPEN_VISIT_STATES = ("proposed", "confirmed", "reschedule_requested")
#: An item is waiting, has its result (a record in the client's ledger), or was skipped with a reason.
ITEM_STATES = ("pending", "done", "skipped")


class Technician(TenantScoped, Base):
    """An institute technician: the disciplines they calibrate and how many instruments a day."""

    __tablename__ = "technicians"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "user_id"),
        org_fk("user_id", "users"),
        CheckConstraint("daily_capacity BETWEEN 1 AND 500", name="daily_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The technician's account, when they record results on the worksheet themselves.
    user_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    #: Discipline codes (see service.visits.disciplines).
    disciplines: Mapped[list] = mapped_column(JSON, default=list)
    #: Instruments a day on site.
    daily_capacity: Mapped[int] = mapped_column(Integer, default=20)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TechnicianDayOff(TenantScoped, Base):
    """A day a technician is not available for visits (leave, training, lab duty)."""

    __tablename__ = "technician_days_off"
    __table_args__ = (
        org_fk("technician_id", "technicians"),
        UniqueConstraint("org_id", "technician_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))


class ClientItem:
    """Mixin for one of a client's instruments in the institute's work (a visit, an order), and its outcome.

    The item belongs to both sides of its visit or order; its instrument and its record are the
    client's (see :meth:`item_args`).
    """

    @declared_attr
    def institute_id(cls) -> Mapped[int]:  # noqa: N805
        """The institute that does the work."""
        return mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))

    firm_id: Mapped[int] = mapped_column(Integer)
    instrument_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    #: The record written into the client's ledger for this item.
    record_id: Mapped[int | None] = mapped_column(Integer)
    skip_reason: Mapped[str | None] = mapped_column(String(500))

    @declared_attr
    def instrument(cls) -> Mapped[Instrument]:  # noqa: N805
        """The client's instrument."""
        return in_org("Instrument", cls.__name__, "instrument_id", org="firm_id")

    @staticmethod
    def item_args(table: str) -> tuple:
        """Return the constraints and index every item table has: the client's instrument and record."""
        return (
            org_fk("instrument_id", "instruments", org="firm_id"),
            org_fk("record_id", "calibration_records", org="firm_id"),
            CheckConstraint(sql_in("state", ITEM_STATES), name="state"),
            Index(f"ix_{table}_firm_id_instrument_id", "firm_id", "instrument_id"),
        )


class Visit(SharedWithClient, Base):
    """A calibration visit of the institute to one client firm on one day."""

    __tablename__ = "visits"
    __table_args__ = (
        *SharedWithClient.side_keys(),
        CheckConstraint(sql_in("state", VISIT_STATES), name="state"),
        Index("ix_visits_institute_id_planned_on", "institute_id", "planned_on"),
        Index("ix_visits_firm_id_planned_on", "firm_id", "planned_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    planned_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(24), default="proposed")
    #: The earliest due date among its instruments when it was planned.
    earliest_due_on: Mapped[date | None] = mapped_column(Date)
    #: The client's answer: the date it asks for instead, and its note.
    requested_on: Mapped[date | None] = mapped_column(Date)
    client_note: Mapped[str | None] = mapped_column(Text)
    answered_by_name: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime | None]
    created_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    #: Handled through the SME green channel (中小企业绿色通道): counted in the SME assistance statistics.
    is_green_channel: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    items: Mapped[list[VisitItem]] = relationship(
        primaryjoin="VisitItem.visit_id == Visit.id",
        foreign_keys="[VisitItem.visit_id]",
        viewonly=True,
        order_by="VisitItem.id",
    )


class VisitItem(ClientItem, Base):
    """One instrument of a visit: who calibrates it, and its outcome."""

    __tablename__ = "visit_items"
    __table_args__ = (
        org_fk("visit_id", "visits", org="firm_id", parent_org="firm_id", ondelete="CASCADE"),
        # Both sides of the item are the visit's: no item of one institute on another's visit.
        org_fk("visit_id", "visits", org="institute_id", parent_org="institute_id", ondelete="CASCADE"),
        org_fk("technician_id", "technicians", org="institute_id"),
        UniqueConstraint("firm_id", "visit_id", "instrument_id"),
        *ClientItem.item_args("visit_items"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(Integer)
    technician_id: Mapped[int | None] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)


class CertificateSequence(TenantScoped, Base):
    """The institute's running certificate numbers, one sequence per prefix and year."""

    __tablename__ = "certificate_sequences"
    __table_args__ = (UniqueConstraint("org_id", "prefix", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    last_no: Mapped[int] = mapped_column(Integer, default=0)

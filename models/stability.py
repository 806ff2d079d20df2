"""Repeatability tests (重复性试验) and stability assessments (稳定性考核) of an instrument (JJF 1033).

Readings are kept as the decimal strings that were entered (a JSON list), and the computed figures
as decimal strings too: exact on SQLite and PostgreSQL alike, and shown as measured.
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
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, children_in_org, in_org, org_fk, sql_in, utcnow
from models.ledger import Instrument

#: What the allowed value of a stability assessment is: the MPE or the expanded uncertainty U.
ALLOWED_BASES = ("mpe", "expanded_uncertainty")
ASSESSMENT_STATES = ("open", "closed")


class RepeatabilityTest(TenantScoped, Base):
    """One repeatability test: n ≥ 10 readings of one quantity, their mean, s and the verdict."""

    __tablename__ = "repeatability_tests"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("instrument_id", "instruments"),
        Index("ix_repeatability_tests_org_id_performed_on", "org_id", "performed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer, index=True)
    performed_on: Mapped[date] = mapped_column(Date)
    #: The quantity or point measured, e.g. "10 MPa" or "质量 200 g".
    quantity: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), default="")
    readings: Mapped[list] = mapped_column(JSON, default=list)
    #: The repeatability claimed for the instrument (same unit), the test's criterion.
    claimed: Mapped[str] = mapped_column(String(48))
    conditions: Mapped[str | None] = mapped_column(Text)
    performed_by_name: Mapped[str] = mapped_column(String(100))
    mean: Mapped[str] = mapped_column(String(48))
    #: The experimental standard deviation s.
    s: Mapped[str] = mapped_column(String(48))
    passed: Mapped[bool] = mapped_column(Boolean)
    created_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = in_org("Instrument", "RepeatabilityTest", "instrument_id")


class StabilityAssessment(TenantScoped, Base):
    """A stability assessment, built up over months: groups are added, then it is closed with a verdict."""

    __tablename__ = "stability_assessments"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("instrument_id", "instruments"),
        CheckConstraint(sql_in("allowed_basis", ALLOWED_BASES), name="allowed_basis"),
        CheckConstraint(sql_in("state", ASSESSMENT_STATES), name="state"),
        CheckConstraint("state = 'open' OR closed_on IS NOT NULL", name="closed_on"),
        Index("ix_stability_assessments_org_id_started_on", "org_id", "started_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer, index=True)
    #: The check object (核查标准), e.g. "砝码 200 g 编号 F-12".
    check_object: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), default="")
    allowed: Mapped[str] = mapped_column(String(48))
    allowed_basis: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(8), default="open")
    started_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    #: The figures as of the last change: max − min of the group means, the verdict, the warnings.
    stability: Mapped[str | None] = mapped_column(String(48))
    passed: Mapped[bool | None] = mapped_column(Boolean)
    provisional: Mapped[bool] = mapped_column(Boolean, default=True)
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_name: Mapped[str] = mapped_column(String(100))
    closed_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = in_org("Instrument", "StabilityAssessment", "instrument_id")
    groups: Mapped[list[StabilityGroup]] = children_in_org(
        "StabilityGroup", "StabilityAssessment", "assessment_id"
    )

    @property
    def is_open(self) -> bool:
        """Whether groups can still be added."""
        return self.state == "open"


class StabilityGroup(TenantScoped, Base):
    """One group of repeated readings of a stability assessment, on one day."""

    __tablename__ = "stability_groups"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("assessment_id", "stability_assessments", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(Integer, index=True)
    measured_on: Mapped[date] = mapped_column(Date)
    readings: Mapped[list] = mapped_column(JSON, default=list)
    mean: Mapped[str] = mapped_column(String(48))
    recorded_by_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

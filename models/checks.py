"""Intermediate checks (期间核查): a plan per instrument, its check points, the checks done.

What is charted is each reading's deviation from its reference value; the plan's baseline
(centre and σ per point) is fixed from the first N checks or entered by hand.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
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

#: first_n: the first N checks fix the baseline; entered: centre and σ entered per point.
BASELINE_MODES = ("first_n", "entered")


class CheckPlan(TenantScoped, Base):
    """An instrument's intermediate-check plan: what checks it, how often, who, against what baseline."""

    __tablename__ = "check_plans"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("instrument_id", "instruments", ondelete="CASCADE"),
        org_fk("check_instrument_id", "instruments"),
        org_fk("performer_user_id", "users"),
        CheckConstraint(sql_in("baseline_mode", BASELINE_MODES), name="baseline_mode"),
        CheckConstraint(
            "(interval_months IS NOT NULL AND interval_months > 0 AND interval_days IS NULL)"
            " OR (interval_days IS NOT NULL AND interval_days > 0 AND interval_months IS NULL)",
            name="one_interval",
        ),
        CheckConstraint("baseline_n >= 10", name="baseline_n"),
        Index("ix_check_plans_org_id_instrument_id", "org_id", "instrument_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer)
    #: The check standard or object used (核查标准), in words.
    check_object: Mapped[str] = mapped_column(String(200))
    #: The same, when it is an instrument of the ledger.
    check_instrument_id: Mapped[int | None] = mapped_column(Integer)
    interval_months: Mapped[int | None] = mapped_column(Integer)
    interval_days: Mapped[int | None] = mapped_column(Integer)
    performer_user_id: Mapped[int | None] = mapped_column(Integer)
    baseline_mode: Mapped[str] = mapped_column(String(8), default="first_n")
    baseline_n: Mapped[int] = mapped_column(Integer, default=10)
    #: When the baseline was fixed (None: not yet: the chart shows the points without limits).
    baseline_fixed_on: Mapped[date | None] = mapped_column(Date)
    next_due_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = in_org("Instrument", "CheckPlan", "instrument_id")
    check_instrument: Mapped[Instrument | None] = in_org("Instrument", "CheckPlan", "check_instrument_id")
    points: Mapped[list[CheckPoint]] = children_in_org("CheckPoint", "CheckPlan", "plan_id")
    records: Mapped[list[CheckRecord]] = children_in_org("CheckRecord", "CheckPlan", "plan_id")


class CheckPoint(TenantScoped, Base):
    """A check point of a plan: its nominal value, its MPE, and its fixed baseline."""

    __tablename__ = "check_points"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("plan_id", "check_plans", ondelete="CASCADE"),
        CheckConstraint("mpe IS NULL OR mpe > 0", name="mpe"),
        CheckConstraint("sigma IS NULL OR sigma > 0", name="sigma"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(100))
    nominal: Mapped[float] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(20))
    #: The maximum permissible error, as ± around zero deviation.
    mpe: Mapped[float | None] = mapped_column(Float)
    centre: Mapped[float | None] = mapped_column(Float)
    sigma: Mapped[float | None] = mapped_column(Float)


class CheckRecord(TenantScoped, Base):
    """One intermediate check done: when, by whom, its readings."""

    __tablename__ = "check_records"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("plan_id", "check_plans", ondelete="CASCADE"),
        Index("ix_check_records_org_id_plan_id", "org_id", "plan_id", "performed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer)
    performed_on: Mapped[date] = mapped_column(Date)
    performed_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    performed_by_name: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    readings: Mapped[list[CheckReading]] = children_in_org("CheckReading", "CheckRecord", "record_id")


class CheckReading(TenantScoped, Base):
    """A reading of one check point in one check: value, reference, and their difference."""

    __tablename__ = "check_readings"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "record_id", "point_id"),
        org_fk("record_id", "check_records", ondelete="CASCADE"),
        org_fk("point_id", "check_points", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer)
    point_id: Mapped[int] = mapped_column(Integer, index=True)
    value: Mapped[float] = mapped_column(Float)
    reference: Mapped[float] = mapped_column(Float)
    deviation: Mapped[float] = mapped_column(Float)

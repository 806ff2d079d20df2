"""Comparisons (计量比对) and proficiency tests (能力验证) of an instrument of the organisation's ledger."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
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
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, children_in_org, in_org, org_fk, sql_in, utcnow
from models.ledger import Instrument
from models.nonconformity import NonconformityCase
from models.traceability import READING

#: A comparison judged by En, a proficiency test judged by z.
COMPARISON_KINDS = ("comparison", "proficiency")
#: 市场监管总局国家比对, 省级比对, CNAS 认可的能力验证提供者, other.
ORGANISER_KINDS = ("national", "provincial", "cnas_pt", "other")
POINT_VERDICTS = ("satisfactory", "questionable", "unsatisfactory")


class Comparison(TenantScoped, Base):
    """One comparison or proficiency-test result of an instrument, with its points."""

    __tablename__ = "comparisons"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("instrument_id", "instruments"),
        org_fk("case_id", "nonconformity_cases"),
        CheckConstraint(sql_in("kind", COMPARISON_KINDS), name="kind"),
        CheckConstraint(sql_in("organiser_kind", ORGANISER_KINDS), name="organiser_kind"),
        Index("ix_comparisons_org_id_instrument_id", "org_id", "instrument_id", "performed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    #: The scheme or programme, e.g. "CNAS T0987 压力表示值比对".
    scheme: Mapped[str] = mapped_column(String(200))
    organiser_kind: Mapped[str] = mapped_column(String(16), default="other")
    organiser_name: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[str | None] = mapped_column(String(100))
    performed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    #: The worst verdict of its points.
    verdict: Mapped[str] = mapped_column(String(16))
    #: The nonconformity case an unsatisfactory point opened, or the open one it was linked to.
    case_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    recorded_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = in_org("Instrument", "Comparison", "instrument_id")
    case: Mapped[NonconformityCase | None] = in_org("NonconformityCase", "Comparison", "case_id")
    points: Mapped[list[ComparisonPoint]] = children_in_org("ComparisonPoint", "Comparison", "comparison_id")


class ComparisonPoint(TenantScoped, Base):
    """One point: reference value and uncertainties (comparison) or assigned value and sigma_pt (PT)."""

    __tablename__ = "comparison_points"
    __table_args__ = (
        org_fk("comparison_id", "comparisons", ondelete="CASCADE"),
        CheckConstraint(sql_in("verdict", POINT_VERDICTS), name="verdict"),
        Index("ix_comparison_points_comparison_id", "comparison_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comparison_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    nominal: Mapped[Decimal | None] = mapped_column(READING)
    reference_value: Mapped[Decimal | None] = mapped_column(READING)
    reference_uncertainty: Mapped[Decimal | None] = mapped_column(READING)
    lab_value: Mapped[Decimal] = mapped_column(READING)
    lab_uncertainty: Mapped[Decimal | None] = mapped_column(READING)
    assigned_value: Mapped[Decimal | None] = mapped_column(READING)
    sd_pt: Mapped[Decimal | None] = mapped_column(READING)
    #: En (comparison) or z (proficiency test), kept to 6 places; the verdict came from the exact value.
    score: Mapped[Decimal] = mapped_column(READING)
    #: The reference is a weighted mean that includes this lab's own value (a comparison the institute
    #: organised): En then divides by sqrt(U_lab² - U_ref²), the two being correlated (Cox 2002).
    is_lab_in_reference: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    verdict: Mapped[str] = mapped_column(String(16))

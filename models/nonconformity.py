"""Nonconforming equipment (不合格测量设备): the case opened when an instrument fails.

Everything the instrument measured since its last good result is suspect until someone has
assessed the impact; the case closes only with a disposition that a firm administrator approved.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, in_org, org_fk, sql_in, utcnow
from models.ledger import Instrument
from models.traceability import CalibrationRecord

CASE_STATES = ("open", "closed")
#: How a case was opened: a failed record, a person's report, the institute's notice about a standard,
#: an intermediate check with a reading outside the MPE.
CASE_SOURCES = ("record", "manual", "standard_notice", "check")
#: 调整 adjust, 修理 repair (both re-verified before use), 降级使用 downgrade with limits, 报废 scrap.
DISPOSITIONS = ("adjust", "repair", "downgrade", "scrap")


class NonconformityCase(TenantScoped, Base):
    """A nonconformity case of one instrument: suspect window, impact assessment, disposition."""

    __tablename__ = "nonconformity_cases"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("instrument_id", "instruments"),
        org_fk("record_id", "calibration_records"),
        CheckConstraint(sql_in("state", CASE_STATES), name="state"),
        CheckConstraint(sql_in("source", CASE_SOURCES), name="source"),
        CheckConstraint(sql_in("disposition", DISPOSITIONS), name="disposition"),
        # The rule of the domain, kept by the database too: no closed case without a disposition.
        CheckConstraint("state = 'open' OR disposition IS NOT NULL", name="closed_with_disposition"),
        # One open case per instrument: a second failure is news for the open case, not a new one.
        Index(
            "uq_nonconformity_cases_open",
            "org_id",
            "instrument_id",
            unique=True,
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index("ix_nonconformity_cases_org_id_state", "org_id", "state", "opened_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8), default="open")
    source: Mapped[str] = mapped_column(String(16))
    #: The failed or out-of-tolerance record that opened the case, when one did.
    record_id: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    opened_on: Mapped[date] = mapped_column(Date)
    opened_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    opened_by_name: Mapped[str | None] = mapped_column(String(100))
    #: The suspect window: from the last good result (None: no good result is known) to the opening.
    suspect_from: Mapped[date | None] = mapped_column(Date)
    suspect_to: Mapped[date] = mapped_column(Date)
    #: The status the instrument had when opening the case suspended it (None: the case did not).
    stopped_from: Mapped[str | None] = mapped_column(String(24))
    #: 追溯: what the suspect measurements affected and what was done about them.
    impact_assessment: Mapped[str | None] = mapped_column(Text)
    assessed_by_name: Mapped[str | None] = mapped_column(String(100))
    assessed_at: Mapped[datetime | None]
    disposition: Mapped[str | None] = mapped_column(String(16))
    disposition_note: Mapped[str | None] = mapped_column(Text)
    #: For a downgrade: the limits of use written on the yellow label (e.g. "仅用于0–1 MPa").
    use_limits: Mapped[str | None] = mapped_column(String(200))
    approved_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    approved_by_name: Mapped[str | None] = mapped_column(String(100))
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = in_org("Instrument", "NonconformityCase", "instrument_id")
    record: Mapped[CalibrationRecord | None] = in_org("CalibrationRecord", "NonconformityCase", "record_id")

    @property
    def is_open(self) -> bool:
        """Whether the case still awaits its disposition."""
        return self.state == "open"

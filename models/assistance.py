"""The institute's assistance of small and medium firms (计量服务中小企业行): the yearly plan and records.

Both are the institute's own rows (tenant rows of the institute). A record names a client firm by
id; the institute may only add one for a firm it serves through an active client link, and every
list and figure reads only the firms it serves now.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, sql_in, utcnow

#: survey 调研, training 培训, consultation 咨询, calibration service 校准服务,
#: measurement-management-system training 测量管理体系培训, green-channel handling 绿色通道.
ASSISTANCE_KINDS = (
    "survey",
    "training",
    "consultation",
    "calibration_service",
    "mms_training",
    "green_channel",
)


class AssistancePlan(TenantScoped, Base):
    """The quota of one region for one year: SMEs to help, and SMEs to train in measurement management."""

    __tablename__ = "assistance_plans"
    __table_args__ = (
        UniqueConstraint("org_id", "year", "region_code"),
        CheckConstraint("smes_to_help >= 0", name="smes_to_help"),
        CheckConstraint("smes_for_mms_training >= 0", name="smes_for_mms_training"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    #: GB/T 2260 code of a Henan city or directly administered county (service.validation.henan_regions).
    region_code: Mapped[str] = mapped_column(String(6))
    #: How many small and medium firms of the region the institute is to help in the year.
    smes_to_help: Mapped[int] = mapped_column(Integer, default=0)
    #: How many of them it is to train in measurement management systems (测量管理体系).
    smes_for_mms_training: Mapped[int] = mapped_column(Integer, default=0)
    updated_by_name: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssistanceRecord(TenantScoped, Base):
    """One piece of help the institute gave a client firm: when, what kind, who, and a note."""

    __tablename__ = "assistance_records"
    __table_args__ = (
        CheckConstraint(sql_in("kind", ASSISTANCE_KINDS), name="kind"),
        Index("ix_assistance_records_org_id_done_on", "org_id", "done_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The client firm helped (an active client link when the record was made).
    firm_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    done_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))
    #: Who of the institute gave the help (free text: an expert from outside may have).
    person: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Figures kept between requests: what a firm's dashboard computed from its whole history, and when."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, utcnow


class FigureSnapshot(TenantScoped, Base):
    """The dashboard's history-based figures of one organisation as of one day.

    They are read from every instrument's results and approvals (seconds for a large ledger), so
    they are kept with the sequence number of the organisation's history they were computed at:
    every change to the ledger appends to that history, so a snapshot whose ``history_seq`` is not
    the head's is stale and is computed again.
    """

    __tablename__ = "figure_snapshots"
    __table_args__ = (UniqueConstraint("org_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    history_seq: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

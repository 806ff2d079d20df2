"""The append-only, hash-chained event log of each organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, org_fk, utcnow


class Event(TenantScoped, Base):
    """One change, appended and never updated: each event stores the hash of the one before it.

    ``seq`` numbers an organisation's events 1, 2, 3, … without gaps, so a removed row shows as a
    gap and an altered row as a hash that no longer matches its content.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("org_id", "seq"),
        org_fk("actor_id", "users"),
        Index("ix_events_org_id_subject", "org_id", "subject_type", "subject_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    #: What happened, e.g. ``instrument.created``, ``instrument.updated``, ``status.requested``.
    kind: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    #: The user who acted, when a user did; ``actor_name`` keeps the name as it was then.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The event's content, e.g. ``{"changes": {"location": ["A", "B"]}}``.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class HistoryHead(Base):
    """The tip of an organisation's chain; locking its row serialises appends per organisation."""

    __tablename__ = "history_heads"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))

"""Comparison projects the institute organises as lead laboratory (主导实验室): provincial comparisons.

A project belongs to the institute (its tenant rows); its participants are linked client firms
(``firm_id``, who may enter their own results) or outside laboratories named by the institute.
A participating firm reads its project and its own results across tenants, always through a query
confined to ``firm_id`` (see ``service/measurement/projects/queries.py``); the others' results only
once the report is published.
"""

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
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantScoped, children_in_org, in_org, org_fk, sql_in, utcnow
from models.traceability import READING

#: Whose value the participants are compared with: the lead lab's own, or their weighted mean.
REFERENCE_KINDS = ("lead_lab", "weighted_mean")
#: open (results being entered) → published (the report is out, results are locked).
PROJECT_STATES = ("open", "published")


class ComparisonProject(TenantScoped, Base):
    """A comparison the institute organises: its protocol, reference kind and where it stands."""

    __tablename__ = "comparison_projects"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        CheckConstraint(sql_in("reference_kind", REFERENCE_KINDS), name="reference_kind"),
        CheckConstraint(sql_in("state", PROJECT_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The protocol's number, e.g. "HNBD-2026-03".
    code: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    #: The quantity compared, e.g. "压力".
    quantity: Mapped[str] = mapped_column(String(100))
    #: The unit every value and uncertainty of the project is given in.
    unit: Mapped[str | None] = mapped_column(String(20))
    #: The transfer standard (传递标准) that travels between the laboratories.
    transfer_standard: Mapped[str] = mapped_column(String(200))
    #: The circulation schedule and any other protocol text.
    protocol: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    #: Last day for the participants' results.
    results_due_on: Mapped[date] = mapped_column(Date)
    reference_kind: Mapped[str] = mapped_column(String(16), default="weighted_mean")
    state: Mapped[str] = mapped_column(String(16), default="open")
    published_on: Mapped[date | None] = mapped_column(Date)
    published_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    points: Mapped[list[ProjectPoint]] = children_in_org("ProjectPoint", "ComparisonProject", "project_id")
    participants: Mapped[list[ProjectParticipant]] = children_in_org(
        "ProjectParticipant", "ComparisonProject", "project_id"
    )

    @property
    def is_published(self) -> bool:
        """Whether the report is out (and the results locked)."""
        return self.state == "published"


class ProjectPoint(TenantScoped, Base):
    """A point of the protocol, with the lead laboratory's value when it is the reference."""

    __tablename__ = "comparison_project_points"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "project_id", "position"),
        org_fk("project_id", "comparison_projects", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    nominal: Mapped[Decimal] = mapped_column(READING)
    #: The lead laboratory's value and its expanded uncertainty (k = 2), for a lead-lab reference.
    lead_value: Mapped[Decimal | None] = mapped_column(READING)
    lead_uncertainty: Mapped[Decimal | None] = mapped_column(READING)


class ProjectParticipant(TenantScoped, Base):
    """A laboratory taking part: a linked client firm (``firm_id``) or an outside lab by name."""

    __tablename__ = "comparison_participants"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("project_id", "comparison_projects", ondelete="CASCADE"),
        # The instrument and the comparison record are the participating firm's rows.
        org_fk("instrument_id", "instruments", org="firm_id"),
        org_fk("comparison_id", "comparisons", org="firm_id"),
        Index("ix_comparison_participants_project_id", "project_id"),
        Index("ix_comparison_participants_firm_id", "firm_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer)
    #: The client firm, when the participant has an account; None for an outside laboratory.
    firm_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("organizations.id", ondelete="CASCADE"))
    lab_name: Mapped[str] = mapped_column(String(200))
    #: The laboratory's CNAS accreditation number, e.g. "CNAS L1234".
    cnas_no: Mapped[str | None] = mapped_column(String(40))
    #: The firm's instrument measured in the comparison: the result is recorded on it at publication.
    instrument_id: Mapped[int | None] = mapped_column(Integer)
    #: When the participant measured the transfer standard.
    measured_on: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None] = mapped_column()
    entered_by_name: Mapped[str | None] = mapped_column(String(100))
    #: The comparison recorded on the firm's instrument when the report was published.
    comparison_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[ComparisonProject] = in_org("ComparisonProject", "ProjectParticipant", "project_id")
    results: Mapped[list[ProjectResult]] = children_in_org(
        "ProjectResult", "ProjectParticipant", "participant_id"
    )


class ProjectResult(TenantScoped, Base):
    """A participant's value at one point with its expanded uncertainty (k = 2)."""

    __tablename__ = "comparison_results"
    __table_args__ = (
        UniqueConstraint("org_id", "participant_id", "point_id"),
        org_fk("participant_id", "comparison_participants", ondelete="CASCADE"),
        org_fk("point_id", "comparison_project_points", ondelete="CASCADE"),
        CheckConstraint("uncertainty > 0", name="uncertainty_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(Integer)
    point_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[Decimal] = mapped_column(READING)
    uncertainty: Mapped[Decimal] = mapped_column(READING)
    #: Whether the value enters the weighted mean; the lead lab leaves out one that fails the chi² check.
    is_in_reference: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

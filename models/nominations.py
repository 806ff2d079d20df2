"""Award campaigns an institute runs among its clients (计量溯源先进单位, 工业计量标杆示范单位, …)."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, SharedWithClient, TenantScoped, children_in_org, in_org, org_fk, sql_in, utcnow
from models.tenancy import User, size_class_of

#: The institute's own yearly campaign, the national benchmark programme, or another one.
CAMPAIGN_KINDS = ("traceability_advanced", "industrial_benchmark", "other")
#: 推荐单位: one of the institute's departments (研究所、中心), or an industry alliance (产业、行业计量联盟).
RECOMMENDER_KINDS = ("department", "alliance")
#: A nomination is prepared as a draft and submitted (frozen) while the window is open.
NOMINATION_STATES = ("draft", "submitted")
#: The scans a nomination carries: the stamped recommendation form, the commitment letter (承诺书),
#: the credit-record screenshot (国家企业信用信息公示系统), and evidence (training, culture, data use).
FILE_KINDS = ("recommendation_form", "commitment_letter", "credit_record", "evidence")
#: Kinds without which a nomination cannot be submitted.
REQUIRED_FILE_KINDS = ("recommendation_form", "commitment_letter", "credit_record")
#: A recommender's decision on a submitted nomination: put on its list, or sent back to the firm.
RECOMMENDATIONS = ("accepted", "returned")
#: A campaign's life, in order.
CAMPAIGN_PHASES = ("draft", "open", "review", "notice", "decided", "closed")
#: What the organisers decided on an objection: upheld (the award is removed) or dismissed.
OBJECTION_OUTCOMES = ("upheld", "dismissed")


def new_public_token() -> str:
    """Return the unguessable part of a campaign's public notice address."""
    return secrets.token_urlsafe(12)


class Campaign(TenantScoped, Base):
    """A campaign of an institute (``org_id``): its notice, conditions, categories and windows.

    The windows are local days of the institute's time zone, both ends included.
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        CheckConstraint(sql_in("kind", CAMPAIGN_KINDS), name="kind"),
        CheckConstraint(sql_in("phase", CAMPAIGN_PHASES), name="phase"),
        CheckConstraint("nomination_opens_on <= nomination_closes_on", name="nomination_window"),
        CheckConstraint(
            "review_opens_on > nomination_closes_on AND review_opens_on <= review_closes_on",
            name="review_window",
        ),
        CheckConstraint("notice_days BETWEEN 1 AND 30", name="notice_days"),
        CheckConstraint("large_quota >= 0 AND sme_quota >= 0", name="quotas"),
        Index("ix_campaigns_org_id_year", "org_id", "year"),
        Index("uq_campaigns_public_token", "public_token", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    #: The campaign's name as announced, e.g. ``2026年度计量溯源先进单位评选``.
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    #: 联合主办单位, as written in the notice.
    co_organisers: Mapped[str | None] = mapped_column(Text)
    notice_text: Mapped[str | None] = mapped_column(Text)
    #: 基本条件: each a statement the firm must declare true.
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    #: 成果类别 (计量体系建设, 计量文化建设, 计量数据积累与应用, …): a narrative each.
    categories: Mapped[list] = mapped_column(JSON, default=list)
    #: Who takes objections, and how (name, telephone, email), as the public notice shows them.
    objection_contacts: Mapped[str | None] = mapped_column(Text)
    #: The notice's statement that nothing is charged (不收取任何费用).
    no_fee_statement: Mapped[str | None] = mapped_column(Text)
    nomination_opens_on: Mapped[date] = mapped_column(Date)
    nomination_closes_on: Mapped[date] = mapped_column(Date)
    review_opens_on: Mapped[date] = mapped_column(Date)
    review_closes_on: Mapped[date] = mapped_column(Date)
    #: The public notice's length (公示期), in working days or calendar days.
    notice_days: Mapped[int] = mapped_column(Integer, default=3)
    notice_in_working_days: Mapped[bool] = mapped_column(Boolean, default=True)
    #: How many large and small/medium firms each recommender may put forward.
    large_quota: Mapped[int] = mapped_column(Integer, default=5)
    sme_quota: Mapped[int] = mapped_column(Integer, default=5)
    phase: Mapped[str] = mapped_column(String(16), default="draft")
    #: The public notice's first and last day (公示期), set when the campaign moves to its notice.
    notice_starts_on: Mapped[date | None] = mapped_column(Date)
    notice_ends_on: Mapped[date | None] = mapped_column(Date)
    #: The day the campaign was decided: the date its honour certificates carry.
    decided_on: Mapped[date | None] = mapped_column(Date)
    #: The stable public address of the notice (公示) page.
    public_token: Mapped[str] = mapped_column(String(32), default=new_public_token)
    created_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Recommender(TenantScoped, Base):
    """A recommending body of an institute (``org_id``); its members work on its nominations."""

    __tablename__ = "recommenders"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("org_id", "name"),
        CheckConstraint(sql_in("kind", RECOMMENDER_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    #: Who to call about its nominations (name, telephone), as written.
    contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[RecommenderMember]] = children_in_org(
        "RecommenderMember", "Recommender", "recommender_id"
    )


class RecommenderMember(TenantScoped, Base):
    """A user of the institute who acts for a recommender."""

    __tablename__ = "recommender_members"
    __table_args__ = (
        org_fk("recommender_id", "recommenders", ondelete="CASCADE"),
        org_fk("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("org_id", "recommender_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommender_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer, index=True)

    user: Mapped[User] = in_org("User", "RecommenderMember", "user_id", lazy="joined")


class Nomination(SharedWithClient, Base):
    """A firm's nomination in a campaign of its institute, addressed to one recommender.

    Submitting freezes what the reviewers see: the dossier's figures, the self-check answers with
    the answers the data gave, and the head of the firm's history at that moment.
    """

    __tablename__ = "nominations"
    __table_args__ = (
        *SharedWithClient.side_keys(),
        org_fk("campaign_id", "campaigns", org="institute_id"),
        org_fk("recommender_id", "recommenders", org="institute_id"),
        # One nomination of a firm per campaign.
        UniqueConstraint("campaign_id", "firm_id"),
        CheckConstraint(sql_in("state", NOMINATION_STATES), name="state"),
        CheckConstraint(sql_in("recommendation", RECOMMENDATIONS), name="recommendation"),
        CheckConstraint("rank >= 1", name="rank"),
        Index("ix_nominations_firm_id", "firm_id"),
        Index("ix_nominations_institute_id_campaign_id", "institute_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    recommender_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    #: The recommendation form's unit information (申报单位信息), started from the firm's profile.
    unit_name: Mapped[str | None] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(300))
    employees: Mapped[int | None] = mapped_column(Integer)
    annual_revenue_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    industry: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_mobile: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    #: The narrative of each achievement category, in the campaign's order.
    narratives: Mapped[list] = mapped_column(JSON, default=list)
    #: Each basic condition declared true, in the campaign's order.
    declarations: Mapped[list] = mapped_column(JSON, default=list)
    #: The firm's self-check answers by item number: ``{"answer", "note", "reason"}``.
    self_check: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Frozen at submission: the dossier's figures, the answers the data gave, the history's head.
    frozen_dossier: Mapped[dict | None] = mapped_column(JSON)
    frozen_prefill: Mapped[dict | None] = mapped_column(JSON)
    frozen_head_hash: Mapped[str | None] = mapped_column(String(64))
    #: The scans as submitted: ``{"id", "kind", "filename", "sha256", "size"}`` each.
    frozen_files: Mapped[list | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None]
    #: The recommender's decision (推荐 or 退回), null until it decides; cleared when the firm resubmits.
    recommendation: Mapped[str | None] = mapped_column(String(16))
    #: Why the recommender sent it back; the firm sees it until it submits again.
    returned_reason: Mapped[str | None] = mapped_column(Text)
    #: Its place among the recommender's accepted nominations in the campaign, 1 first.
    rank: Mapped[int | None] = mapped_column(Integer)
    recommended_at: Mapped[datetime | None]
    created_by_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = in_org("Campaign", "Nomination", "campaign_id", org="institute_id")
    recommender: Mapped[Recommender] = in_org(
        "Recommender", "Nomination", "recommender_id", org="institute_id"
    )
    files: Mapped[list[NominationFile]] = relationship(
        primaryjoin="and_(NominationFile.nomination_id == Nomination.id, "
        "NominationFile.firm_id == Nomination.firm_id)",
        foreign_keys="[NominationFile.nomination_id]",
        viewonly=True,
        order_by="NominationFile.id",
    )

    @property
    def size_class(self) -> str | None:
        """Return the size the programme's rule gives the unit's figures."""
        return size_class_of(self.employees, self.annual_revenue_wan)


class NominationFile(Base):
    """A scan a firm uploads with its nomination, stored outside the web root by content hash.

    Like an order's steps it belongs to the firm's side of the shared nomination (``firm_id``);
    the institute reads it through a nomination it has found on its own side.
    """

    __tablename__ = "nomination_files"
    __table_args__ = (
        org_fk("nomination_id", "nominations", org="firm_id", parent_org="firm_id", ondelete="CASCADE"),
        CheckConstraint(sql_in("kind", FILE_KINDS), name="kind"),
        Index("ix_nomination_files_nomination_id", "nomination_id"),
        Index("ix_nomination_files_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(Integer)
    firm_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    #: The person as named then (the firm's user; the institute reads the row too).
    uploaded_by_name: Mapped[str | None] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    def frozen(self) -> dict:
        """Return what a submission keeps of the file."""
        return {
            "id": self.id,
            "kind": self.kind,
            "filename": self.filename,
            "sha256": self.sha256,
            "size": self.size,
        }


class RecommendationList(TenantScoped, Base):
    """A recommender's list in a campaign (推荐名单), once submitted: nothing of it changes afterwards.

    The row exists only once the list is submitted; its accepted nominations, in their rank, go
    forward to the review.
    """

    __tablename__ = "recommendation_lists"
    __table_args__ = (
        org_fk("campaign_id", "campaigns", ondelete="CASCADE"),
        org_fk("recommender_id", "recommenders", ondelete="CASCADE"),
        UniqueConstraint("org_id", "campaign_id", "recommender_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    recommender_id: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by_name: Mapped[str | None] = mapped_column(String(100))


class Award(TenantScoped, Base):
    """A winner the institute (``org_id``) decided on among the nominations that went forward.

    A removed award (an objection upheld) stays, with its reason, and no longer counts; the
    certificate number is assigned when the campaign is decided.
    """

    __tablename__ = "awards"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        org_fk("campaign_id", "campaigns", ondelete="CASCADE"),
        org_fk("nomination_id", "nominations", parent_org="institute_id"),
        UniqueConstraint("org_id", "campaign_id", "nomination_id"),
        UniqueConstraint("org_id", "certificate_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    nomination_id: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    #: Set when an objection is upheld: the award no longer counts, the reason says why.
    removed_at: Mapped[datetime | None]
    removed_reason: Mapped[str | None] = mapped_column(Text)
    #: 证书编号, ``{year}-{seq:03d}``, assigned when the campaign is decided.
    certificate_no: Mapped[str | None] = mapped_column(String(20))

    nomination: Mapped[Nomination] = relationship(
        primaryjoin="and_(Nomination.id == Award.nomination_id, Nomination.institute_id == Award.org_id)",
        foreign_keys="[Award.nomination_id]",
        viewonly=True,
        lazy="joined",
    )

    @property
    def is_removed(self) -> bool:
        """Whether an upheld objection took the award away."""
        return self.removed_at is not None


class Objection(TenantScoped, Base):
    """An objection lodged on a campaign's public notice (异议), by anyone, without signing in.

    The sender's address is kept only as a keyed hash, enough to limit how often one sender lodges.
    """

    __tablename__ = "objections"
    __table_args__ = (
        org_fk("campaign_id", "campaigns", ondelete="CASCADE"),
        # Awards are never deleted (a removed one keeps its row), so no ON DELETE here.
        org_fk("award_id", "awards"),
        CheckConstraint(sql_in("outcome", OBJECTION_OUTCOMES), name="outcome"),
        Index("ix_objections_campaign_id_sender_hash", "campaign_id", "sender_hash"),
        Index(
            "ix_objections_unhandled",
            "campaign_id",
            postgresql_where=text("outcome IS NULL"),
            sqlite_where=text("outcome IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    #: The winner objected to, when the sender names one.
    award_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    #: How to reach the sender (telephone or email), as typed.
    contact: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    #: HMAC-SHA256 of the sender's address (never the address itself).
    sender_hash: Mapped[str] = mapped_column(String(64))
    lodged_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    handled_at: Mapped[datetime | None]
    handled_by_name: Mapped[str | None] = mapped_column(String(100))


class ReviewAssignment(TenantScoped, Base):
    """A reviewer (评审专家, a user of the institute) given a nomination of a campaign, and the review.

    The scores, one per achievement category of the campaign (0–100), stay a draft until the
    reviewer submits them; a submitted review is final, and only then does the reviewer see the
    others' scores of the same nomination.
    """

    __tablename__ = "review_assignments"
    __table_args__ = (
        org_fk("campaign_id", "campaigns", ondelete="CASCADE"),
        org_fk("nomination_id", "nominations", parent_org="institute_id", ondelete="CASCADE"),
        org_fk("reviewer_id", "users", ondelete="CASCADE"),
        UniqueConstraint("org_id", "nomination_id", "reviewer_id"),
        Index("ix_review_assignments_org_id_campaign_id", "org_id", "campaign_id"),
        Index("ix_review_assignments_reviewer_id", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    nomination_id: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[int] = mapped_column(Integer)
    #: A score per category, in the campaign's order (None while not scored yet).
    scores: Mapped[list] = mapped_column(JSON, default=list)
    #: A comment per category, in the campaign's order.
    comments: Mapped[list] = mapped_column(JSON, default=list)
    #: The reviewer's overall opinion.
    opinion: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by_name: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None]

    reviewer: Mapped[User] = in_org("User", "ReviewAssignment", "reviewer_id", lazy="joined")
    campaign: Mapped[Campaign] = in_org("Campaign", "ReviewAssignment", "campaign_id")
    nomination: Mapped[Nomination] = relationship(
        primaryjoin="and_(Nomination.id == ReviewAssignment.nomination_id, "
        "Nomination.institute_id == ReviewAssignment.org_id)",
        foreign_keys="[ReviewAssignment.nomination_id]",
        viewonly=True,
    )

    @property
    def total(self) -> float | None:
        """Return the reviewer's score of the nomination: the mean of the category scores, once all given."""
        if not self.scores or any(score is None for score in self.scores):
            return None
        return sum(self.scores) / len(self.scores)

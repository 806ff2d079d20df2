"""Reading the evidence dossier and the pre-filled self-check of the organisation worked on; campaigns.

The recommending part reads, for an institute, the nominations addressed to its recommenders:
firms' rows shared with the institute, read across tenants and only where ``institute_id`` is the
institute's own.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import (
    Award,
    Campaign,
    ClientLink,
    Instrument,
    Nomination,
    NominationFile,
    Objection,
    Organization,
    RecommendationList,
    Recommender,
    RecommenderMember,
    ReviewAssignment,
    User,
)
from service import figures
from service.actors import Actor
from service.errors import NotFound, invalid_field
from service.i18n import N_, Msg
from service.nominations import self_check
from service.nominations.documents import CertificateData, FormData, SelfCheckRow
from service.nominations.dossier import INSTRUMENT_FIGURES, Dossier, FigureSets, compute, instruments_named
from service.nominations.schemas import DossierOut
from service.nominations.self_check import Item, Prefill
from service.scoping import get_in_org, parse_id
from service.tenancy.queries import active_link

#: How many instruments behind a figure one page lists.
BEHIND_PAGE = 100


def _may_look_back(actor: Actor, as_of: date, today: date) -> None:
    """Refuse a reader without the ledger, and a day after today."""
    actor.require("ledger.read")
    if as_of > today:
        raise invalid_field("as_of", N_("The dossier can only look back: pick today or an earlier day."))


def dossier(session: Session, actor: Actor, as_of: date, today: date) -> Dossier:
    """Return the dossier of the organisation worked on, as of ``as_of`` (not after ``today``)."""
    _may_look_back(actor, as_of, today)
    return compute(session, session.get(Organization, actor.org_id), as_of)


def figure_sets(session: Session, actor: Actor, as_of: date, today: date) -> FigureSets:
    """Return the instrument figures alone (what a drill-down needs), under the dossier's rules."""
    _may_look_back(actor, as_of, today)
    org = session.get(Organization, actor.org_id)
    return FigureSets.of(figures.read_facts(session, org.id, org.timezone), as_of)


@dataclass(frozen=True)
class SelfCheckLine:
    """One item of the table with the answer the data gives, if it gives one."""

    item: Item
    prefill: Prefill | None


def self_check_lines(found: Dossier) -> list[SelfCheckLine]:
    """Return the 33 items in order, each with its pre-filled answer where the data gives one."""
    answers = self_check.prefill(found)
    return [SelfCheckLine(item, answers.get(item.seq)) for item in self_check.items()]


@dataclass(frozen=True)
class Behind:
    """The instruments behind a figure: those short of it first, a page at a time."""

    figure: str
    counted: int
    short: int
    instruments: list[Instrument]
    #: Each listed instrument's missed due dates, for the on-time rate.
    missed: dict[int, list[date]]


def instruments_behind(
    session: Session, actor: Actor, found: FigureSets, figure: str, only_short: bool
) -> Behind:
    """Return the instruments a figure counts, or only those that fall short of it (the first page)."""
    if figure not in INSTRUMENT_FIGURES:
        raise invalid_field("figure", N_("Unknown figure."))
    counted, short = found.instruments_behind(figure)
    listed = (short if only_short else counted)[:BEHIND_PAGE]
    missed: dict[int, list[date]] = {}
    if figure == "on_time":
        for due in found.due_dates:
            if not due.met:
                missed.setdefault(due.instrument_id, []).append(due.due_on)
    return Behind(figure, len(counted), len(short), instruments_named(session, actor.org_id, listed), missed)


def list_campaigns(session: Session, actor: Actor) -> list[Campaign]:
    """Return the institute's campaigns, newest year first."""
    actor.require_institute()
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.org_id == actor.org_id)
            .order_by(Campaign.year.desc(), Campaign.id.desc())
        )
    )


def get_campaign(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """Return one of the institute's campaigns (404 for anyone else's)."""
    actor.require_institute()
    return get_in_org(session, Campaign, campaign_id, actor)


def list_recommenders(session: Session, actor: Actor) -> list[Recommender]:
    """Return the institute's recommenders by name, with their members."""
    actor.require_institute()
    return list(
        session.scalars(
            select(Recommender)
            .where(Recommender.org_id == actor.org_id)
            .order_by(Recommender.name)
            .options(selectinload(Recommender.members))
        )
    )


def get_recommender(session: Session, actor: Actor, recommender_id: int) -> Recommender:
    """Return one of the institute's recommenders (404 for anyone else's)."""
    actor.require_institute()
    return get_in_org(session, Recommender, recommender_id, actor)


def institute_users(session: Session, actor: Actor) -> list[User]:
    """Return the institute's active users, who may act for a recommender."""
    actor.require_institute()
    return list(
        session.scalars(
            select(User).where(User.org_id == actor.org_id, User.is_active.is_(True)).order_by(User.name)
        )
    )


# A firm's nominations. Campaigns and recommenders are the institute's rows: a firm reads them
# across tenants, and only through an active client link.


def open_campaigns(session: Session, actor: Actor, today: date) -> list[Campaign]:
    """Return the campaigns a firm may nominate itself in today: open, in the window, institute linked."""
    linked = select(ClientLink.institute_id).where(
        ClientLink.firm_id == actor.org_id, ClientLink.ended_at.is_(None)
    )
    return list(
        session.scalars(
            select(Campaign)
            .where(
                Campaign.org_id.in_(linked),
                Campaign.phase == "open",
                Campaign.nomination_opens_on <= today,
                Campaign.nomination_closes_on >= today,
            )
            .order_by(Campaign.nomination_closes_on, Campaign.id)
            .execution_options(all_tenants=True)
        )
    )


def recommenders_of(session: Session, institute_id: int) -> list[Recommender]:
    """Return an institute's recommenders, by name (a firm picks one)."""
    return list(
        session.scalars(
            select(Recommender)
            .where(Recommender.org_id == institute_id)
            .order_by(Recommender.name)
            .execution_options(all_tenants=True)
        )
    )


def campaign_open_to(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """Return a campaign of an institute linked to the actor's firm (404 otherwise)."""
    if parse_id(campaign_id) is None:
        raise NotFound(N_("Not found."))
    campaign = session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).execution_options(all_tenants=True)
    )
    if (
        campaign is None
        or active_link(session, campaign.org_id, actor.org_id) is None
        or campaign.phase == "draft"
    ):
        raise NotFound(N_("Not found."))
    return campaign


def recommender_of(session: Session, institute_id: int, recommender_id: int) -> Recommender:
    """Return a recommender of the institute, or refuse the field."""
    found = session.scalar(
        select(Recommender)
        .where(Recommender.org_id == institute_id, Recommender.id == recommender_id)
        .execution_options(all_tenants=True)
    )
    if found is None:
        raise invalid_field("recommender_id", N_("Choose one of the campaign's recommenders."))
    return found


def _with_campaign(statement):
    return statement.options(
        joinedload(Nomination.campaign), joinedload(Nomination.recommender), selectinload(Nomination.files)
    ).execution_options(all_tenants=True)


def nomination_in(session: Session, actor: Actor, campaign_id: int) -> Nomination | None:
    """Return the firm's nomination in a campaign, if it has started one."""
    return session.scalar(
        select(Nomination).where(Nomination.firm_id == actor.org_id, Nomination.campaign_id == campaign_id)
    )


def list_nominations(session: Session, actor: Actor) -> list[Nomination]:
    """Return the firm's nominations, newest first."""
    if actor.home_org_kind != "firm" or actor.via_client_link:
        raise NotFound(N_("Not found."))
    return list(
        session.scalars(
            _with_campaign(
                select(Nomination).where(Nomination.firm_id == actor.org_id).order_by(Nomination.id.desc())
            )
        ).unique()
    )


def get_nomination(session: Session, actor: Actor, nomination_id: int) -> Nomination:
    """Return one of the firm's nominations (404 for anyone else's)."""
    if actor.home_org_kind != "firm" or actor.via_client_link or parse_id(nomination_id) is None:
        raise NotFound(N_("Not found."))
    found = session.scalars(
        _with_campaign(
            select(Nomination).where(Nomination.id == nomination_id, Nomination.firm_id == actor.org_id)
        )
    ).first()
    if found is None:
        raise NotFound(N_("Not found."))
    return found


@dataclass(frozen=True)
class FrozenLine:
    """One self-check item as submitted: the firm's answer and the data's, with its evidence."""

    item: Item
    answer: str | None
    note: str | None
    reason: str | None
    data_answer: str | None
    evidence: Msg | None


def frozen_self_check(nomination: Nomination) -> list[FrozenLine]:
    """Return the self-check as it was submitted (the firm's answers beside the frozen data's)."""
    if nomination.frozen_prefill is None:
        return []
    prefill = {
        int(seq): Prefill(data["answer"], Msg(data["evidence"], data.get("params")))
        for seq, data in nomination.frozen_prefill.items()
    }
    return answered_self_check(nomination, prefill)


def answered_self_check(nomination: Nomination, prefill: dict[int, Prefill]) -> list[FrozenLine]:
    """Return the 33 items with the firm's answer, or else the data's, beside the data's own."""
    lines = []
    for item in self_check.items():
        given = nomination.self_check.get(str(item.seq), {})
        data = prefill.get(item.seq)
        lines.append(
            FrozenLine(
                item,
                given.get("answer") or (data.answer if data else None),
                given.get("note"),
                given.get("reason"),
                data.answer if data else None,
                data.evidence if data else None,
            )
        )
    return lines


def nomination_file(session: Session, nomination: Nomination, file_id: int) -> NominationFile:
    """Return one scan of a nomination the caller has found on its side (or 404)."""
    if parse_id(file_id) is None:
        raise NotFound(N_("Not found."))
    scan = session.scalar(
        select(NominationFile).where(
            NominationFile.id == file_id,
            NominationFile.nomination_id == nomination.id,
            NominationFile.firm_id == nomination.firm_id,
        )
    )
    if scan is None:
        raise NotFound(N_("Not found."))
    return scan


def form_data(session: Session, actor: Actor, nomination: Nomination, today: date) -> FormData:
    """Return what the recommendation form prints: the frozen figures once submitted, today's before."""
    if nomination.frozen_dossier is not None:
        figures_, lines, head = (
            nomination.frozen_dossier,
            frozen_self_check(nomination),
            nomination.frozen_head_hash,
        )
    else:
        found = dossier(session, actor, today, today)
        figures_ = dossier_figures(found)
        lines = answered_self_check(nomination, self_check.prefill(found))
        head = found.history["head_hash"]
    rows = [
        SelfCheckRow(
            line.item.seq, line.item.category, line.item.item, line.item.question, line.answer, line.note
        )
        for line in lines
    ]
    return FormData(nomination, nomination.campaign, nomination.recommender.name, figures_, rows, head)


def dossier_figures(found: Dossier) -> dict:
    """Return the dossier's figures as the API shows them and a submission freezes them."""
    return DossierOut(exclude=("self_check",)).dump(found.as_dict())


def institute_name(session: Session, nomination: Nomination) -> str:
    """Return the name of the institute a nomination is addressed to (the commitment letter's addressee)."""
    return session.scalar(
        select(Organization.name)
        .where(Organization.id == nomination.institute_id)
        .execution_options(all_tenants=True)
    )


# Recommending: the nominations addressed to an institute's recommenders, read by the institute.


def is_member(session: Session, actor: Actor, recommender_id: int) -> bool:
    """Whether the actor is one of the recommender's members."""
    return (
        session.scalar(
            select(RecommenderMember.id).where(
                RecommenderMember.org_id == actor.org_id,
                RecommenderMember.recommender_id == recommender_id,
                RecommenderMember.user_id == actor.user_id,
            )
        )
        is not None
    )


def recommender_for(session: Session, actor: Actor, recommender_id: int) -> Recommender:
    """Return a recommender the actor acts for: as one of its members, or as an administrator (404 else)."""
    recommender = get_recommender(session, actor, recommender_id)
    if not actor.can("org.manage") and not is_member(session, actor, recommender.id):
        raise NotFound(N_("Not found."))
    return recommender


def my_recommenders(session: Session, actor: Actor) -> list[Recommender]:
    """Return the recommenders the actor is a member of, by name (none for anyone but an institute's user).

    Read in the actor's own institute even while it works in a client's data (the navigation asks).
    """
    if actor.home_org_kind != "institute" or actor.user_id is None:
        return []
    return list(
        session.scalars(
            select(Recommender)
            .join(RecommenderMember, RecommenderMember.recommender_id == Recommender.id)
            .where(
                Recommender.org_id == actor.home_org_id,
                RecommenderMember.org_id == actor.home_org_id,
                RecommenderMember.user_id == actor.user_id,
            )
            .order_by(Recommender.name)
            .execution_options(all_tenants=True)
        )
    )


def recommending_campaigns(session: Session, actor: Actor) -> list[Campaign]:
    """Return the institute's campaigns past their draft, newest year first: those recommenders work in."""
    return [campaign for campaign in list_campaigns(session, actor) if campaign.phase != "draft"]


def lock_recommender(session: Session, institute_id: int, recommender_id: int) -> None:
    """Lock the recommender's row until the transaction ends (PostgreSQL; SQLite writes one at a time).

    Everything that reads or changes a recommender's list takes this lock first: its members deciding
    and submitting, a firm withdrawing or submitting a nomination to it. So a list is never
    submitted while a nomination on it is being withdrawn.
    """
    session.execute(
        select(Recommender.id)
        .where(Recommender.org_id == institute_id, Recommender.id == recommender_id)
        .with_for_update()
        .execution_options(all_tenants=True)
    ).all()


def list_of(
    session: Session, institute_id: int, campaign_id: int, recommender_id: int
) -> RecommendationList | None:
    """Return the recommender's submitted list in the campaign, if it has submitted it (any side may ask)."""
    return session.scalar(
        select(RecommendationList)
        .where(
            RecommendationList.org_id == institute_id,
            RecommendationList.campaign_id == campaign_id,
            RecommendationList.recommender_id == recommender_id,
        )
        .execution_options(all_tenants=True)
    )


def _addressed(institute_id: int, campaign_id: int):
    return select(Nomination).where(
        Nomination.institute_id == institute_id,
        Nomination.campaign_id == campaign_id,
        # Drafts are the firm's own work; one sent back stays in sight with the reason.
        (Nomination.state == "submitted") | (Nomination.recommendation == "returned"),
    )


def _in_list_order(nominations) -> list[Nomination]:
    """Accepted ones in their rank, then those still to decide as submitted, then those sent back."""

    def key(n: Nomination):
        group = {"accepted": 0, None: 1, "returned": 2}[n.recommendation]
        return (group, n.rank or 0, n.submitted_at or n.recommended_at, n.id)

    return sorted(nominations, key=key)


def addressed_to(
    session: Session, institute_id: int, campaign_id: int, recommender_id: int
) -> list[Nomination]:
    """Return the nominations addressed to a recommender in a campaign, in list order (no access check)."""
    return _in_list_order(
        session.scalars(
            _addressed(institute_id, campaign_id)
            .where(Nomination.recommender_id == recommender_id)
            .execution_options(all_tenants=True)
        )
    )


@dataclass(frozen=True)
class Addressed:
    """A recommender's work in a campaign: the nominations addressed to it, and its list if submitted."""

    campaign: Campaign
    recommender: Recommender
    listed: RecommendationList | None
    nominations: list[Nomination]

    @property
    def accepted(self) -> list[Nomination]:
        """The accepted nominations, in their rank."""
        return [n for n in self.nominations if n.recommendation == "accepted"]

    @property
    def undecided(self) -> list[Nomination]:
        """The submitted nominations neither accepted nor returned yet."""
        return [n for n in self.nominations if n.state == "submitted" and n.recommendation is None]

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Accepted nominations by size class, each against the campaign's quota."""
        quotas = {"large": self.campaign.large_quota, "small_medium": self.campaign.sme_quota}
        return {
            size: {"accepted": sum(1 for n in self.accepted if n.size_class == size), "quota": quota}
            for size, quota in quotas.items()
        }

    @property
    def may_change(self) -> bool:
        """Whether the recommender may still decide, rank and submit: campaign open, list not submitted."""
        return self.campaign.phase == "open" and self.listed is None


def announced_campaign(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """Return a campaign past its draft: a recommender's members see one only once it is announced."""
    campaign = get_campaign(session, actor, campaign_id)
    if campaign.phase == "draft":
        raise NotFound(N_("Not found."))
    return campaign


def addressed(session: Session, actor: Actor, campaign_id: int, recommender_id: int) -> Addressed:
    """Return a recommender's work in a campaign, for its members and the institute's administrators."""
    campaign = announced_campaign(session, actor, campaign_id)
    recommender = recommender_for(session, actor, recommender_id)
    return Addressed(
        campaign,
        recommender,
        list_of(session, actor.org_id, campaign.id, recommender.id),
        addressed_to(session, actor.org_id, campaign.id, recommender.id),
    )


def addressed_nomination(
    session: Session, actor: Actor, campaign_id: int, recommender_id: int, nomination_id: int
) -> Nomination:
    """Return one nomination addressed to a recommender the actor acts for (404 for any other)."""
    announced_campaign(session, actor, campaign_id)
    recommender_for(session, actor, recommender_id)
    if parse_id(nomination_id) is None:
        raise NotFound(N_("Not found."))
    found = session.scalars(
        _with_campaign(
            _addressed(actor.org_id, campaign_id).where(
                Nomination.id == nomination_id, Nomination.recommender_id == recommender_id
            )
        )
    ).first()
    if found is None:
        raise NotFound(N_("Not found."))
    return found


@dataclass(frozen=True)
class ListState:
    """A recommender's list in a campaign: submitted or not, how many accepted and undecided."""

    recommender: Recommender
    listed: RecommendationList | None
    accepted: int
    undecided: int


def list_states(session: Session, actor: Actor, campaign_id: int) -> list[ListState]:
    """Return every recommender's list in the campaign, by the recommender's name."""
    campaign = get_campaign(session, actor, campaign_id)
    return list_states_of(session, campaign)


def list_states_of(session: Session, campaign: Campaign) -> list[ListState]:
    """Return every recommender's list in ``campaign`` (no access check: the caller has the campaign)."""
    lists = {
        row.recommender_id: row
        for row in session.scalars(
            select(RecommendationList)
            .where(
                RecommendationList.org_id == campaign.org_id, RecommendationList.campaign_id == campaign.id
            )
            .execution_options(all_tenants=True)
        )
    }
    nominations = list(
        session.scalars(_addressed(campaign.org_id, campaign.id).execution_options(all_tenants=True))
    )
    states = []
    for recommender in recommenders_of(session, campaign.org_id):
        mine = [n for n in nominations if n.recommender_id == recommender.id]
        states.append(
            ListState(
                recommender,
                lists.get(recommender.id),
                sum(1 for n in mine if n.recommendation == "accepted"),
                sum(1 for n in mine if n.state == "submitted" and n.recommendation is None),
            )
        )
    return states


# Reviewing: the nominations that went forward, their reviewers and scores, and the ranking.

#: Who may review: the institute's administrators and staff, and outside experts (technicians do the
#: calibration work, not the campaign's).
REVIEWER_ROLES = ("admin", "staff", "expert")


def forwarded(session: Session, campaign: Campaign) -> list[Nomination]:
    """Return the nominations that went forward to the review: accepted on a submitted list.

    By recommender name, then rank (no access check: the caller has the campaign).
    """
    listed = select(RecommendationList.recommender_id).where(
        RecommendationList.org_id == campaign.org_id, RecommendationList.campaign_id == campaign.id
    )
    return list(
        session.scalars(
            select(Nomination)
            .join(
                Recommender,
                (Recommender.id == Nomination.recommender_id)
                & (Recommender.org_id == Nomination.institute_id),
            )
            .where(
                Nomination.institute_id == campaign.org_id,
                Nomination.campaign_id == campaign.id,
                Nomination.state == "submitted",
                Nomination.recommendation == "accepted",
                Nomination.recommender_id.in_(listed),
            )
            .order_by(Recommender.name, Nomination.rank, Nomination.id)
            .options(joinedload(Nomination.recommender))
            .execution_options(all_tenants=True)
        ).unique()
    )


def possible_reviewers(session: Session, actor: Actor) -> list[User]:
    """Return the institute's active users who may review, by name."""
    return [user for user in institute_users(session, actor) if user.role in REVIEWER_ROLES]


def linked_firm_ids(session: Session, institute_id: int) -> list[int]:
    """Return the firms with an active client link to the institute (a campaign is announced to them)."""
    return list(
        session.scalars(
            select(ClientLink.firm_id)
            .where(ClientLink.institute_id == institute_id, ClientLink.ended_at.is_(None))
            .order_by(ClientLink.firm_id)
            .execution_options(all_tenants=True)
        )
    )


def members_of(session: Session, institute_id: int, recommender_id: int) -> list[User]:
    """Return a recommender's active members (read from the firm's side too: they hear of nominations)."""
    return list(
        session.scalars(
            select(User)
            .join(RecommenderMember, RecommenderMember.user_id == User.id)
            .where(
                RecommenderMember.org_id == institute_id,
                RecommenderMember.recommender_id == recommender_id,
                User.org_id == institute_id,
                User.is_active.is_(True),
            )
            .order_by(User.id)
            .execution_options(all_tenants=True)
        )
    )


def members_by_recommender(session: Session, institute_id: int) -> dict[int, set[int]]:
    """Return the user ids of each recommender's members (the reviewer conflict rule reads them)."""
    members: dict[int, set[int]] = {}
    rows = session.execute(
        select(RecommenderMember.recommender_id, RecommenderMember.user_id).where(
            RecommenderMember.org_id == institute_id
        )
    )
    for recommender_id, user_id in rows:
        members.setdefault(recommender_id, set()).add(user_id)
    return members


def assignments_in(session: Session, campaign: Campaign) -> list[ReviewAssignment]:
    """Return every reviewer assignment of a campaign, by reviewer name."""
    found = session.scalars(
        select(ReviewAssignment).where(
            ReviewAssignment.org_id == campaign.org_id, ReviewAssignment.campaign_id == campaign.id
        )
    ).all()
    return sorted(found, key=lambda a: (a.reviewer.name, a.id))


@dataclass(frozen=True)
class Standing:
    """A forwarded nomination in the review: its reviewers and what their submitted scores give."""

    nomination: Nomination
    assignments: list[ReviewAssignment]
    #: The submitted reviews' scores (each the mean of the reviewer's category scores).
    totals: list[float]

    @property
    def mean(self) -> float | None:
        """Return the mean of the submitted scores (None before the first)."""
        return statistics.fmean(self.totals) if self.totals else None

    @property
    def spread(self) -> float | None:
        """Return the highest submitted score less the lowest: how far the reviewers disagree."""
        return max(self.totals) - min(self.totals) if self.totals else None


def ranking(session: Session, actor: Actor, campaign_id: int) -> tuple[Campaign, list[Standing]]:
    """Return the campaign and its forwarded nominations, the best mean score first (unscored last)."""
    actor.require_institute("org.manage")
    campaign = get_campaign(session, actor, campaign_id)
    by_nomination: dict[int, list[ReviewAssignment]] = {}
    for assignment in assignments_in(session, campaign):
        by_nomination.setdefault(assignment.nomination_id, []).append(assignment)
    standings = []
    for nomination in forwarded(session, campaign):
        assigned = by_nomination.get(nomination.id, [])
        totals = [a.total for a in assigned if a.submitted_at is not None and a.total is not None]
        standings.append(Standing(nomination, assigned, totals))
    standings.sort(key=lambda s: (s.mean is None, -(s.mean or 0), s.nomination.unit_name or ""))
    return campaign, standings


def my_assignments(session: Session, actor: Actor) -> list[ReviewAssignment]:
    """Return the reviews given to the actor, newest campaign first.

    Read in the actor's own institute even while it works in a client's data (the navigation asks).
    """
    if actor.home_org_kind != "institute" or actor.user_id is None:
        return []
    found = session.scalars(
        select(ReviewAssignment)
        .where(ReviewAssignment.org_id == actor.home_org_id, ReviewAssignment.reviewer_id == actor.user_id)
        .options(selectinload(ReviewAssignment.campaign), selectinload(ReviewAssignment.nomination))
        .order_by(ReviewAssignment.campaign_id.desc(), ReviewAssignment.id)
        .execution_options(all_tenants=True)
    ).all()
    return list(found)


def has_reviews(session: Session, actor: Actor) -> bool:
    """Whether the actor has been given any review (the navigation asks on every page: one row at most)."""
    if actor.home_org_kind != "institute" or actor.user_id is None:
        return False
    found = session.scalar(
        select(ReviewAssignment.id)
        .where(ReviewAssignment.org_id == actor.home_org_id, ReviewAssignment.reviewer_id == actor.user_id)
        .limit(1)
        .execution_options(all_tenants=True)
    )
    return found is not None


def my_assignment(session: Session, actor: Actor, assignment_id: int) -> ReviewAssignment:
    """Return one review given to the actor (404 for anyone else's, the organiser's included)."""
    if actor.home_org_kind != "institute" or actor.via_client_link or parse_id(assignment_id) is None:
        raise NotFound(N_("Not found."))
    found = session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.id == assignment_id,
            ReviewAssignment.org_id == actor.org_id,
            ReviewAssignment.reviewer_id == actor.user_id,
        )
    )
    if found is None:
        raise NotFound(N_("Not found."))
    return found


def peer_reviews(session: Session, assignment: ReviewAssignment) -> list[ReviewAssignment]:
    """Return the other reviewers' submitted reviews of the same nomination, once the actor's is submitted."""
    if assignment.submitted_at is None:
        return []
    found = session.scalars(
        select(ReviewAssignment).where(
            ReviewAssignment.org_id == assignment.org_id,
            ReviewAssignment.nomination_id == assignment.nomination_id,
            ReviewAssignment.id != assignment.id,
            ReviewAssignment.submitted_at.is_not(None),
        )
    ).all()
    return sorted(found, key=lambda a: a.reviewer.name)


def reviewed_nomination(session: Session, assignment: ReviewAssignment) -> Nomination:
    """Return the nomination a review is of, with its campaign, recommender and scans."""
    return session.scalars(
        _with_campaign(
            select(Nomination).where(
                Nomination.id == assignment.nomination_id, Nomination.institute_id == assignment.org_id
            )
        )
    ).one()


# Awards: the winners among the nominations that went forward, objections to the notice.


def awards_of(session: Session, campaign: Campaign, *, standing_only: bool = False) -> list[Award]:
    """Return a campaign's awards in the order decided (no access check), removed ones too unless asked."""
    statement = select(Award).where(Award.org_id == campaign.org_id, Award.campaign_id == campaign.id)
    if standing_only:
        statement = statement.where(Award.removed_at.is_(None))
    return list(session.scalars(statement.order_by(Award.id).execution_options(all_tenants=True)).unique())


def list_awards(session: Session, actor: Actor, campaign_id: int) -> list[Award]:
    """Return the awards of one of the institute's campaigns."""
    return awards_of(session, get_campaign(session, actor, campaign_id))


def get_award(session: Session, actor: Actor, campaign_id: int, award_id: int) -> Award:
    """Return one award of one of the institute's campaigns (404 for anyone else's)."""
    campaign = get_campaign(session, actor, campaign_id)
    award = get_in_org(session, Award, award_id, actor)
    if award.campaign_id != campaign.id:
        raise NotFound(N_("Not found."))
    return award


def objections_of(session: Session, campaign: Campaign) -> list[Objection]:
    """Return a campaign's objections, those without an outcome first, oldest first (no access check)."""
    return list(
        session.scalars(
            select(Objection)
            .where(Objection.org_id == campaign.org_id, Objection.campaign_id == campaign.id)
            .order_by(Objection.outcome.is_not(None), Objection.lodged_at, Objection.id)
            .execution_options(all_tenants=True)
        )
    )


def list_objections(session: Session, actor: Actor, campaign_id: int) -> list[Objection]:
    """Return the objections to one of the institute's campaigns."""
    return objections_of(session, get_campaign(session, actor, campaign_id))


def get_objection(session: Session, actor: Actor, objection_id: int) -> Objection:
    """Return one objection to one of the institute's campaigns (404 for anyone else's)."""
    actor.require_institute()
    return get_in_org(session, Objection, objection_id, actor)


def unhandled_count(session: Session, campaign: Campaign) -> int:
    """Return how many objections to the campaign have no outcome yet."""
    return sum(1 for objection in objections_of(session, campaign) if objection.outcome is None)


def campaign_by_token(session: Session, token: str) -> Campaign:
    """Return the campaign whose public notice has this address, once its notice has started (404 else)."""
    if not token or len(token) > 32:
        raise NotFound(N_("Not found."))
    campaign = session.scalar(
        select(Campaign).where(Campaign.public_token == token).execution_options(all_tenants=True)
    )
    if campaign is None or campaign.phase not in ("notice", "decided", "closed"):
        raise NotFound(N_("Not found."))
    return campaign


@dataclass(frozen=True)
class Winner:
    """A winner as the public notice lists it: the unit, its recommender and its region."""

    award: Award
    unit_name: str
    recommender: str
    region: str | None


def public_winners(session: Session, campaign: Campaign) -> list[Winner]:
    """Return the standing winners of a campaign, with what the public notice shows of each."""
    from service.validation import region_name

    awards = awards_of(session, campaign, standing_only=True)
    firm_ids = {award.nomination.firm_id for award in awards}
    regions = dict(
        session.execute(
            select(Organization.id, Organization.region_code)
            .where(Organization.id.in_(firm_ids))
            .execution_options(all_tenants=True)
        ).all()
    )
    names = {r.id: r.name for r in recommenders_of(session, campaign.org_id)}
    return [
        Winner(
            award,
            award.nomination.unit_name or "",
            names.get(award.nomination.recommender_id, ""),
            region_name(regions.get(award.nomination.firm_id)),
        )
        for award in awards
    ]


def firm_awards(session: Session, actor: Actor) -> list[tuple[Award, Campaign]]:
    """Return the firm's standing awards in decided or closed campaigns, newest first (its own only)."""
    if actor.home_org_kind != "firm" or actor.via_client_link:
        return []
    rows = session.execute(
        select(Award, Campaign)
        .join(Nomination, (Nomination.id == Award.nomination_id) & (Nomination.institute_id == Award.org_id))
        .join(Campaign, (Campaign.id == Award.campaign_id) & (Campaign.org_id == Award.org_id))
        .where(
            Nomination.firm_id == actor.org_id,
            Award.removed_at.is_(None),
            Campaign.phase.in_(("decided", "closed")),
        )
        .order_by(Award.id.desc())
        .execution_options(all_tenants=True)
    ).unique()
    return [(award, campaign) for award, campaign in rows]


def award_of_nomination(session: Session, nomination: Nomination) -> Award | None:
    """Return the standing award of a nomination the caller has found, once its campaign is decided."""
    if nomination.campaign.phase not in ("decided", "closed"):
        return None
    return session.scalar(
        select(Award)
        .where(
            Award.org_id == nomination.institute_id,
            Award.nomination_id == nomination.id,
            Award.removed_at.is_(None),
        )
        .execution_options(all_tenants=True)
    )


def certificate_data(session: Session, campaign: Campaign, award: Award) -> CertificateData:
    """Return what an award's certificate says; 404 until the campaign is decided, or if it was removed."""
    if campaign.phase not in ("decided", "closed") or award.is_removed or award.certificate_no is None:
        raise NotFound(N_("Not found."))
    institute = session.scalar(
        select(Organization.name)
        .where(Organization.id == campaign.org_id)
        .execution_options(all_tenants=True)
    )
    co_organisers = [line.strip() for line in (campaign.co_organisers or "").splitlines() if line.strip()]
    return CertificateData(
        award.nomination.unit_name or "",
        campaign.title,
        institute,
        co_organisers,
        award.certificate_no,
        campaign.decided_on or campaign.updated_at.date(),
    )


def firm_certificate(session: Session, actor: Actor, nomination_id: int) -> tuple[Award, CertificateData]:
    """Return the firm's award on one of its nominations with its certificate (404 if it has none)."""
    nomination = get_nomination(session, actor, nomination_id)
    award = award_of_nomination(session, nomination)
    if award is None:
        raise NotFound(N_("Not found."))
    return award, certificate_data(session, nomination.campaign, award)

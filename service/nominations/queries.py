"""Reading the evidence dossier and the pre-filled self-check of the organisation worked on; campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import (
    Campaign,
    ClientLink,
    Instrument,
    Nomination,
    NominationFile,
    Organization,
    Recommender,
    User,
)
from service import figures
from service.actors import Actor
from service.errors import NotFound, invalid_field
from service.i18n import N_, Msg
from service.nominations import self_check
from service.nominations.documents import FormData, SelfCheckRow
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

"""Reading the evidence dossier and the pre-filled self-check of the organisation worked on; campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Campaign, Instrument, Organization, Recommender, User
from service.actors import Actor
from service.errors import invalid_field
from service.i18n import N_
from service.nominations import self_check
from service.nominations.dossier import INSTRUMENT_FIGURES, Dossier, compute, instruments_named
from service.nominations.self_check import Item, Prefill
from service.scoping import get_in_org

#: How many instruments behind a figure one page lists.
BEHIND_PAGE = 100


def dossier(session: Session, actor: Actor, as_of: date, today: date) -> Dossier:
    """Return the dossier of the organisation worked on, as of ``as_of`` (not after ``today``)."""
    actor.require("ledger.read")
    if as_of > today:
        raise invalid_field("as_of", N_("The dossier can only look back: pick today or an earlier day."))
    return compute(session, session.get(Organization, actor.org_id), as_of)


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
    session: Session, actor: Actor, found: Dossier, figure: str, only_short: bool
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

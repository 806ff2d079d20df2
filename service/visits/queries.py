"""Reading visits as each side sees them: the institute's to linked clients, a firm's from its institutes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    Visit,
    VisitItem,
)
from models.visits import OPEN_VISIT_STATES
from service.actors import Actor
from service.errors import NotFound
from service.i18n import N_
from service.tenancy.queries import active_client_ids


def institute_visits(session: Session, actor: Actor, first: date | None = None) -> list[Visit]:
    """Return the institute's visits from ``first`` on (open ones of any date), soonest first."""
    actor.require_institute("clients.view")
    stmt = select(Visit).where(
        Visit.institute_id == actor.home_org_id, Visit.firm_id.in_(active_client_ids(actor.home_org_id))
    )
    if first is not None:
        stmt = stmt.where((Visit.planned_on >= first) | Visit.state.in_(OPEN_VISIT_STATES))
    # The instruments are the client's rows, loaded across tenants as in get_institute_visit.
    stmt = stmt.options(selectinload(Visit.items).selectinload(VisitItem.instrument))
    return list(
        session.scalars(stmt.execution_options(all_tenants=True).order_by(Visit.planned_on, Visit.id))
    )


def get_institute_visit(session: Session, actor: Actor, visit_id) -> Visit:
    """Return one of the institute's visits (or 404); technicians may read them."""
    actor.require_institute("clients.view")
    visit = session.scalar(
        select(Visit)
        .where(
            Visit.institute_id == actor.home_org_id,
            Visit.id == visit_id,
            Visit.firm_id.in_(active_client_ids(actor.home_org_id)),
        )
        # The instruments are the client's rows: loaded across tenants (the visit is confined to
        # the institute's side above), or the institute's session would see none of them.
        .options(selectinload(Visit.items).selectinload(VisitItem.instrument))
        .execution_options(all_tenants=True)
    )
    if visit is None:
        raise NotFound(N_("Not found."))
    return visit


def firm_visits(session: Session, actor: Actor) -> list[Visit]:
    """Return the visits institutes have planned to the actor's firm, soonest first."""
    if actor.home_org_kind != "firm":
        raise NotFound(N_("Not found."))
    return list(
        session.scalars(
            select(Visit)
            .where(Visit.firm_id == actor.org_id)
            .options(selectinload(Visit.items).selectinload(VisitItem.instrument))
            .order_by(Visit.planned_on.desc(), Visit.id.desc())
        )
    )


def get_firm_visit(session: Session, actor: Actor, visit_id) -> Visit:
    """Return one visit to the actor's firm (or 404)."""
    visit = session.scalar(select(Visit).where(Visit.firm_id == actor.org_id, Visit.id == visit_id))
    if visit is None or actor.home_org_kind != "firm":
        raise NotFound(N_("Not found."))
    return visit

"""Planning visits from the database: the linked clients' due instruments and the technicians' time.

Reads across tenants on purpose, and only so far: the instruments of firms with an active client
link to the institute, and nothing of them but what a plan needs. Proposing writes nothing; the
staff then create the visits they keep (:mod:`service.visits.operations`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Instrument, Organization, Visit, VisitItem
from models.ledger import RECALLED_STATUSES
from models.visits import OPEN_VISIT_STATES
from service import bookings
from service.actors import Actor
from service.errors import invalid_field
from service.i18n import N_
from service.tenancy.queries import active_client_ids
from service.visits import batching
from service.visits.disciplines import discipline_of
from service.visits.technicians import days_off, list_technicians

#: Why a due instrument that is not in service is not on site for a visit.
AWAY_REASONS = {
    "out_for_calibration": N_("Already out for calibration."),
    "under_repair": N_("Under repair: not on site to calibrate."),
}


@dataclass(frozen=True)
class ClientInfo:
    """What a plan shows of a client firm."""

    id: int
    slug: str
    name: str
    sme: bool


@dataclass(frozen=True)
class Proposal:
    """A plan with the names a page needs."""

    plan: batching.Plan
    clients: dict[str, ClientInfo]
    instruments: dict[int, Instrument]
    start: date
    days: int

    def as_json(self) -> dict:
        """Return the plan as the CLI prints it."""
        return {
            "visits": [
                {
                    "client": v.client,
                    "date": v.date.isoformat(),
                    "technicians": list(v.technicians),
                    "instrument_ids": list(v.instrument_ids),
                    "earliest_due_on": v.earliest_due_on.isoformat(),
                }
                for v in self.plan.visits
            ],
            "unplaced": [
                {"instrument_id": u.instrument_id, "reason": u.reason.render()} for u in self.plan.unplaced
            ],
        }


def linked_clients(session: Session, actor: Actor) -> list[Organization]:
    """Return the firms with an active link to the actor's institute."""
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.id.in_(active_client_ids(actor.home_org_id)))
            .order_by(Organization.slug)
        )
    )


def booked_load(session: Session, actor: Actor, first: date, last: date) -> dict[tuple[int, date], int]:
    """Return how many instruments each technician already has on each day of open visits."""
    rows = session.execute(
        select(VisitItem.technician_id, Visit.planned_on, func.count(VisitItem.id))
        .join(Visit, Visit.id == VisitItem.visit_id)
        .where(
            Visit.institute_id == actor.home_org_id,
            Visit.state.in_(OPEN_VISIT_STATES),
            Visit.planned_on.between(first, last),
            Visit.firm_id.in_(active_client_ids(actor.home_org_id)),
            VisitItem.technician_id.is_not(None),
        )
        .group_by(VisitItem.technician_id, Visit.planned_on)
    )
    return {(technician_id, day): count for technician_id, day, count in rows}


def busy_days(session: Session, actor: Actor, first: date, last: date) -> dict[int, frozenset[date]]:
    """Return each client's days with an open visit of the institute already booked."""
    rows = session.execute(
        select(Visit.firm_id, Visit.planned_on).where(
            Visit.institute_id == actor.home_org_id,
            Visit.state.in_(OPEN_VISIT_STATES),
            Visit.planned_on.between(first, last),
        )
    )
    found: dict[int, set[date]] = defaultdict(set)
    for firm_id, day in rows:
        found[firm_id].add(day)
    return {firm_id: frozenset(days) for firm_id, days in found.items()}


def check_start(start: date, today: date) -> None:
    """Refuse a plan that starts before ``today``: no visit can be made on a day gone by."""
    if start < today:
        raise invalid_field("from", N_("The plan cannot start before today."))


def propose(session: Session, actor: Actor, start: date, days: int) -> Proposal:
    """Propose visits for the institute's linked clients over ``days`` days from ``start``."""
    actor.require_institute("clients.view")  # an institute's tool: a firm finds nothing here
    last = start + timedelta(days=days - 1)
    clients = {c.id: c for c in linked_clients(session, actor)}
    taken = bookings.on_open_visits(clients, institute_id=actor.home_org_id)
    # An instrument on an open service order is already in the institute's hands, or soon will be.
    ordered = bookings.on_open_orders(clients)
    instruments = list(
        session.scalars(
            select(Instrument)
            .where(
                Instrument.org_id.in_(list(clients)),
                Instrument.status.in_(RECALLED_STATUSES),
                Instrument.next_due_on <= last,
                Instrument.id.not_in(taken),
                Instrument.id.not_in(ordered),
            )
            .order_by(Instrument.org_id, Instrument.next_due_on, Instrument.id)
            .execution_options(all_tenants=True)
        )
    )
    items: dict[int, list[batching.Item]] = defaultdict(list)
    early_unplaced = []
    for instrument in instruments:
        if instrument.status != "in_service":
            reason = AWAY_REASONS[instrument.status]
            early_unplaced.append(batching.Unplaced(instrument.id, clients[instrument.org_id].slug, reason))
            continue
        items[instrument.org_id].append(
            batching.Item(
                instrument.id, instrument.next_due_on, discipline_of(instrument.name, instrument.catalog_item)
            )
        )
    away = days_off(session, actor, start, last)
    technicians = [
        batching.Technician(
            t.id, t.name, frozenset(t.disciplines), t.daily_capacity, frozenset(away.get(t.id, ()))
        )
        for t in list_technicians(session, actor, active_only=True)
    ]
    plan = batching.plan_visits(
        [
            batching.Client(clients[org_id].slug, tuple(found), clients[org_id].size_class == "small_medium")
            for org_id, found in items.items()
        ],
        technicians,
        start,
        days,
        booked=booked_load(session, actor, start, last),
        busy={
            clients[firm_id].slug: days_
            for firm_id, days_ in busy_days(session, actor, start, last).items()
            if firm_id in clients
        },
    )
    plan = batching.Plan(plan.visits, tuple(early_unplaced) + plan.unplaced)
    info = {
        c.slug: ClientInfo(c.id, c.slug, c.name, c.size_class == "small_medium") for c in clients.values()
    }
    return Proposal(plan, info, {i.id: i for i in instruments}, start, days)

"""The institute's home: what staff and technicians need on arrival, across its linked clients.

Reads only through the institute's active client links (the visits, orders and board queries it
calls scope by them); nothing here is the institute's own ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Organization, ServiceOrder, Technician, Visit
from models.visits import OPEN_VISIT_STATES
from service.actors import Actor
from service.orders import queries as order_queries
from service.visits import queries as visit_queries
from service.visits.board import client_counts
from service.visits.proposals import linked_clients

#: Rows each list of the home shows; the full lists are a click away.
SHOWN = 10


@dataclass(frozen=True)
class OverdueClient:
    """A client with mandatory (强检) instruments past their due date."""

    firm: Organization
    mandatory_overdue: int
    overdue: int


@dataclass(frozen=True)
class InstituteHome:
    """Today's and this week's visits, the orders waiting, the clients with overdue 强检 instruments."""

    today: list[Visit]
    week: list[Visit]
    orders: list[ServiceOrder]
    orders_waiting: int
    overdue_clients: list[OverdueClient]
    #: The clients' names by id, for the visit and order lists.
    names: dict[int, str]
    #: ``True`` when the visits are the signed-in technician's own.
    own_visits: bool


def institute_home(session: Session, actor: Actor, today: date) -> InstituteHome:
    """Return the institute user's home; a technician sees the visits they work on."""
    actor.require_institute("clients.view")
    week_end = today + timedelta(days=6)
    visits = [
        v
        for v in visit_queries.institute_visits(session, actor, today)
        if v.state in OPEN_VISIT_STATES and today <= v.planned_on <= week_end
    ]
    own = (
        set(
            session.scalars(
                select(Technician.id).where(
                    Technician.org_id == actor.home_org_id, Technician.user_id == actor.user_id
                )
            )
        )
        if actor.role == "technician"
        else set()
    )
    if own:
        visits = [v for v in visits if any(item.technician_id in own for item in v.items)]
    orders = order_queries.institute_orders(session, actor)
    clients = linked_clients(session, actor)
    counts = client_counts(session, [c.id for c in clients], today)
    overdue = sorted(
        (
            OverdueClient(firm, counts[firm.id].mandatory_overdue, counts[firm.id].overdue)
            for firm in clients
            if firm.id in counts and counts[firm.id].mandatory_overdue
        ),
        key=lambda c: (-c.mandatory_overdue, c.firm.name),
    )
    return InstituteHome(
        today=[v for v in visits if v.planned_on == today],
        week=visits,
        orders=orders[:SHOWN],
        orders_waiting=len(orders),
        overdue_clients=overdue,
        names={c.id: c.name for c in clients},
        own_visits=bool(own),
    )

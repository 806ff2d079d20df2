"""Reading service orders, as each side sees them: the firm's own, the institute's from linked clients."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    Instrument,
    Organization,
    ServiceOrder,
    ServiceOrderItem,
)
from service.actors import Actor
from service.errors import NotFound
from service.i18n import N_
from service.orders.schemas import OrderFilterIn
from service.schemas import load_or_invalid
from service.scoping import parse_id
from service.tenancy import queries as tenancy_queries
from service.tenancy.queries import active_client_ids


def side_of(actor: Actor) -> str:
    """Which side of orders the actor acts for: "institute" or "firm" (404 through a client link)."""
    if actor.via_client_link:
        raise NotFound(N_("Not found."))
    return "institute" if actor.home_org_kind == "institute" else "firm"


def require_firm(actor: Actor) -> None:
    """Refuse (404) anyone but a firm acting for itself."""
    if side_of(actor) != "firm":
        raise NotFound(N_("Not found."))


def _with_instruments(stmt):
    """The orders with their items, instruments and steps, loaded across tenants."""
    # The instruments are the client's rows: the order (already confined to the actor's side)
    # loads them across tenants, or an institute's session would see none.
    return stmt.options(
        selectinload(ServiceOrder.items).selectinload(ServiceOrderItem.instrument),
        selectinload(ServiceOrder.steps),
    ).execution_options(all_tenants=True)


def linked_institutes(session: Session, actor: Actor) -> list[Organization]:
    """Return the institutes the actor's firm may order from (an active link), by name."""
    require_firm(actor)
    return tenancy_queries.linked_institutes(session, actor)


def firm_orders(session: Session, actor: Actor) -> list[ServiceOrder]:
    """Return the orders of the actor's firm, newest first."""
    require_firm(actor)
    stmt = select(ServiceOrder).where(ServiceOrder.firm_id == actor.org_id)
    return list(session.scalars(_with_instruments(stmt).order_by(ServiceOrder.id.desc())))


def institute_orders(session: Session, actor: Actor, filters: Mapping | None = None) -> list[ServiceOrder]:
    """Return the institute's orders from linked clients: the open ones (default), one state, or all."""
    actor.require_institute("clients.view")
    state = load_or_invalid(OrderFilterIn(), filters or {})["state"]
    stmt = select(ServiceOrder).where(
        ServiceOrder.institute_id == actor.home_org_id,
        ServiceOrder.firm_id.in_(active_client_ids(actor.home_org_id)),
    )
    if state == "open":
        stmt = stmt.where(ServiceOrder.holds_instruments())
    elif state != "all":
        stmt = stmt.where(ServiceOrder.state == state)
    return list(session.scalars(_with_instruments(stmt).order_by(ServiceOrder.id.desc())))


def get_firm_order(session: Session, actor: Actor, order_id) -> ServiceOrder:
    """Return one order of the actor's firm (or 404)."""
    require_firm(actor)
    if parse_id(order_id) is None:
        raise NotFound(N_("Not found."))
    stmt = select(ServiceOrder).where(ServiceOrder.firm_id == actor.org_id, ServiceOrder.id == order_id)
    order = session.scalar(_with_instruments(stmt))
    if order is None:
        raise NotFound(N_("Not found."))
    return order


def get_institute_order(session: Session, actor: Actor, order_id) -> ServiceOrder:
    """Return one order to the actor's institute from a linked client (or 404); technicians may read it."""
    actor.require_institute("clients.view")
    if parse_id(order_id) is None:
        raise NotFound(N_("Not found."))
    stmt = select(ServiceOrder).where(
        ServiceOrder.institute_id == actor.home_org_id,
        ServiceOrder.id == order_id,
        ServiceOrder.firm_id.in_(active_client_ids(actor.home_org_id)),
    )
    order = session.scalar(_with_instruments(stmt))
    if order is None:
        raise NotFound(N_("Not found."))
    return order


def get_order(session: Session, actor: Actor, order_id) -> ServiceOrder:
    """Return the order as the actor's side sees it: the institute's, or the client's."""
    if side_of(actor) == "institute":
        return get_institute_order(session, actor, order_id)
    return get_firm_order(session, actor, order_id)


def management_nos_of(session: Session, actor: Actor, ids: list[int]) -> list[str]:
    """Return the management numbers of the firm's instruments ``ids`` (the ledger's selection), or 404."""
    require_firm(actor)
    ids = list(dict.fromkeys(ids))
    numbers = dict(
        session.execute(
            select(Instrument.id, Instrument.management_no).where(
                Instrument.org_id == actor.org_id, Instrument.id.in_(ids)
            )
        ).all()
    )
    if len(numbers) != len(ids):
        raise NotFound(N_("Not found."))
    return [numbers[i] for i in ids]

"""Which instruments are already promised to an open calibration visit or service order.

One rule for three places: planning visits leaves booked instruments out, a visit or an order
that names one is refused, and a record written while an order holds the instrument leaves it
out for calibration until the order brings it back.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import Instrument, ServiceOrder, ServiceOrderItem, Visit, VisitItem
from models.visits import OPEN_VISIT_STATES


def on_open_visits(
    firm_ids: Iterable[int], instrument_ids: Iterable[int] | None = None, institute_id: int | None = None
) -> Select[tuple[int]]:
    """Ids of the firms' instruments on a visit still to happen (of one institute, when named)."""
    stmt = (
        select(VisitItem.instrument_id)
        .join(Visit, Visit.id == VisitItem.visit_id)
        .where(VisitItem.firm_id.in_(list(firm_ids)), Visit.state.in_(OPEN_VISIT_STATES))
    )
    if instrument_ids is not None:
        stmt = stmt.where(VisitItem.instrument_id.in_(list(instrument_ids)))
    if institute_id is not None:
        stmt = stmt.where(Visit.institute_id == institute_id)
    return stmt


def on_open_orders(
    firm_ids: Iterable[int], instrument_ids: Iterable[int] | None = None
) -> Select[tuple[int]]:
    """Ids of the firms' instruments on a service order that still holds them."""
    stmt = (
        select(ServiceOrderItem.instrument_id)
        .join(ServiceOrder, ServiceOrder.id == ServiceOrderItem.order_id)
        .where(ServiceOrderItem.firm_id.in_(list(firm_ids)), ServiceOrder.holds_instruments())
    )
    if instrument_ids is not None:
        stmt = stmt.where(ServiceOrderItem.instrument_id.in_(list(instrument_ids)))
    return stmt


def held_by_an_order(session: Session, instrument: Instrument) -> bool:
    """Whether a service order holds the instrument at the institute (received, not yet returned).

    While it does, the instrument stays "out for calibration" whatever is written meanwhile — a
    result by the institute, a correction by the firm, the close of a nonconformity case: the
    order's return brings it back.
    """
    sent_out = on_open_orders([instrument.org_id], [instrument.id]).where(
        ServiceOrderItem.is_sent_out.is_(True)
    )
    return session.scalar(sent_out.limit(1)) is not None

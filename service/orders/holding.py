"""Whether a service order holds an instrument: what brings an instrument back is the order's return."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Instrument, ServiceOrder, ServiceOrderItem


def held_by_an_order(session: Session, instrument: Instrument) -> bool:
    """Whether a service order holds the instrument at the institute (received, not yet returned).

    While it does, the instrument stays "out for calibration" whatever is written meanwhile — a
    result by the institute, a correction by the firm, the close of a nonconformity case: the
    order's return brings it back.
    """
    return (
        session.scalar(
            select(ServiceOrderItem.id)
            .join(ServiceOrder, ServiceOrder.id == ServiceOrderItem.order_id)
            .where(
                ServiceOrderItem.firm_id == instrument.org_id,
                ServiceOrderItem.instrument_id == instrument.id,
                ServiceOrderItem.is_sent_out.is_(True),
                ServiceOrder.holds_instruments(),
            )
            .limit(1)
        )
        is not None
    )

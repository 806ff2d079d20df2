"""Reading nonconformity cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Instrument, NonconformityCase


def current_use_limits(session: Session, instrument: Instrument) -> str | None:
    """Return the limits of use a downgrade wrote on the instrument's yellow label, while they hold.

    They hold while the instrument is still of limited use and no newer result has replaced the one
    the downgrade was decided on.
    """
    if instrument.conclusion != "limited":
        return None
    case = session.scalar(
        select(NonconformityCase)
        .where(
            NonconformityCase.org_id == instrument.org_id,
            NonconformityCase.instrument_id == instrument.id,
            NonconformityCase.state == "closed",
            NonconformityCase.disposition == "downgrade",
        )
        .order_by(NonconformityCase.closed_at.desc(), NonconformityCase.id.desc())
        .limit(1)
        .execution_options(all_tenants=True)
    )
    if case is None or (instrument.last_done_on is not None and instrument.last_done_on > case.closed_on):
        return None
    return case.use_limits

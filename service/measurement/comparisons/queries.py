"""Reading comparison and proficiency-test results, always within the actor's organisation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Comparison, Instrument
from service.actors import Actor
from service.scoping import get_in_org


def results_of(session: Session, actor: Actor, instrument_id: int) -> tuple[Instrument, list[Comparison]]:
    """Return the instrument and its results, newest first (NotFound for a foreign instrument)."""
    actor.require("ledger.read")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    rows = session.scalars(
        select(Comparison)
        .where(Comparison.org_id == actor.org_id, Comparison.instrument_id == instrument.id)
        .order_by(Comparison.performed_on.desc(), Comparison.id.desc())
    )
    return instrument, list(rows)


def get_comparison(session: Session, actor: Actor, comparison_id: int) -> Comparison:
    """Return one result of the actor's organisation (NotFound otherwise)."""
    actor.require("ledger.read")
    return get_in_org(session, Comparison, comparison_id, actor)

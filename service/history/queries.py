"""Reading the history: an instrument's timeline."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Event
from service.actors import Actor


def timeline(
    session: Session, actor: Actor, subject_type: str, subject_id: int, limit: int = 500
) -> list[Event]:
    """Return the events of one subject in the actor's organisation, newest first."""
    actor.require("ledger.read")
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.org_id == actor.org_id,
                Event.subject_type == subject_type,
                Event.subject_id == subject_id,
            )
            .order_by(Event.seq.desc())
            .limit(limit)
        )
    )

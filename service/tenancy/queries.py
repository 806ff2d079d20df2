"""Reading organisations and the links between a firm and its institutes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ClientLink, Organization
from service.actors import Actor


def linked_institutes(session: Session, actor: Actor) -> list[Organization]:
    """Return the institutes the actor's firm is linked to (candidates for the laboratory)."""
    return list(
        session.scalars(
            select(Organization)
            .join(ClientLink, ClientLink.institute_id == Organization.id)
            .where(ClientLink.firm_id == actor.org_id, ClientLink.ended_at.is_(None))
            .order_by(Organization.name)
        )
    )

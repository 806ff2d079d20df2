"""Explicit tenant scoping: the first of the two tenancy guards."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.actors import Actor
from service.errors import NotFound
from service.i18n import N_

T = TypeVar("T")


def get_in_org(session: Session, model: type[T], object_id: int, actor: Actor) -> T:
    """Return ``model`` ``object_id`` of the actor's organisation, or raise :class:`NotFound`.

    Always a query, never ``session.get``: a foreign object already in the identity map would
    otherwise come back unfiltered.
    """
    obj = session.scalar(select(model).where(model.id == object_id, model.org_id == actor.org_id))
    if obj is None:
        raise NotFound(N_("Not found."))
    return obj

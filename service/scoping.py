"""Explicit tenant scoping: the first of the two tenancy guards."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from service.actors import Actor
from service.errors import NotFound
from service.i18n import N_

T = TypeVar("T")

#: Ids are 32-bit in every table; anything outside cannot exist (and would overflow a bind).
MAX_ID = 2**31 - 1


def parse_id(value) -> int | None:
    """Return ``value`` as a database id if it is one (ASCII digits in range), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def get_in_org(session: Session, model: type[T], object_id: int, actor: Actor) -> T:
    """Return ``model`` ``object_id`` of the actor's organisation, or raise :class:`NotFound`.

    ``session.get`` answers from the identity map when the object is already loaded (a page asks
    for its instrument from half a dozen queries: one SELECT instead of seven), so the
    organisation is compared here, after the fact: a foreign object already in the identity map
    is refused like one the database would not return.
    """
    if parse_id(object_id) is None:
        raise NotFound(N_("Not found."))
    obj = session.get(model, object_id)
    if obj is None or obj.org_id != actor.org_id:
        raise NotFound(N_("Not found."))
    return obj

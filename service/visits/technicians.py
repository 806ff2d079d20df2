"""The institute's technicians: their disciplines, daily capacity and days off."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Technician, TechnicianDayOff, User
from service.actors import Actor
from service.errors import Conflict, invalid_field
from service.i18n import N_
from service.schemas import load_or_invalid
from service.scoping import get_in_org
from service.visits.schemas import DayOffIn, TechnicianIn


def list_technicians(session: Session, actor: Actor, active_only: bool = False) -> list[Technician]:
    """Return the institute's technicians by name."""
    actor.require_institute()  # technicians are an institute's; a firm finds none
    stmt = (
        select(Technician).where(Technician.org_id == actor.org_id).order_by(Technician.name, Technician.id)
    )
    if active_only:
        stmt = stmt.where(Technician.is_active.is_(True))
    return list(session.scalars(stmt))


def get_technician(session: Session, actor: Actor, technician_id) -> Technician:
    """Return one technician of the institute (or 404)."""
    actor.require_institute()  # technicians are an institute's; a firm finds none
    return get_in_org(session, Technician, technician_id, actor)


def save_technician(
    session: Session, actor: Actor, payload: Mapping, technician_id: int | None = None
) -> Technician:
    """Add a technician, or change one; a user account, if named, must be the institute's."""
    actor.require_institute()  # technicians are an institute's; a firm finds none
    actor.require("clients.manage")
    data = load_or_invalid(TechnicianIn(), payload)
    technician = (
        Technician(org_id=actor.org_id)
        if technician_id is None
        else get_technician(session, actor, technician_id)
    )
    if data.get("user_id") is not None:
        user = session.scalar(select(User).where(User.org_id == actor.org_id, User.id == data["user_id"]))
        if user is None:
            raise invalid_field("user_id", N_("No such user in your institute."))
        taken = session.scalar(
            select(Technician.id).where(
                Technician.org_id == actor.org_id,
                Technician.user_id == user.id,
                Technician.id != technician.id,
            )
        )
        if taken is not None:
            raise Conflict(N_("This user is already a technician."))
    for name in ("name", "user_id", "daily_capacity", "is_active"):
        setattr(technician, name, data.get(name))
    technician.disciplines = sorted(set(data["disciplines"]))
    session.add(technician)
    session.flush()
    return technician


def add_day_off(session: Session, actor: Actor, technician_id: int, payload: Mapping) -> TechnicianDayOff:
    """Mark a day a technician is away; the planner then leaves them out of that day."""
    technician = get_technician(session, actor, technician_id)
    actor.require("clients.manage")
    data = load_or_invalid(DayOffIn(), payload)
    existing = _day_off(session, actor, technician.id, data["day"])
    if existing is not None:
        return existing
    day_off = TechnicianDayOff(org_id=actor.org_id, technician_id=technician.id, **data)
    session.add(day_off)
    session.flush()
    return day_off


def remove_day_off(session: Session, actor: Actor, technician_id: int, day: date) -> None:
    """Make a technician available again on ``day``."""
    technician = get_technician(session, actor, technician_id)
    actor.require("clients.manage")
    day_off = _day_off(session, actor, technician.id, day)
    if day_off is not None:
        session.delete(day_off)
        session.flush()


def _day_off(session: Session, actor: Actor, technician_id: int, day: date) -> TechnicianDayOff | None:
    return session.scalar(
        select(TechnicianDayOff).where(
            TechnicianDayOff.org_id == actor.org_id,
            TechnicianDayOff.technician_id == technician_id,
            TechnicianDayOff.day == day,
        )
    )


def days_off(session: Session, actor: Actor, first: date, last: date) -> dict[int, set[date]]:
    """Return each technician's days off between ``first`` and ``last``."""
    actor.require_institute()  # technicians are an institute's; a firm finds none
    found: dict[int, set[date]] = {}
    for technician_id, day in session.execute(
        select(TechnicianDayOff.technician_id, TechnicianDayOff.day).where(
            TechnicianDayOff.org_id == actor.org_id, TechnicianDayOff.day.between(first, last)
        )
    ):
        found.setdefault(technician_id, set()).add(day)
    return found

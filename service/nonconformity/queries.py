"""Reading nonconformity cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Department, Event, Instrument, NonconformityCase, Organization, User
from service.actors import Actor
from service.scoping import get_in_org


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


@dataclass(frozen=True)
class Exposure:
    """Where the instrument was, and in whose hands, during part of a case's suspect window."""

    start: date | None
    end: date | None
    department: str | None
    location: str | None
    custodian: str | None


#: The columns that say where an instrument is used and by whom.
PLACE_FIELDS = ("department_id", "location", "custodian_user_id", "custodian_name")


def exposure(session: Session, actor: Actor, case: NonconformityCase) -> list[Exposure]:
    """Return the departments, locations and custodians that used the instrument in the suspect window.

    The instrument's history is walked backwards from its present columns, undoing each change, so
    the periods are right even for an instrument whose creation predates its history.
    """
    instrument = get_in_org(session, Instrument, case.instrument_id, actor)
    zone = ZoneInfo(session.get(Organization, actor.org_id).timezone)
    state = {name: getattr(instrument, name) for name in PLACE_FIELDS}
    periods: list[tuple[date | None, date | None, dict]] = []
    end: date | None = None
    events = session.scalars(
        select(Event)
        .where(
            Event.org_id == actor.org_id,
            Event.subject_type == "instrument",
            Event.subject_id == instrument.id,
        )
        .order_by(Event.seq.desc())
    )
    for event in events:
        changes = {k: v for k, v in (event.data.get("changes") or {}).items() if k in PLACE_FIELDS}
        if not changes:
            continue
        day = event.occurred_at.astimezone(zone).date()
        periods.append((day, end, dict(state)))
        state.update({name: old for name, (old, _new) in changes.items()})
        end = day
    periods.append((None, end, state))
    return _named(session, actor, _within(periods, case.suspect_from, case.suspect_to))


def _within(periods, start: date | None, end: date) -> list[tuple[date | None, date | None, dict]]:
    """Clip the periods (newest first) to the window; oldest first, equal neighbours merged."""
    kept: list[tuple[date | None, date | None, dict]] = []
    for first, last, state in reversed(periods):
        if (last is not None and start is not None and last < start) or (first is not None and first > end):
            continue
        first = start if first is None or (start is not None and first < start) else first
        last = end if last is None or last > end else last
        if kept and kept[-1][2] == state:
            kept[-1] = (kept[-1][0], last, state)
        else:
            kept.append((first, last, state))
    return kept


def _named(session: Session, actor: Actor, periods) -> list[Exposure]:
    departments = dict(
        session.execute(select(Department.id, Department.name).where(Department.org_id == actor.org_id)).all()
    )
    users = dict(session.execute(select(User.id, User.name).where(User.org_id == actor.org_id)).all())
    return [
        Exposure(
            first,
            last,
            departments.get(state["department_id"]),
            state["location"],
            users.get(state["custodian_user_id"]) or state["custodian_name"],
        )
        for first, last, state in periods
    ]


def cases_of(session: Session, actor: Actor, instrument_id: int) -> list[NonconformityCase]:
    """Return an instrument's cases, the newest first."""
    get_in_org(session, Instrument, instrument_id, actor)
    return list(
        session.scalars(
            select(NonconformityCase)
            .where(NonconformityCase.org_id == actor.org_id, NonconformityCase.instrument_id == instrument_id)
            .order_by(NonconformityCase.opened_on.desc(), NonconformityCase.id.desc())
        )
    )


def list_cases(session: Session, actor: Actor, state: str | None = "open") -> list[NonconformityCase]:
    """Return the organisation's cases (open ones by default), the oldest open first."""
    stmt = select(NonconformityCase).where(NonconformityCase.org_id == actor.org_id)
    if state is not None:
        stmt = stmt.where(NonconformityCase.state == state)
    stmt = stmt.options(joinedload(NonconformityCase.instrument)).order_by(
        NonconformityCase.opened_on, NonconformityCase.id
    )
    return list(session.scalars(stmt))


def recently_closed(session: Session, actor: Actor, limit: int = 50) -> list[NonconformityCase]:
    """Return the organisation's latest closed cases, the most recently closed first."""
    return list(
        session.scalars(
            select(NonconformityCase)
            .where(NonconformityCase.org_id == actor.org_id, NonconformityCase.state == "closed")
            .options(joinedload(NonconformityCase.instrument))
            .order_by(NonconformityCase.closed_at.desc(), NonconformityCase.id.desc())
            .limit(limit)
        )
    )


def get_case(session: Session, actor: Actor, case_id) -> NonconformityCase:
    """Return one case of the actor's organisation (or 404)."""
    return get_in_org(session, NonconformityCase, case_id, actor)

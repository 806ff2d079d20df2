"""Visits from proposal to completion: created by staff, answered by the client, worked on site.

- Staff create visits from a proposal (they may move a visit's date); the client is told through
  the outbox and sees the visit in its portal.
- The client confirms or asks for another date; the institute's staff are told. Staff move a
  visit (it is proposed again) or cancel it.
- On the day, each instrument gets a result, written into the client's ledger through the
  traceability operations with the institute as the laboratory and a certificate number from the
  institute's own sequence, or a reason why not. The visit completes when every item has one.

A visit is shared by two organisations: every function here names the side it acts for and reads
only that side's visits (the institute's ``institute_id``, the firm's ``firm_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from marshmallow import ValidationError, fields, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Instrument,
    Organization,
    Technician,
    Visit,
    VisitItem,
)
from models.base import utcnow
from models.visits import OPEN_VISIT_STATES
from service import bookings
from service.actors import Actor
from service.errors import Conflict, NotFound, invalid_field
from service.i18n import N_
from service.reminders.notices import notify_people
from service.schemas import Choice, StrictSchema, Text, load_or_invalid
from service.tenancy.queries import active_link
from service.traceability.certificates import record_for_client
from service.visits.queries import get_firm_visit, get_institute_visit

#: Who hears of visits: the client's administrators and engineers, the institute's admins and staff.
FIRM_ROLES = ("admin", "metrology")
INSTITUTE_ROLES = ("admin", "staff")


class AnswerIn(StrictSchema):
    """The client's answer to a proposed visit."""

    answer = Choice(("confirm", "reschedule"), required=True)
    requested_on = fields.Date(allow_none=True)
    note = Text(1000, multiline=True)

    @validates_schema
    def _date_with_reschedule(self, data, **_kwargs):
        if data.get("answer") == "reschedule" and not data.get("requested_on"):
            raise ValidationError(N_("Give the date you would like instead."), "requested_on")


class MoveIn(StrictSchema):
    """Staff moving a visit to another day."""

    planned_on = fields.Date(required=True)


class SkipIn(StrictSchema):
    """Why an instrument of a visit got no result."""

    reason = Text(500, required=True)


@dataclass(frozen=True)
class NewVisit:
    """A visit to create: the client, the day, and which technician takes which instrument."""

    firm_id: int
    planned_on: date
    assignments: Mapping[int, int | None]
    earliest_due_on: date | None = None


def create_visits(
    session: Session, actor: Actor, planned: Iterable[NewVisit], today: date, base_url: str, now: datetime
) -> list[Visit]:
    """Create proposed visits; each client is told once per visit.

    Refused as a whole when a firm is not a linked client, an instrument is not that firm's or is
    on another open visit, a technician is not the institute's, or a day has passed.
    """
    actor.require_institute("ledger.write")
    created = []
    for new in planned:
        if active_link(session, actor.home_org_id, new.firm_id) is None:
            raise NotFound(N_("Not found."))
        if new.planned_on < today:
            raise invalid_field("planned_on", N_("The day has passed."))
        ids = list(new.assignments)
        owned = set(
            session.scalars(
                select(Instrument.id)
                .where(Instrument.org_id == new.firm_id, Instrument.id.in_(ids))
                .order_by(Instrument.id)
                .with_for_update()  # as an order's submission does: one of the two waits and sees the other
                .execution_options(all_tenants=True)
            )
        )
        if owned != set(ids) or not ids:
            raise NotFound(N_("Not found."))
        away = session.scalars(
            select(Instrument.management_no)
            .where(
                Instrument.org_id == new.firm_id, Instrument.id.in_(ids), Instrument.status != "in_service"
            )
            .execution_options(all_tenants=True)
        ).first()
        if away is not None:
            raise Conflict(N_("%(no)s is not in service at the client: propose the plan again.", no=away))
        busy = bookings.on_open_visits([new.firm_id], ids, institute_id=actor.home_org_id)
        if session.scalars(busy.limit(1)).first() is not None:
            raise Conflict(N_("An instrument is already on another open visit."))
        if session.scalars(bookings.on_open_orders([new.firm_id], ids).limit(1)).first() is not None:
            raise Conflict(N_("An instrument is already on an open service order."))
        technicians = {t for t in new.assignments.values() if t is not None}
        known = set(
            session.scalars(
                select(Technician.id).where(
                    Technician.org_id == actor.home_org_id,
                    Technician.id.in_(technicians),
                    Technician.is_active.is_(True),
                )
            )
        )
        if known != technicians:
            raise NotFound(N_("Not found."))
        due = dict(
            session.execute(
                select(Instrument.id, Instrument.next_due_on)
                .where(Instrument.org_id == new.firm_id, Instrument.id.in_(ids))
                .execution_options(all_tenants=True)
            ).all()
        )
        visit = Visit(
            institute_id=actor.home_org_id,
            firm_id=new.firm_id,
            planned_on=new.planned_on,
            state="proposed",
            earliest_due_on=min((d for d in due.values() if d), default=None),
            created_by_name=actor.name,
        )
        session.add(visit)
        session.flush()
        session.add_all(
            VisitItem(
                visit_id=visit.id,
                institute_id=actor.home_org_id,
                firm_id=new.firm_id,
                instrument_id=instrument_id,
                technician_id=technician_id,
                due_on=due.get(instrument_id),
            )
            for instrument_id, technician_id in new.assignments.items()
        )
        session.flush()
        _tell_client(session, visit, "visit_proposed", today, now, base_url)
        created.append(visit)
    return created


def answer(
    session: Session, actor: Actor, visit_id, payload: Mapping, today: date, base_url: str, now: datetime
) -> Visit:
    """The client confirms a proposed visit or asks for another date; the institute is told."""
    visit = get_firm_visit(session, actor, visit_id)
    actor.require("ledger.write")
    data = load_or_invalid(AnswerIn(), payload)
    if visit.state not in ("proposed", "reschedule_requested"):
        raise Conflict(N_("This visit is no longer waiting for your answer."))
    if data["answer"] == "confirm" and visit.planned_on < today:
        raise Conflict(N_("The proposed day has passed: ask for another date."))
    if data["answer"] == "reschedule" and data["requested_on"] < today:
        raise invalid_field("requested_on", N_("The day has passed."))
    visit.state = "confirmed" if data["answer"] == "confirm" else "reschedule_requested"
    visit.requested_on = data.get("requested_on") if data["answer"] == "reschedule" else None
    visit.client_note = data.get("note")
    visit.answered_by_name = actor.name
    visit.answered_at = utcnow()
    session.flush()
    _tell_institute(session, visit, today, now, base_url)
    return visit


def move(
    session: Session, actor: Actor, visit_id, payload: Mapping, today: date, base_url: str, now: datetime
) -> Visit:
    """Staff move an open visit to another day; it is proposed to the client again."""
    visit = get_institute_visit(session, actor, visit_id)
    actor.require("ledger.write")
    data = load_or_invalid(MoveIn(), payload)
    if visit.state not in OPEN_VISIT_STATES:
        raise Conflict(N_("Only an open visit can be moved."))
    if data["planned_on"] < today:
        raise invalid_field("planned_on", N_("The day has passed."))
    visit.planned_on = data["planned_on"]
    visit.state = "proposed"
    session.flush()
    _tell_client(session, visit, "visit_proposed", today, now, base_url)
    return visit


def cancel(session: Session, actor: Actor, visit_id, today: date, base_url: str, now: datetime) -> Visit:
    """Staff cancel an open visit (its instruments can be planned again); the client is told."""
    visit = get_institute_visit(session, actor, visit_id)
    actor.require("ledger.write")
    if visit.state not in OPEN_VISIT_STATES:
        raise Conflict(N_("Only an open visit can be cancelled."))
    if any(item.state != "pending" for item in visit.items):
        raise Conflict(N_("Results are already recorded: give the others a reason instead."))
    visit.state = "cancelled"
    session.flush()
    _tell_client(session, visit, "visit_cancelled", today, now, base_url)
    return visit


def _worked_item(session: Session, actor: Actor, visit_id, item_id) -> tuple[Visit, VisitItem]:
    visit = get_institute_visit(session, actor, visit_id)
    # Locked, and read again after the lock: two saves of one instrument give one result.
    item = session.scalar(
        select(VisitItem)
        .where(VisitItem.visit_id == visit.id, VisitItem.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise NotFound(N_("Not found."))
    if visit.state != "confirmed":
        raise Conflict(N_("Results are entered on a visit the client has confirmed."))
    if item.state != "pending":
        raise Conflict(N_("This instrument already has its result."))
    _may_work(session, actor, item)
    return visit, item


def may_work(session: Session, actor: Actor, item: VisitItem) -> bool:
    """Whether the actor enters this instrument's result: staff and admins any, a technician their own."""
    if actor.can("ledger.write"):
        return True
    mine = session.scalar(
        select(Technician.id).where(
            Technician.org_id == actor.home_org_id, Technician.user_id == actor.user_id
        )
    )
    return mine is not None and mine == item.technician_id


def _may_work(session: Session, actor: Actor, item: VisitItem) -> None:
    if not may_work(session, actor, item):
        raise NotFound(N_("Not found."))


def record_item(
    session: Session,
    actor: Actor,
    visit_id,
    item_id,
    payload: Mapping,
    today: date,
    uploads=(),
    storage: Path | None = None,
):
    """Write an instrument's result into the client's ledger, with the institute's certificate number."""
    visit, item = _worked_item(session, actor, visit_id, item_id)
    record = record_for_client(
        session, actor, visit.firm_id, item.instrument_id, payload, today, uploads, storage
    )
    item.state = "done"
    item.record_id = record.id
    _complete_if_done(session, visit)
    return record


def skip_item(session: Session, actor: Actor, visit_id, item_id, payload: Mapping) -> VisitItem:
    """Record why an instrument of the visit got no result (not found, not in use, …)."""
    visit, item = _worked_item(session, actor, visit_id, item_id)
    data = load_or_invalid(SkipIn(), payload)
    item.state = "skipped"
    item.skip_reason = data["reason"]
    _complete_if_done(session, visit)
    return item


def _complete_if_done(session: Session, visit: Visit) -> None:
    session.flush()
    session.expire(visit, ["items"])
    if all(i.state != "pending" for i in visit.items):
        visit.state = "completed"
        visit.completed_at = utcnow()
        session.flush()


def _tell_client(
    session: Session, visit: Visit, template: str, today: date, now: datetime, base_url: str
) -> None:
    institute = session.get(Organization, visit.institute_id)
    count = len(visit.items)
    link = f"{base_url.rstrip('/')}/visits/mine"
    notify_people(
        session,
        visit.firm_id,
        FIRM_ROLES,
        "visit",
        template,
        # Each change is news: moving D1 → D2 → D1 the same day tells the client three times.
        f"{visit.id}:{visit.state}:{visit.planned_on.isoformat()}:{now.isoformat()}",
        today,
        now,
        institute=institute.name,
        day=visit.planned_on,
        count=count,
        link=link,
    )


def _tell_institute(session: Session, visit: Visit, today: date, now: datetime, base_url: str) -> None:
    firm = session.get(Organization, visit.firm_id)
    notify_people(
        session,
        visit.institute_id,
        INSTITUTE_ROLES,
        "visit",
        "visit_answered",
        f"{visit.id}:{visit.state}:{visit.requested_on}:{now.isoformat()}",
        today,
        now,
        firm=firm.name,
        day=visit.planned_on,
        state=visit.state,
        requested_on=visit.requested_on,
        note=visit.client_note,
        link=f"{base_url.rstrip('/')}/visits/{visit.id}",
    )

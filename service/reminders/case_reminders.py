"""Reminders of open nonconformity cases, planned with the firm's due-date reminders.

An open case is reminded like an overdue instrument: every ``overdue_every`` days of the firm's
ladder after it opened, to the firm's administrators and metrology engineers, in the app and by
email, one message per person and channel listing all the cases reminded that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import NonconformityCase, Notification, Organization, User
from service.bulk import insert_ignoring_conflicts
from service.reminders.notices import notice_rows
from service.reminders.outbox import idempotency_key

#: Who hears of open cases, and how.
ROLES = ("admin", "metrology")
CHANNELS = ("in_app", "email")


@dataclass(frozen=True)
class OpenCase:
    """A case as its reminder lists it."""

    id: int
    management_no: str
    name: str
    opened_on: date
    days: int
    assessed: bool


def reminded_between(opened_on: date, first_day: date, day: date, every: int) -> bool:
    """Whether a reminder step (every ``every`` days after the opening) falls in ``[first_day, day]``."""
    if every <= 0:
        return False
    start = max((first_day - opened_on).days, 1)
    end = (day - opened_on).days
    if end < start:
        return False
    first_step = -(-start // every) * every  # the first multiple of ``every`` not before ``start``
    return first_step <= end


def cases_to_remind(session: Session, org_id: int, first_day: date, day: date, every: int) -> list[OpenCase]:
    """Return the firm's open cases that reach a reminder step between ``first_day`` and ``day``."""
    cases = session.scalars(
        select(NonconformityCase)
        .where(NonconformityCase.org_id == org_id, NonconformityCase.state == "open")
        .options(joinedload(NonconformityCase.instrument))
        .order_by(NonconformityCase.opened_on, NonconformityCase.id)
    )
    return [
        OpenCase(
            c.id,
            c.instrument.management_no,
            c.instrument.name,
            c.opened_on,
            (day - c.opened_on).days,
            bool(c.impact_assessment),
        )
        for c in cases
        if reminded_between(c.opened_on, first_day, day, every)
    ]


def write_case_reminders(
    session: Session,
    org: Organization,
    cases: list[OpenCase],
    day: date,
    now: datetime,
    send_at: datetime,
    base_url: str,
) -> int:
    """Write one reminder per person and channel listing ``cases``; return how many were new."""
    if not cases:
        return 0
    people = session.scalars(
        select(User)
        .where(User.org_id == org.id, User.role.in_(ROLES), User.is_active.is_(True))
        .order_by(User.id)
    ).all()
    link = base_url.rstrip("/") + "/nonconformity"
    contents = ",".join(str(c.id) for c in cases)
    rows = notice_rows(
        org.id,
        people,
        CHANNELS,
        "open_cases",
        "open_cases",
        day,
        now,
        lambda person, channel: idempotency_key(
            org.id, f"user:{person.id}", channel, day, "open_cases", contents
        ),
        # Within the firm's sending hours, like the digests (in-app ones land at once anyway).
        send_at=send_at,
        org_name=org.name,
        cases=cases,
        link=link,
    )
    return len(
        insert_ignoring_conflicts(session.connection(), Notification.__table__, rows, returning=("id",))
    )

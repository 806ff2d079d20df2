"""Reminders of open nonconformity cases, planned with the firm's due-date reminders.

An open case is reminded like an overdue instrument: every ``overdue_every`` days of the firm's
ladder after it opened, to the firm's administrators and metrology engineers, in the app and by
email, one message per person and channel listing all the cases reminded that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import NonconformityCase, Organization, User
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


def open_cases_of(session: Session, org_ids: Sequence[int]) -> dict[int, list[NonconformityCase]]:
    """Return the open cases of each of ``org_ids``, with their instruments, oldest first."""
    found: dict[int, list[NonconformityCase]] = {org_id: [] for org_id in org_ids}
    cases = session.scalars(
        select(NonconformityCase)
        .where(NonconformityCase.org_id.in_(list(org_ids)), NonconformityCase.state == "open")
        .options(joinedload(NonconformityCase.instrument))
        .order_by(NonconformityCase.opened_on, NonconformityCase.id)
    )
    for case in cases:
        found[case.org_id].append(case)
    return found


def cases_to_remind(
    cases: Iterable[NonconformityCase], first_day: date, day: date, every: int
) -> list[OpenCase]:
    """Return the open ``cases`` that reach a reminder step between ``first_day`` and ``day``."""
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


def case_reminder_rows(
    org: Organization,
    users: Iterable[User],
    cases: list[OpenCase],
    day: date,
    now: datetime,
    send_at: datetime,
    base_url: str,
) -> list[dict]:
    """Return the outbox rows of one reminder per person and channel listing ``cases``.

    ``users`` are the firm's active users, by id; the administrators and metrology staff among
    them are told.
    """
    if not cases:
        return []
    people = [user for user in users if user.role in ROLES]
    link = base_url.rstrip("/") + "/nonconformity"
    contents = ",".join(str(c.id) for c in cases)
    return notice_rows(
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

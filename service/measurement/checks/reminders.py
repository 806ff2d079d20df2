"""Reminders of intermediate checks falling due, planned with the firm's due-date reminders.

A plan's next check is reminded like an instrument's due date: on each day of the firm's ladder
before it (e.g. 30, 15, 7 and 0 days), then every ``overdue_every`` days while it is not done, to
the plan's person and the firm's metrology staff, in the app and by email; from the ladder's
``escalate_from``-th overdue reminder on, the firm's administrators are told too. Only instruments in
use are reminded (not suspended, sealed or scrapped ones), as for due dates, and only active plans.
Each (plan, due date, step) is one message per person and channel: the outbox's idempotency key
carries the three, so a day planned again or caught up sends nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import CheckPlan, Instrument, Notification, Organization, User
from models.ledger import RECALLED_STATUSES
from service.bulk import insert_ignoring_conflicts
from service.reminders.notices import notice_rows
from service.reminders.outbox import idempotency_key
from service.reminders.rules import OVERDUE_HORIZON_DAYS, Ladder

ROLES = ("metrology",)
#: Who is told as well once an overdue check escalates.
ESCALATION_ROLES = ("admin",)
CHANNELS = ("in_app", "email")


def steps_between(due_on: date, offsets, first_day: date, day: date, overdue_every: int = 0) -> list[int]:
    """The ladder's steps reached in ``[first_day, day]``, as days before the due date (negative: late).

    Before the due date, the offsets whose day (``due_on`` minus the offset) falls in the range;
    after it, every ``overdue_every`` days while the check is not done (within the reminders' horizon).
    """
    steps = {o for o in set(offsets) if first_day <= due_on - timedelta(days=o) <= day}
    if overdue_every > 0:
        start = max((first_day - due_on).days, 1)
        end = min((day - due_on).days, OVERDUE_HORIZON_DAYS)
        first_step = -(-start // overdue_every) * overdue_every
        steps |= {-late for late in range(first_step, end + 1, overdue_every)}
    return sorted(steps, reverse=True)


def escalates(ladder: Ladder, step: int) -> bool:
    """Whether a step (days before the due date; negative: late) reaches the ladder's escalation."""
    if step >= 0 or ladder.escalate_from <= 0 or ladder.overdue_every <= 0:
        return False
    return -step // ladder.overdue_every >= ladder.escalate_from


def write_check_reminders(
    session: Session,
    org: Organization,
    ladder: Ladder,
    first_day: date,
    day: date,
    now: datetime,
    send_at: datetime,
    base_url: str,
) -> int:
    """Write the reminders of the firm's checks reaching a step between ``first_day`` and ``day``."""
    plans = session.scalars(
        select(CheckPlan)
        .join(
            Instrument, (Instrument.id == CheckPlan.instrument_id) & (Instrument.org_id == CheckPlan.org_id)
        )
        .where(
            CheckPlan.org_id == org.id,
            CheckPlan.active.is_(True),
            Instrument.status.in_(RECALLED_STATUSES),
            CheckPlan.next_due_on.is_not(None),
            CheckPlan.next_due_on >= first_day - timedelta(days=OVERDUE_HORIZON_DAYS),
            CheckPlan.next_due_on <= day + timedelta(days=max(ladder.offsets, default=0)),
        )
        .options(joinedload(CheckPlan.instrument))
        .order_by(CheckPlan.id)
    ).all()
    if not plans:
        return 0
    users = list(
        session.scalars(
            select(User)
            .where(User.org_id == org.id, User.role.in_(ROLES + ESCALATION_ROLES), User.is_active.is_(True))
            .order_by(User.id)
        )
    )
    staff = [u for u in users if u.role in ROLES]
    admins = [u for u in users if u.role in ESCALATION_ROLES]
    rows = []
    for plan in plans:
        steps = steps_between(plan.next_due_on, ladder.offsets, first_day, day, ladder.overdue_every)
        if not steps:
            continue
        offset = steps[-1]  # the latest step reached: a caught-up day says it once
        people = {u.id: u for u in staff + (admins if escalates(ladder, offset) else [])}
        if plan.performer_user_id is not None:
            person = session.get(User, plan.performer_user_id)
            if person is not None and person.is_active and person.org_id == org.id:
                people[person.id] = person
        due = plan.next_due_on
        contents = f"check_plan:{plan.id}:{due.isoformat()}:{offset}"
        rows += notice_rows(
            org.id,
            list(people.values()),
            CHANNELS,
            "check_due",
            "check_due",
            day,
            now,
            lambda person, channel, contents=contents, due=due: idempotency_key(
                org.id, f"user:{person.id}", channel, due, "check_due", contents
            ),
            send_at=send_at,
            management_no=plan.instrument.management_no,
            name=plan.instrument.name,
            check_object=plan.check_object,
            due_on=due,
            days=(due - day).days,
            link=f"{base_url.rstrip('/')}/check-plans/{plan.id}",
        )
    if not rows:
        return 0
    return len(
        insert_ignoring_conflicts(session.connection(), Notification.__table__, rows, returning=("id",))
    )

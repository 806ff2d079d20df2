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

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import CheckPlan, Instrument, Organization, User
from models.ledger import RECALLED_STATUSES
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


def check_plans_to_remind(
    session: Session, org_ids: Sequence[int], since: date, until: date
) -> dict[int, list[CheckPlan]]:
    """Return each firm's active plans of instruments in use whose next check falls in ``[since, until]``.

    ``since`` and ``until`` bound the widest ladder of the firms asked; :func:`check_reminder_rows`
    keeps the plans that reach a step of their own firm's ladder.
    """
    found: dict[int, list[CheckPlan]] = {org_id: [] for org_id in org_ids}
    plans = session.scalars(
        select(CheckPlan)
        .join(
            Instrument, (Instrument.id == CheckPlan.instrument_id) & (Instrument.org_id == CheckPlan.org_id)
        )
        .where(
            CheckPlan.org_id.in_(list(org_ids)),
            CheckPlan.active.is_(True),
            Instrument.status.in_(RECALLED_STATUSES),
            CheckPlan.next_due_on.is_not(None),
            CheckPlan.next_due_on >= since,
            CheckPlan.next_due_on <= until,
        )
        .options(joinedload(CheckPlan.instrument))
        .order_by(CheckPlan.id)
    )
    for plan in plans:
        found[plan.org_id].append(plan)
    return found


def check_window(ladder: Ladder, first_day: date, day: date) -> tuple[date, date]:
    """The next-check dates that can reach a step of ``ladder`` between ``first_day`` and ``day``."""
    latest = max(ladder.offsets, default=0)
    return first_day - timedelta(days=OVERDUE_HORIZON_DAYS), day + timedelta(days=latest)


def check_reminder_rows(
    org: Organization,
    users: Iterable[User],
    ladder: Ladder,
    plans: Iterable[CheckPlan],
    first_day: date,
    day: date,
    now: datetime,
    send_at: datetime,
    base_url: str,
) -> list[dict]:
    """Return the outbox rows of the firm's checks reaching a step between ``first_day`` and ``day``.

    ``users`` are the firm's active users, by id: its metrology staff, its administrators once a
    check escalates, and a plan's own person when they are among them.
    """
    active = {user.id: user for user in users}
    staff = [u for u in active.values() if u.role in ROLES]
    admins = [u for u in active.values() if u.role in ESCALATION_ROLES]
    rows = []
    for plan in plans:
        steps = steps_between(plan.next_due_on, ladder.offsets, first_day, day, ladder.overdue_every)
        if not steps:
            continue
        offset = steps[-1]  # the latest step reached: a caught-up day says it once
        people = {u.id: u for u in staff + (admins if escalates(ladder, offset) else [])}
        if plan.performer_user_id in active:
            people[plan.performer_user_id] = active[plan.performer_user_id]
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
    return rows

"""When a check plan's checks fall due in a period, and how they were carried out: pure functions.

Used by the periodic plan (周期检定与校准计划), which lists an instrument's intermediate checks
beside its calibrations. For one active plan:

- **Past due dates** come from the checks done: each check sets the next one's date (the check's
  day plus the plan's interval, month-end correct, :func:`rules.next_due`), and the next check
  done after it carries it out.
- **The open due date** is the plan's ``next_due_on`` (the last check's day plus the interval,
  or the first check's date the plan was given).
- **Later due dates** are projected by the interval from the open one; when the open one is
  already overdue they are counted from today, as if it were done today.

A due date is in the period when it falls in it (planned in its month), or when it was already
overdue at the period's start and not carried out before it (planned in the period's first month).
Execution reads as in the periodic plan: carried out on or before the due date **on time**, after
it **late**; not carried out, **overdue** once the due date has passed, else **pending**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from service.measurement.checks import rules

ON_TIME = "on_time"
LATE = "late"
OVERDUE = "overdue"
PENDING = "pending"
#: The most due dates projected for one plan in one period (a daily plan over a year).
MAX_PROJECTED = 400


@dataclass(frozen=True)
class Done:
    """A check done: its day and who did it."""

    performed_on: date
    by: str | None = None


@dataclass(frozen=True)
class PlanFacts:
    """What the schedule needs of a check plan: its interval, its open due date, its checks (any order)."""

    plan_id: int
    instrument_id: int
    interval_months: int | None
    interval_days: int | None
    next_due_on: date | None
    checks: Sequence[Done] = ()


@dataclass(frozen=True)
class CheckDue:
    """One check due in the period, and how it went."""

    plan_id: int
    instrument_id: int
    due_on: date
    #: The month (1-12) the check is planned in.
    planned_month: int
    state: str
    done_on: date | None
    done_by: str | None
    #: Already past its due date at the period's start.
    overdue_at_start: bool
    #: Counted forward by the interval, not yet set by a check.
    projected: bool


def _state(due: date, done_on: date | None, today: date) -> str:
    if done_on is not None:
        return ON_TIME if done_on <= due else LATE
    return OVERDUE if due < today else PENDING


def _next(plan: PlanFacts, day: date) -> date:
    return rules.next_due(day, plan.interval_months, plan.interval_days)


def dues_in(plan: PlanFacts, start: date, end: date, today: date) -> list[CheckDue]:
    """Return the plan's checks due in ``[start, end]`` or overdue at ``start``, executed as of ``today``."""
    done = sorted({c.performed_on: c for c in plan.checks if c.performed_on <= today}.values(), key=_day)
    # (due date, the check that carried it out or None, projected)
    candidates: list[tuple[date, Done | None, bool]] = []
    for index, check in enumerate(done[:-1]):
        candidates.append((_next(plan, check.performed_on), done[index + 1], False))
    if plan.next_due_on is not None:
        opened = plan.next_due_on
        candidates.append((opened, None, False))
        following = _next(plan, max(opened, today) if opened < today else opened)
        for _ in range(MAX_PROJECTED):
            if following > end:
                break
            candidates.append((following, None, True))
            following = _next(plan, following)
    found = []
    for due, by, projected in candidates:
        done_on = by.performed_on if by else None
        if due > end:
            continue
        if due < start:
            # Overdue at the start only when it was late by then: a projected date, or one not
            # due yet today, is expected to be carried out before the period begins.
            if projected or due >= today or (done_on is not None and done_on < start):
                continue
            overdue_at_start, month = True, start.month
        else:
            overdue_at_start, month = False, due.month
        found.append(
            CheckDue(
                plan.plan_id,
                plan.instrument_id,
                due,
                month,
                _state(due, done_on, today),
                done_on,
                by.by if by else None,
                overdue_at_start,
                projected,
            )
        )
    return found


def _day(check: Done) -> date:
    return check.performed_on

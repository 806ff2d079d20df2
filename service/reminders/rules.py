"""Reminder rules as pure functions: the ladder, the overdue escalation, the sending window.

Nothing here touches the database, so each rule is unit-tested on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar

log = logging.getLogger(__name__)

DEFAULT_OFFSETS = (30, 15, 7, 0)
#: Overdue instruments are reminded for this long after their due date, then left to the lists:
#: one that has been overdue for three years is out of use, not forgotten.
OVERDUE_HORIZON_DAYS = 3 * 365
#: A day missed (the scheduler was down) is caught up the next day, for at most this many days.
CATCH_UP_DAYS = 7
#: How far ahead the next sending window is looked for.
WINDOW_SEARCH_DAYS = 40


@dataclass(frozen=True)
class Ladder:
    """When to remind: days before the due date, then every so many days while overdue."""

    offsets: tuple[int, ...] = DEFAULT_OFFSETS
    #: An earlier ladder for mandatory (强检) instruments; ``None`` uses ``offsets``.
    mandatory_offsets: tuple[int, ...] | None = None
    overdue_every: int = 7
    #: From this overdue reminder on, the firm's admins are told too; 0 never.
    escalate_from: int = 2

    def offsets_for(self, is_mandatory: bool) -> tuple[int, ...]:
        """Return the offsets that apply to an instrument."""
        if is_mandatory and self.mandatory_offsets is not None:
            return self.mandatory_offsets
        return self.offsets


@dataclass(frozen=True)
class Stage:
    """Where an instrument stands on the ladder on one day."""

    #: ``due`` (``days`` before the due date) or ``overdue`` (``days`` after it).
    kind: str
    days: int
    #: The overdue reminder's number (1 for the first); 0 before the due date.
    round: int = 0

    def escalates(self, ladder: Ladder) -> bool:
        """Whether the firm's admins are told as well."""
        return self.kind == "overdue" and ladder.escalate_from > 0 and self.round >= ladder.escalate_from


def stage_on(ladder: Ladder, due_on: date, day: date, is_mandatory: bool = False) -> Stage | None:
    """Return the ladder step that ``due_on`` reaches on ``day``, or None when no reminder is due."""
    before = (due_on - day).days
    if before >= 0:
        return Stage("due", before) if before in ladder.offsets_for(is_mandatory) else None
    late = -before
    if ladder.overdue_every and late % ladder.overdue_every == 0 and late <= OVERDUE_HORIZON_DAYS:
        return Stage("overdue", late, late // ladder.overdue_every)
    return None


def latest_stage(
    ladder: Ladder, due_on: date, first_day: date, last_day: date, is_mandatory: bool = False
) -> Stage | None:
    """Return the latest step reached between ``first_day`` and ``last_day`` (a catch-up), as of ``last_day``.

    The step is described as of ``last_day``, the day the message goes out: an instrument whose
    30-day reminder was missed yesterday is reported as due in 29 days.
    """
    day = last_day
    while day >= first_day:
        if stage_on(ladder, due_on, day, is_mandatory):
            before = (due_on - last_day).days
            if before >= 0:
                return Stage("due", before)
            late = -before
            return Stage("overdue", late, max(1, late // ladder.overdue_every) if ladder.overdue_every else 1)
        day -= timedelta(days=1)
    return None


def candidate_due_dates(ladder: Ladder, first_day: date, last_day: date) -> list[tuple[date, date]]:
    """Return ranges of due dates that can reach a step between ``first_day`` and ``last_day``.

    The planner's query selects instruments whose due date falls in these ranges (index seeks),
    so it reads only the instruments it will remind, not every overdue one.
    """
    dates: set[date] = set()
    span = (last_day - first_day).days
    offsets = set(ladder.offsets) | set(ladder.mandatory_offsets or ())
    for offset in offsets:
        dates.update(first_day + timedelta(days=offset + i) for i in range(span + 1))
    ranges = _merge(sorted(dates))
    if ladder.overdue_every:
        every = ladder.overdue_every
        if span + 1 >= every:
            ranges.append(
                (first_day - timedelta(days=OVERDUE_HORIZON_DAYS), last_day - timedelta(days=every))
            )
        else:
            rounds = OVERDUE_HORIZON_DAYS // every
            ranges.extend(
                (first_day - timedelta(days=k * every), last_day - timedelta(days=k * every))
                for k in range(1, rounds + 1)
            )
    return _merge_ranges(ranges)


def _merge(days: list[date]) -> list[tuple[date, date]]:
    ranges: list[tuple[date, date]] = []
    for day in days:
        if ranges and (day - ranges[-1][1]).days <= 1:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _merge_ranges(ranges: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    merged: list[tuple[date, date]] = []
    for start, end in sorted(ranges):
        if merged and (start - merged[-1][1]).days <= 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# Working days and the sending window ---------------------------------------------------------------


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """Whether ``day`` is a Chinese working day (adjusted working weekends included).

    chinese-calendar knows the years the State Council has published; for a later year it raises,
    and Monday to Friday stands in until the package is updated (see :func:`calendar_covers`).
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def calendar_covers(day: date) -> bool:
    """Whether the holiday calendar knows ``day``'s year (else working days are Monday–Friday)."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class Window:
    """When messages may go out: local hours, and optionally only on working days."""

    start: time = time(9, 0)
    end: time = time(18, 0)
    working_days_only: bool = False

    def allows(self, day: date, working_day: Callable[[date], bool] = is_working_day) -> bool:
        """Whether messages may go out at all on ``day``."""
        return not self.working_days_only or working_day(day)


def next_send_time(
    window: Window, after: datetime, working_day: Callable[[date], bool] = is_working_day
) -> datetime:
    """Return ``after`` if it lies in the window, else the window's next opening (``after``'s zone)."""
    zone = after.tzinfo
    for ahead in range(WINDOW_SEARCH_DAYS):
        day = after.date() + timedelta(days=ahead)
        if not window.allows(day, working_day):
            continue
        opens = datetime.combine(day, window.start, zone)
        closes = datetime.combine(day, window.end, zone)
        if after < opens:
            return opens
        if after < closes:
            return after
    # No allowed day within the search (a calendar of holidays only): send rather than never.
    log.warning("no sending window within %s days of %s", WINDOW_SEARCH_DAYS, after)
    return after

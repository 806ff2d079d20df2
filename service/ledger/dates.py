"""Due-date rules: pure functions over calendar dates."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months``, clamped to the last day of the target month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def next_due_on(
    last_done_on: date | None, interval_months: int | None, valid_until: date | None
) -> date | None:
    """Return the next due date of an instrument.

    The certificate's valid-until date wins when given. Otherwise the certificate convention
    applies: valid through the day before the same date one interval later; when that date does
    not exist (31 January + 1 month), through the last day of that month. So 2025-05-06 + 12 →
    2026-05-05, 2025-01-31 + 1 → 2025-02-28, 2024-02-29 + 12 → 2025-02-28, and 2025-03-01 + 1 →
    2025-03-31. (Subtracting the day first and then adding months, as the rule is sometimes
    written, gives the same dates except after the 1st of a month, where it would end three days
    early: 2025-03-01 + 1 → 2025-03-28.) An interval of 0 means no periodic due date.
    """
    if valid_until is not None:
        return valid_until
    if last_done_on is None or not interval_months:
        return None
    anniversary = add_months(last_done_on, interval_months)
    if anniversary.day < last_done_on.day:  # clamped: the month is too short for the date
        return anniversary
    return anniversary - timedelta(days=1)


#: How far a valid-until date may be from a whole number of months and still say the interval.
INTERVAL_SLACK_DAYS = 7


def interval_between(last_done_on: date, valid_until: date) -> int | None:
    """Return the interval in months that a last date and a valid-until date imply, if they imply one.

    2026-01-18 → 2026-07-18 and 2025-05-06 → 2026-05-05 (valid through the day before) are 6 and 12
    months; dates that are not about a whole number of months apart (within a week) imply none.
    """
    if valid_until <= last_done_on:
        return None
    months = (valid_until.year - last_done_on.year) * 12 + valid_until.month - last_done_on.month
    best = None
    for candidate in (months - 1, months, months + 1):
        if candidate <= 0:
            continue
        if next_due_on(last_done_on, candidate, None) == valid_until:
            return candidate
        gap = abs((valid_until - add_months(last_done_on, candidate)).days)
        if gap <= INTERVAL_SLACK_DAYS and (best is None or gap < best[0]):
            best = (gap, candidate)
    return best[1] if best else None


def month_grid(year: int, month: int) -> list[list[date | None]]:
    """Return the weeks of a month, Monday first, with ``None`` for days of other months."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [[d if d.month == month else None for d in week] for week in weeks]

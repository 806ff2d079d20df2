import calendar
from datetime import date, timedelta

import pytest

from service.ledger.dates import add_months, month_grid, next_due_on


@pytest.mark.parametrize(
    ("last", "months", "due"),
    [
        (date(2025, 5, 6), 12, date(2026, 5, 5)),  # the examples
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap February keeps its 29th
        (date(2025, 3, 1), 6, date(2025, 8, 28)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2025, 1, 1), 12, date(2025, 12, 31)),
        (date(2024, 3, 1), 24, date(2026, 2, 28)),
        (date(2025, 7, 15), 120, date(2035, 7, 14)),
    ],
)
def test_certificate_convention(last, months, due):
    assert next_due_on(last, months, None) == due


def test_leap_day_after_day_before():
    # 2023-03-01 - 1 day = 2023-02-28; + 12 months = 2024-02-28 (the 28th exists, no clamping).
    assert next_due_on(date(2023, 3, 1), 12, None) == date(2024, 2, 28)


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2100, 2000])
@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("interval", [1, 6, 12, 13, 24])
def test_every_month_end_is_clamped(year, month, interval):
    last_day = calendar.monthrange(year, month)[1]
    # The last day of a month: the day before is the penultimate day, moved and clamped.
    last = date(year, month, last_day)
    due = next_due_on(last, interval, None)
    start = last - timedelta(days=1)
    target_index = start.year * 12 + start.month - 1 + interval
    ty, tm = divmod(target_index, 12)
    tm += 1
    assert (due.year, due.month) == (ty, tm)
    assert due.day == min(start.day, calendar.monthrange(ty, tm)[1])
    # The first of the next month: the day before is a month end, so the due date is clamped there.
    first_next = last + timedelta(days=1)
    due2 = next_due_on(first_next, interval, None)
    assert due2.day == min(last_day, calendar.monthrange(due2.year, due2.month)[1])


def test_valid_until_wins():
    assert next_due_on(date(2025, 5, 6), 12, date(2025, 12, 1)) == date(2025, 12, 1)


@pytest.mark.parametrize(("last", "months"), [(None, 12), (date(2025, 5, 6), 0), (date(2025, 5, 6), None)])
def test_no_periodic_due(last, months):
    assert next_due_on(last, months, None) is None


def test_add_months_backwards_and_across_years():
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2024, 12, 31), 2) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 15), -13) == date(2023, 12, 15)


def test_month_grid_starts_on_monday():
    weeks = month_grid(2026, 11)
    assert weeks[0][:6] == [None] * 6
    assert weeks[0][6] == date(2026, 11, 1)
    days = [d for week in weeks for d in week if d]
    assert len(days) == 30

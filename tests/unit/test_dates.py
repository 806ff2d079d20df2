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
        (date(2025, 3, 1), 6, date(2025, 8, 31)),  # after the 1st: through the end of the month
        (date(2025, 3, 1), 1, date(2025, 3, 31)),
        (date(2023, 3, 1), 12, date(2024, 2, 29)),  # a leap February ends on the 29th
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2025, 1, 1), 12, date(2025, 12, 31)),
        (date(2024, 3, 1), 24, date(2026, 2, 28)),
        (date(2025, 7, 15), 120, date(2035, 7, 14)),
    ],
)
def test_certificate_convention(last, months, due):
    assert next_due_on(last, months, None) == due


def _oracle(last: date, months: int) -> date:
    """The convention in words: the day before the same date later; the month's end if there is none."""
    year, month = divmod(last.year * 12 + last.month - 1 + months, 12)
    month += 1
    days = calendar.monthrange(year, month)[1]
    if last.day > days:
        return date(year, month, days)
    return date(year, month, last.day) - timedelta(days=1)


@pytest.mark.parametrize("interval", [1, 2, 6, 11, 12, 13, 24, 36, 120])
def test_every_day_of_three_years_including_a_leap_year(interval):
    day = date(2023, 1, 1)
    while day <= date(2025, 12, 31):
        assert next_due_on(day, interval, None) == _oracle(day, interval), day
        day += timedelta(days=1)


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2100, 2000])
@pytest.mark.parametrize("month", range(1, 13))
def test_month_ends(year, month):
    last_day = calendar.monthrange(year, month)[1]
    end = date(year, month, last_day)
    # A month end one month later: the next month's last day when shorter, else the day before.
    due = next_due_on(end, 1, None)
    next_days = calendar.monthrange(due.year, due.month)[1]
    assert due.day == (next_days if next_days < last_day else last_day - 1)
    # Twelve months later is the same month next year, ending the day before or on its end.
    assert (next_due_on(end, 12, None).year, next_due_on(end, 12, None).month) == (year + 1, month)


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

"""The public notice's length: calendar days, or Chinese working days across holidays and weekends."""

from datetime import date

import pytest

from service.nominations.phases import notice_end


@pytest.mark.parametrize(
    ("starts", "days", "ends"),
    [
        # 国庆 2026: Oct 1–7 off, Sat Oct 10 a make-up working day; Wed Sep 30 counts as day 1.
        (date(2026, 9, 30), 3, date(2026, 10, 9)),
        (date(2026, 9, 30), 1, date(2026, 9, 30)),
        # Starting inside the holiday: day 1 is Oct 8; the make-up Saturday counts.
        (date(2026, 10, 3), 3, date(2026, 10, 10)),
        (date(2026, 10, 3), 4, date(2026, 10, 12)),
        # An ordinary weekend: Fri Nov 13 is day 1, the weekend is skipped.
        (date(2026, 11, 13), 3, date(2026, 11, 17)),
        # Starting on a Saturday: day 1 is the Monday.
        (date(2026, 11, 14), 3, date(2026, 11, 18)),
        (date(2026, 11, 16), 5, date(2026, 11, 20)),
    ],
)
def test_working_days_skip_weekends_and_holidays(starts, days, ends):
    assert notice_end(starts, days, in_working_days=True) == ends


@pytest.mark.parametrize(
    ("starts", "days", "ends"),
    [
        (date(2026, 9, 30), 3, date(2026, 10, 2)),  # holidays count as calendar days
        (date(2026, 11, 14), 1, date(2026, 11, 14)),
        (date(2026, 12, 30), 7, date(2027, 1, 5)),
    ],
)
def test_calendar_days_count_the_start_day(starts, days, ends):
    assert notice_end(starts, days, in_working_days=False) == ends

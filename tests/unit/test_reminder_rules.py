"""The reminder rules: the ladder, overdue escalation, catch-up, candidate dates, the sending window."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.reminders.rules import (
    Ladder,
    Stage,
    Window,
    calendar_covers,
    candidate_due_dates,
    is_working_day,
    latest_stage,
    next_send_time,
    stage_on,
)

DAY = date(2026, 12, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("due_in", "expected"),
    [
        (30, Stage("due", 30)),
        (15, Stage("due", 15)),
        (7, Stage("due", 7)),
        (0, Stage("due", 0)),
        (29, None),
        (31, None),
        (1, None),
        (-1, None),
        (-6, None),
        (-7, Stage("overdue", 7, 1)),
        (-14, Stage("overdue", 14, 2)),
        (-21, Stage("overdue", 21, 3)),
        (-15, None),
    ],
)
def test_default_ladder(due_in, expected):
    assert stage_on(Ladder(), DAY + timedelta(days=due_in), DAY) == expected


def test_escalation_from_the_second_overdue_reminder():
    ladder = Ladder()
    first = stage_on(ladder, DAY - timedelta(days=7), DAY)
    second = stage_on(ladder, DAY - timedelta(days=14), DAY)
    assert (first.escalates(ladder), second.escalates(ladder)) == (False, True)
    assert not Stage("due", 0).escalates(ladder)
    assert not second.escalates(Ladder(escalate_from=0))


def test_mandatory_instruments_follow_their_own_earlier_ladder():
    ladder = Ladder(mandatory_offsets=(60, 30, 7, 0))
    due = DAY + timedelta(days=60)
    assert stage_on(ladder, due, DAY, is_mandatory=True) == Stage("due", 60)
    assert stage_on(ladder, due, DAY, is_mandatory=False) is None
    assert stage_on(ladder, DAY + timedelta(days=15), DAY, is_mandatory=True) is None


def test_no_overdue_reminders_when_switched_off():
    assert stage_on(Ladder(overdue_every=0), DAY - timedelta(days=7), DAY) is None


def test_overdue_reminders_stop_after_three_years():
    assert stage_on(Ladder(overdue_every=1), DAY - timedelta(days=3 * 365), DAY) is not None
    assert stage_on(Ladder(overdue_every=1), DAY - timedelta(days=3 * 365 + 1), DAY) is None


def test_a_missed_day_is_caught_up_and_described_as_of_today():
    due = DAY + timedelta(days=29)  # its 30-day reminder fell yesterday
    assert latest_stage(Ladder(), due, DAY - timedelta(days=1), DAY) == Stage("due", 29)
    assert latest_stage(Ladder(), due, DAY, DAY) is None
    overdue = DAY - timedelta(days=8)  # the first overdue reminder fell yesterday
    assert latest_stage(Ladder(), overdue, DAY - timedelta(days=2), DAY) == Stage("overdue", 8, 1)


@pytest.mark.parametrize("span", [0, 1, 3, 6, 7, 10])
@pytest.mark.parametrize(
    "ladder", [Ladder(), Ladder(mandatory_offsets=(90, 60, 0), overdue_every=5), Ladder(overdue_every=0)]
)
def test_candidate_ranges_hold_every_due_date_that_reaches_a_step(ladder, span):
    """Every date that reaches a step is in the ranges; on an ordinary day (no long catch-up) only those."""
    first = DAY - timedelta(days=span)
    ranges = candidate_due_dates(ladder, first, DAY)
    for offset in range(-1200, 400):
        due = DAY + timedelta(days=offset)
        reaches = any(latest_stage(ladder, due, first, DAY, mandatory) for mandatory in (False, True))
        inside = any(start <= due <= end for start, end in ranges)
        exact = not ladder.overdue_every or span + 1 < ladder.overdue_every
        assert inside == reaches if exact else (inside or not reaches), (due, ranges)


def test_working_days_follow_the_state_council_calendar():
    assert not is_working_day(date(2026, 10, 1))  # National Day
    assert is_working_day(date(2026, 10, 10))  # a Saturday worked to make up the holiday
    assert is_working_day(date(2026, 12, 1))
    assert not is_working_day(date(2026, 12, 5))  # Saturday


def test_years_the_calendar_does_not_know_fall_back_to_monday_to_friday():
    assert not calendar_covers(date(2030, 1, 1))
    assert calendar_covers(date(2026, 1, 1))
    assert is_working_day(date(2030, 1, 1))  # a Tuesday: New Year's Day is unknown there
    assert not is_working_day(date(2030, 1, 5))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def test_within_the_window_messages_go_at_once():
    assert next_send_time(Window(), _at(DAY, 10)) == _at(DAY, 10)


def test_before_the_window_they_wait_for_its_opening_and_after_it_for_the_next_day():
    assert next_send_time(Window(), _at(DAY, 0, 5)) == _at(DAY, 9)
    assert next_send_time(Window(), _at(DAY, 18)) == _at(DAY + timedelta(days=1), 9)


def test_working_days_only_skips_weekends_and_holidays():
    friday_evening = _at(date(2026, 9, 30), 19)
    # 1–7 October 2026 are the National Day holiday; the 8th is a Thursday back at work.
    assert next_send_time(Window(working_days_only=True), friday_evening) == _at(date(2026, 10, 8), 9)
    assert next_send_time(Window(), friday_evening) == _at(date(2026, 10, 1), 9)


def test_custom_hours():
    window = Window(time(8, 30), time(11, 0))
    assert next_send_time(window, _at(DAY, 11)) == _at(DAY + timedelta(days=1), 8, 30)
    assert next_send_time(window, _at(DAY, 8, 29)) == _at(DAY, 8, 30)

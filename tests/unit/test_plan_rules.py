"""The periodic plan's rules on worked examples: which lines, when planned, how executed, completion."""

from __future__ import annotations

from datetime import date

import pytest

from service.figures import StatusChange
from service.reports.plan import (
    LATE,
    ON_TIME,
    OVERDUE,
    PENDING,
    LedgerRow,
    Period,
    by_month,
    grouped,
    lines_of,
    plan_entries,
    tally,
)
from tests.unit.test_figures import result, with_results

D = date.fromisoformat
TODAY = D("2026-07-15")
YEAR = Period(2026)


#: The figures' own helpers: an instrument's facts, a calibration result, a history of results.
history = with_results


def only(facts, period=YEAR, today=TODAY):
    [entry] = plan_entries(facts, period, today)
    return entry


def test_a_line_done_on_its_due_date_is_on_time():
    entry = only([history(result("2025-03-10", "2026-03-09"), result("2026-03-09", "2027-03-08"))])
    assert (entry.due_on, entry.planned_month, entry.state, entry.done_on) == (
        D("2026-03-09"),
        3,
        ON_TIME,
        D("2026-03-09"),
    )


def test_a_line_done_a_day_after_its_due_date_is_late():
    entry = only([history(result("2025-03-10", "2026-03-09"), result("2026-03-10", "2027-03-09"))])
    assert (entry.state, entry.done_on) == (LATE, D("2026-03-10"))


def test_a_line_not_done_is_overdue_once_past_and_pending_until_then():
    assert only([history(result("2025-03-10", "2026-03-09"))]).state == OVERDUE
    assert only([history(result("2025-07-16", "2026-07-15"))]).state == PENDING  # due today: can still be met
    assert only([history(result("2025-09-01", "2026-08-31"))]).state == PENDING


def test_an_instrument_overdue_at_the_start_is_planned_in_the_first_month():
    overdue = history(result("2024-11-01", "2025-10-31"), id=1)
    late_in_period = history(result("2024-12-01", "2025-11-30"), result("2026-02-01", "2027-01-31"), id=2)
    renewed_before = history(result("2024-12-01", "2025-11-30"), result("2025-12-20", "2026-12-19"), id=3)
    entries = {
        e.instrument_id: e for e in plan_entries([overdue, late_in_period, renewed_before], YEAR, TODAY)
    }
    assert (entries[1].planned_month, entries[1].state, entries[1].overdue_at_start) == (1, OVERDUE, True)
    assert (entries[2].planned_month, entries[2].state, entries[2].due_on) == (1, LATE, D("2025-11-30"))
    # Renewed before the year began: its line is the new due date, in December.
    assert (entries[3].planned_month, entries[3].due_on, entries[3].overdue_at_start) == (
        12,
        D("2026-12-19"),
        False,
    )
    month = plan_entries([overdue], Period(2026, 5), TODAY)
    assert [(e.planned_month, e.overdue_at_start) for e in month] == [(5, True)]


def test_only_periodic_instruments_in_use_are_planned():
    due = (result("2025-03-10", "2026-03-09"),)
    facts = [
        history(*due, id=1),
        history(*due, id=2, control_method="one_off"),
        history(*due, id=3, interval_months=0),
        history(*due, id=4, status="scrapped"),
        history(*due, id=5, status="suspended"),
        history(*due, id=6, control_method="self_check"),
    ]
    assert [e.instrument_id for e in plan_entries(facts, YEAR, TODAY)] == [1, 6]


def test_scrapped_during_the_year_before_its_due_date_is_not_planned():
    scrapped = history(
        result("2025-03-10", "2026-03-09"),
        status="scrapped",
        changes=(StatusChange(D("2026-02-01"), "scrap"),),
    )
    after = history(
        result("2025-03-10", "2026-03-09"),
        id=2,
        status="scrapped",
        changes=(StatusChange(D("2026-05-01"), "scrap"),),
    )
    assert [e.instrument_id for e in plan_entries([scrapped, after], YEAR, TODAY)] == [2]


def test_entered_during_the_year_counts_from_its_entry():
    entered = history(result("2026-03-01", "2026-08-31"), entered_on=D("2026-04-01"))
    assert only([entered]).due_on == D("2026-08-31")
    assert (
        plan_entries([history(result("2026-03-01", "2026-08-31"), entered_on=D("2027-01-02"))], YEAR, TODAY)
        == []
    )


def test_the_month_filter_keeps_that_month_and_what_was_overdue_at_its_start():
    facts = [
        history(result("2025-03-10", "2026-03-09"), id=1),
        history(result("2025-04-10", "2026-04-09"), id=2),
        history(result("2025-02-10", "2026-02-09"), result("2026-02-01", "2027-01-31"), id=3),
    ]
    assert [(e.instrument_id, e.planned_month) for e in plan_entries(facts, Period(2026, 4), TODAY)] == [
        (1, 4),
        (2, 4),
    ]
    assert [e.instrument_id for e in plan_entries(facts, Period(2026, 3), TODAY)] == [1]


def test_a_six_monthly_instrument_has_two_lines_once_the_first_is_renewed():
    entries = plan_entries(
        [history(result("2025-08-01", "2026-01-31"), result("2026-01-20", "2026-07-19"), interval_months=6)],
        YEAR,
        TODAY,
    )
    assert [(e.planned_month, e.state) for e in entries] == [(1, ON_TIME), (7, PENDING)]


def test_completion_rate_per_month():
    facts = [
        history(result("2025-03-10", "2026-03-09"), result("2026-03-09", "2027-03-08"), id=1),  # on time
        history(result("2025-03-11", "2026-03-10"), result("2026-03-20", "2027-03-19"), id=2),  # late
        history(result("2025-03-12", "2026-03-11"), id=3),  # overdue
        history(result("2025-03-13", "2026-03-12"), result("2026-03-01", "2027-02-28"), id=4),  # on time
        history(result("2025-05-01", "2026-04-30"), id=5),  # overdue
    ]
    entries = plan_entries(facts, YEAR, TODAY)
    months = by_month(entries, YEAR)
    assert sorted(months) == list(range(1, 13))
    march = months[3]
    assert (march.planned, march.on_time, march.late, march.overdue, march.pending) == (4, 2, 1, 1, 0)
    assert march.completion.as_dict() == {"rate": 0.75, "numerator": 3, "denominator": 4}
    assert march.on_time_completion.rate == 0.5
    assert months[4].completion.rate == 0.0
    assert months[1].completion.rate is None
    total = tally(entries)
    assert (total.planned, total.done, total.not_done) == (5, 3, 2)
    assert total.completion.rate == 0.6


@pytest.mark.parametrize(
    ("key", "names"), [("department", ["仪表", "质检", None]), ("lab", ["省计量院", None])]
)
def test_grouped_by_department_and_by_lab_with_subtotals(key, names):
    facts = [
        history(result("2025-03-10", "2026-03-09"), result("2026-03-09", "2027-03-08"), id=1),
        history(result("2025-03-11", "2026-03-10"), id=2),
        history(result("2025-03-12", "2026-03-11"), id=3),
    ]

    def row(id, department, lab):
        return LedgerRow(id, f"N{id}", "压力表", None, None, None, department, lab, "calibration", False)

    rows = {1: row(1, "质检", "省计量院"), 2: row(2, "仪表", "省计量院"), 3: row(3, None, None)}
    groups = grouped(lines_of(plan_entries(facts, YEAR, TODAY), rows), key)
    assert [g.name for g in groups] == names
    assert sum(g.tally.planned for g in groups) == 3
    first = groups[0]
    assert first.lines[0].row.management_no == ("N2" if key == "department" else "N1")
    if key == "lab":
        assert (first.tally.planned, first.tally.on_time, first.tally.overdue) == (2, 1, 1)


def test_periods():
    assert (Period(2024, 2).start, Period(2024, 2).end) == (D("2024-02-01"), D("2024-02-29"))
    assert (YEAR.start, YEAR.end, YEAR.months[-1]) == (D("2026-01-01"), D("2026-12-31"), 12)

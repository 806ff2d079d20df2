"""When a check plan's checks fall due in a period, on worked examples."""

from __future__ import annotations

from datetime import date

from service.measurement.checks.schedule import LATE, ON_TIME, OVERDUE, PENDING, Done, PlanFacts, dues_in

D = date.fromisoformat
TODAY = D("2026-05-20")

#: Monthly; checked 2026-01-10 (sets 02-10), 02-12 (late; sets 03-12), 03-10 (early; sets 04-10, still open).
MONTHLY = PlanFacts(
    1,
    7,
    1,
    None,
    D("2026-04-10"),
    (Done(D("2026-03-10"), "李四"), Done(D("2026-01-10"), "张三"), Done(D("2026-02-12"), "张三")),
)


def table(dues):
    return [
        (d.due_on.isoformat(), d.planned_month, d.state, d.done_on and d.done_on.isoformat()) for d in dues
    ]


def test_a_year_lists_past_open_and_projected_checks():
    dues = dues_in(MONTHLY, D("2026-01-01"), D("2026-12-31"), TODAY)
    assert table(dues)[:3] == [
        ("2026-02-10", 2, LATE, "2026-02-12"),
        ("2026-03-12", 3, ON_TIME, "2026-03-10"),
        ("2026-04-10", 4, OVERDUE, None),
    ]
    assert [d.done_by for d in dues[:3]] == ["张三", "李四", None]
    # the open check is overdue: the following ones are counted from today
    assert [(d.due_on.isoformat(), d.state, d.projected) for d in dues[3:]] == [
        (f"2026-{month:02d}-20", PENDING, True) for month in range(6, 13)
    ]
    assert not any(d.projected for d in dues[:3])
    assert not any(d.overdue_at_start for d in dues)


def test_a_month_holds_its_own_checks_and_one_overdue_at_its_start():
    assert table(dues_in(MONTHLY, D("2026-04-01"), D("2026-04-30"), TODAY)) == [
        ("2026-04-10", 4, OVERDUE, None)
    ]
    [late] = dues_in(MONTHLY, D("2026-05-01"), D("2026-05-31"), TODAY)
    assert (late.due_on, late.planned_month, late.state, late.overdue_at_start) == (
        D("2026-04-10"),
        5,
        OVERDUE,
        True,
    )
    # still not done in June: carried into June's plan too, beside June's own check
    assert table(dues_in(MONTHLY, D("2026-06-01"), D("2026-06-30"), TODAY)) == [
        ("2026-04-10", 6, OVERDUE, None),
        ("2026-06-20", 6, PENDING, None),
    ]
    # a check carried out late, but before the month began, is not carried into it
    assert [d.due_on for d in dues_in(MONTHLY, D("2026-03-01"), D("2026-03-31"), TODAY)] == [D("2026-03-12")]


def test_a_check_done_late_in_the_period_was_overdue_at_its_start():
    plan = PlanFacts(2, 7, 1, None, D("2026-05-15"), (Done(D("2026-01-01")), Done(D("2026-04-15"))))
    [due] = dues_in(plan, D("2026-04-01"), D("2026-04-30"), TODAY)
    assert (due.due_on, due.state, due.done_on, due.overdue_at_start, due.planned_month) == (
        D("2026-02-01"),
        LATE,
        D("2026-04-15"),
        True,
        4,
    )


def test_no_checks_before_the_plan_and_none_after_today_counted():
    assert dues_in(MONTHLY, D("2025-01-01"), D("2025-12-31"), TODAY) == []


def test_a_later_year_starts_with_the_overdue_check_and_the_projection():
    dues = dues_in(MONTHLY, D("2027-01-01"), D("2027-12-31"), TODAY)
    assert (dues[0].due_on, dues[0].planned_month, dues[0].overdue_at_start) == (D("2026-04-10"), 1, True)
    assert [d.due_on for d in dues[1:]] == [D(f"2027-{m:02d}-20") for m in range(1, 13)]


def test_a_plan_in_days_not_yet_started():
    plan = PlanFacts(3, 8, None, 90, D("2026-07-01"))
    assert table(dues_in(plan, D("2026-01-01"), D("2026-12-31"), TODAY)) == [
        ("2026-07-01", 7, PENDING, None),
        ("2026-09-29", 9, PENDING, None),
        ("2026-12-28", 12, PENDING, None),
    ]
    # a later year: the first check is not overdue today, so it is not carried in; the projection is
    later = dues_in(plan, D("2027-01-01"), D("2027-12-31"), TODAY)
    assert [d.due_on for d in later][:2] == [D("2027-03-28"), D("2027-06-26")]
    assert not any(d.overdue_at_start for d in later)


def test_month_ends_are_clamped_as_a_check_on_the_due_date_would_set_them():
    plan = PlanFacts(4, 9, 1, None, D("2026-01-31"))
    dues = dues_in(plan, D("2026-01-01"), D("2026-04-30"), D("2026-01-02"))
    assert [d.due_on for d in dues] == [D("2026-01-31"), D("2026-02-28"), D("2026-03-28"), D("2026-04-28")]


def test_a_plan_without_a_due_date_and_checks_on_one_day():
    plan = PlanFacts(5, 9, 1, None, None, (Done(D("2026-01-10")), Done(D("2026-01-10"))))
    assert dues_in(plan, D("2026-01-01"), D("2026-12-31"), TODAY) == []

"""The report rules on facts built here: KPI groups, on-time per month, months, nonconformity outcomes."""

from __future__ import annotations

from datetime import date

from service.figures import DueDate
from service.reports.dashboard import months_from, months_up_to, on_time_by_month
from service.reports.kpis import kpi_report
from service.reports.lists import CaseLine, NonconformityReport
from tests.unit.test_figures import fact, result, with_results

D = date.fromisoformat
AS_OF = D("2026-06-30")


def test_months_ahead_start_with_this_month_and_cross_the_year():
    months = months_from(D("2026-12-03"), 3)
    assert [month.key for month in months] == ["2026-12", "2027-01", "2027-02"]
    assert months[0].last == D("2026-12-31")
    assert months[2].last == D("2027-02-28")
    assert [month.key for month in months_up_to(D("2026-02-10"), 3)] == ["2025-12", "2026-01", "2026-02"]


def test_on_time_per_month_counts_each_due_date_in_its_month():
    dues = [
        DueDate(1, D("2026-05-31"), True, D("2026-05-31")),  # met on its day
        DueDate(2, D("2026-05-02"), False, D("2026-05-20")),
        DueDate(3, D("2026-06-10"), True, D("2026-06-01")),
    ]
    months = {month.month.key: month.rate for month in on_time_by_month(dues, AS_OF)}
    assert len(months) == 12
    assert (months["2026-05"].numerator, months["2026-05"].denominator) == (1, 2)
    assert (months["2026-06"].numerator, months["2026-06"].denominator) == (1, 1)
    assert months["2025-07"].rate is None


def _verified(id, name, department_id, **overrides):
    """A mandatory instrument verified on 2026-01-10, valid until 2027-01-09."""
    return with_results(
        result("2026-01-10", "2027-01-09", kind="verification"),
        id=id,
        name=name,
        department_id=department_id,
        is_mandatory=True,
        control_method="verification",
        **overrides,
    )


def test_household_meters_and_other_mandatory_instruments_count_in_different_targets():
    facts = [
        _verified(1, "单相电能表", 10, abc_class="C"),  # household meter, valid
        _verified(2, "压力表", 10, abc_class="A"),  # other mandatory, valid
        # A pressure gauge verified long ago, overdue: the other mandatory instruments fall short.
        with_results(
            result("2024-01-10", "2025-01-09", kind="verification"),
            id=3,
            department_id=20,
            is_mandatory=True,
            control_method="verification",
            abc_class="A",
        ),
        fact(4, department_id=None, abc_class=None),  # no department, unclassified, never done
    ]
    report = kpi_report(facts, {10: "动力车间", 20: "质检部"}, AS_OF)
    overall = report.overall
    assert (overall.rates["household"].numerator, overall.rates["household"].denominator) == (1, 1)
    assert (overall.rates["other_mandatory"].numerator, overall.rates["other_mandatory"].denominator) == (
        1,
        2,
    )
    assert (overall.rates["inspection"].numerator, overall.rates["inspection"].denominator) == (2, 3)
    as_data = overall.as_dict()
    assert as_data["household"]["target"] == 0.98
    assert as_data["household"]["meets_target"] is True
    assert as_data["other_mandatory"]["target"] == 0.95
    assert as_data["other_mandatory"]["meets_target"] is False
    assert "target" not in as_data["coverage"]
    # By department: named ones by name, the instruments of none last.
    assert [(line.key, line.name) for line in report.by_department] == [
        (10, "动力车间"),
        (20, "质检部"),
        (None, None),
    ]
    workshop = report.by_department[0]
    assert (workshop.in_use, workshop.mandatory, workshop.rates["inspection"].rate) == (2, 2, 1.0)
    # By ABC class, in class order, the unclassified last.
    assert [line.key for line in report.by_abc] == ["A", "C", None]
    assert report.by_abc[0].rates["inspection"].as_dict() == {"rate": 0.5, "numerator": 1, "denominator": 2}


def test_instruments_entered_after_the_day_are_in_no_group():
    facts = [fact(1, department_id=10), fact(2, department_id=20, entered_on=D("2026-07-01"))]
    report = kpi_report(facts, {10: "A", 20: "B"}, AS_OF)
    assert [line.key for line in report.by_department] == [10]
    assert report.overall.in_use == 1


def _case(id, opened_on, state="open", disposition=None):
    return CaseLine(id, id, f"N{id}", "压力表", D(opened_on), "record", state, disposition, None)


def test_nonconformity_cases_are_counted_in_the_month_they_opened_by_outcome():
    cases = [
        _case(1, "2026-01-05", "closed", "adjust"),
        _case(2, "2026-01-20", "closed", "scrap"),
        _case(3, "2026-03-01"),
        # A closed case keeps its disposition; an open one with a proposed disposition is still open.
        _case(4, "2026-03-02", "open", "repair"),
    ]
    report = NonconformityReport(2026, months_from(D("2026-01-01"), 12), cases)
    assert report.outcomes == ["adjust", "scrap", "open"]
    counts = report.by_month()
    assert counts["adjust"][:3] == [1, 0, 0]
    assert counts["scrap"][:3] == [1, 0, 0]
    assert counts["open"][:3] == [0, 0, 2]
    assert sum(sum(values) for values in counts.values()) == 4

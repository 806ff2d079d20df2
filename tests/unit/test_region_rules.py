"""The rules of the region dashboard and the service statistics, on worked examples."""

from __future__ import annotations

from datetime import date

import pytest

from service.errors import Invalid, NotFound
from service.figures import Rate
from service.reports.regions import (
    HOUSEHOLD,
    IN_USE,
    IN_USE_OVERDUE,
    OTHER_MANDATORY,
    OVERDUE,
    RETIRED,
    UNKNOWN,
    VERIFIED,
    Client,
    Figures,
    check_region,
    fold_figures,
    group_by_region,
    parse_year,
    ranked,
    region_key,
    year_bounds,
)
from service.reports.service_stats import (
    Calibration,
    count_by,
    on_time,
    recorder_names,
    technician_of,
    turnaround,
)

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("value", "year"), [(None, 2026), ("", 2026), (" 2025 ", 2025), ("2000", 2000), (2100, 2100)]
)
def test_a_year_is_this_year_by_default_and_any_from_2000_to_2100(value, year):
    assert parse_year(value, TODAY) == year


@pytest.mark.parametrize("value", ["abc", "1999", "2101", "2026.5", "-1", "２０２６", "1e3"])
def test_anything_else_is_refused_with_a_message_on_the_year(value):
    with pytest.raises(Invalid) as refused:
        parse_year(value, TODAY)
    assert list(refused.value.field_errors) == ["year"]


def test_a_client_without_a_known_region_goes_to_the_unknown_row():
    assert region_key("410100") == "410100"
    assert region_key(None) == UNKNOWN
    assert region_key("110000") == UNKNOWN  # Beijing: not a Henan region
    assert check_region(UNKNOWN) == UNKNOWN
    with pytest.raises(NotFound):
        check_region("110000")


def test_the_year_runs_from_local_midnight_to_local_midnight():
    first, last = year_bounds(2026, "Asia/Shanghai")
    assert first.isoformat() == "2026-01-01T00:00:00+08:00"
    assert last.isoformat() == "2027-01-01T00:00:00+08:00"


def test_the_rows_of_one_statement_fold_into_each_clients_figures():
    rows = [
        (1, RETIRED, 5),  # scrapped, sealed, suspended: nowhere
        (1, IN_USE_OVERDUE, 3),  # not mandatory, overdue
        (1, IN_USE, 4),
        (1, HOUSEHOLD + VERIFIED, 49),
        (1, HOUSEHOLD + OVERDUE, 1),
        (1, OTHER_MANDATORY + VERIFIED, 19),
        (1, OTHER_MANDATORY, 1),  # neither verified nor overdue (calibrated only, say)
        (2, RETIRED, 2),
    ]
    figures = fold_figures(rows)
    assert figures[1] == Figures(77, 70, Rate(49, 50), Rate(19, 20), 4)
    assert figures[1].household.meets(0.98) is True  # 49/50 = 98%
    assert figures[1].other.meets(0.95) is True  # 19/20 = 95%
    assert figures[1].meets_targets is True
    assert figures[2] == Figures()


def test_a_region_meets_its_targets_only_when_both_rates_do():
    short_meters = Figures(household=Rate(96, 100), other=Rate(100, 100))
    assert short_meters.inspection == Rate(196, 200)  # 98% combined, yet the meters miss 98%
    assert short_meters.meets_targets is False
    assert Figures(other=Rate(95, 100)).meets_targets is True  # no meter: the other rate decides
    assert Figures().meets_targets is None


def test_regions_come_in_the_reference_order_and_rank_by_their_rate():
    clients = [
        Client(1, "a", "甲", "410300", Figures(mandatory=2, other=Rate(1, 2))),
        Client(2, "b", "乙", "410100", Figures(mandatory=1, other=Rate(1, 1))),
        Client(3, "c", "丙", None, Figures()),
        Client(4, "d", "丁", "410300", Figures(mandatory=2, other=Rate(2, 2))),
    ]
    rows = group_by_region(clients)
    assert [r.code for r in rows[:3]] == ["410100", "410200", "410300"]
    assert rows[-1].code == UNKNOWN
    assert [c.id for c in rows[2].clients] == [4, 1]  # by name: 丁 before 甲
    assert rows[2].figures.other == Rate(3, 4)
    assert [r.code for r in ranked(rows)] == ["410100", "410300"]  # 100%, then 75%; no mandatory: unranked
    assert group_by_region([])[-1].code != UNKNOWN


def test_calibrations_are_counted_per_month_by_discipline_and_technician():
    done = [
        Calibration(1, "pressure", 7),
        Calibration(1, "pressure", None),
        Calibration(3, "electrical", 7),
    ]
    by_discipline = {c.key: c for c in count_by(done, "discipline")}
    assert by_discipline["pressure"].per_month[:3] == (2, 0, 0)
    assert by_discipline["electrical"].total == 1
    assert {c.key: c.total for c in count_by(done, "technician_id")} == {7: 2, None: 1}


def test_the_technician_is_the_assigned_one_else_the_one_who_entered_the_result():
    names = recorder_names([(7, "李检定", "李四"), (8, "王校准", None)], "省计量院")
    assert names == {"李检定（省计量院）": 7, "王校准（省计量院）": 8, "李四（省计量院）": 7}
    assert technician_of(9, "李四（省计量院）", names) == 9
    assert technician_of(None, "李四（省计量院）", names) == 7
    assert technician_of(None, "张三（省计量院）", names) is None
    assert technician_of(None, None, names) is None


def test_turnaround_counts_days_from_receipt_to_return_in_the_month_of_return():
    pairs = [
        (date(2026, 1, 28), date(2026, 2, 3)),  # 6 days, February
        (date(2026, 2, 1), date(2026, 2, 11)),  # 10 days
        (date(2026, 2, 10), date(2026, 2, 11)),  # 1 day
        (date(2025, 12, 20), date(2026, 1, 2)),  # 13 days, January
        (date(2025, 12, 1), date(2025, 12, 5)),  # returned last year: not counted
    ]
    months, year = turnaround(pairs, 2026)
    assert (months[1].count, months[1].median, months[1].mean) == (3, 6.0, 5.7)
    assert (months[0].median, months[0].mean) == (13.0, 13.0)
    assert months[2].median is None
    assert (year.count, year.median, year.mean) == (4, 8.0, 7.5)


def test_a_visit_is_on_time_when_completed_on_or_before_its_earliest_due_date():
    visits = [
        (date(2026, 3, 10), date(2026, 3, 10)),  # on the due date: on time
        (date(2026, 3, 11), date(2026, 3, 10)),  # a day late
        (date(2026, 3, 1), None),  # no due date: not counted
        (date(2026, 4, 1), date(2026, 5, 1)),
    ]
    months, year = on_time(visits, 2026)
    assert months[2] == Rate(1, 2)
    assert months[3] == Rate(1, 1)
    assert year == Rate(2, 3)

"""The visit planner as a pure function: batching, due dates, capacity, disciplines, days off, SMEs."""

from __future__ import annotations

from datetime import date, timedelta

from service.visits.batching import Client, Item, Technician, plan_visits

MONDAY = date(2026, 3, 2)  # a plain working week, no holidays


def weekdays(day: date) -> bool:
    return day.weekday() < 5


def tech(id_: int, *disciplines: str, capacity: int = 10, days_off=()) -> Technician:
    return Technician(id_, f"T{id_}", frozenset(disciplines), capacity, frozenset(days_off))


def item(id_: int, due_in: int, discipline: str = "pressure", on_site: bool = True) -> Item:
    return Item(id_, MONDAY + timedelta(days=due_in), discipline, on_site)


def plan(clients, technicians, days=14, **kwargs):
    return plan_visits(clients, technicians, MONDAY, days, working_day=weekdays, **kwargs)


def test_a_clients_due_instruments_go_in_one_visit_before_the_earliest_due_date():
    result = plan([Client("a", (item(1, 9), item(2, 3), item(3, 12)))], [tech(1, "pressure")])
    [visit] = result.visits
    assert visit.instrument_ids == (2, 1, 3)
    assert visit.earliest_due_on == MONDAY + timedelta(days=3)
    assert visit.date == MONDAY + timedelta(days=3)  # as late as possible, not after the due date
    assert not visit.late
    assert result.unplaced == ()


def test_visits_fall_on_working_days():
    # Due on a Sunday: the visit is the Friday before.
    result = plan([Client("a", (item(1, 6),))], [tech(1, "pressure")])
    assert result.visits[0].date == MONDAY + timedelta(days=4)


def test_instruments_due_after_the_horizon_are_left_for_later_plans():
    result = plan([Client("a", (item(1, 3), item(2, 30)))], [tech(1, "pressure")], days=14)
    assert result.visits[0].instrument_ids == (1,)
    assert result.unplaced == ()


def test_capacity_splits_a_batch_and_never_overbooks_a_day():
    clients = [Client("a", tuple(item(i, 2) for i in range(1, 8)))]
    result = plan(clients, [tech(1, "pressure", capacity=3)])
    assert [len(v.instrument_ids) for v in result.visits] == [1, 3, 3]
    assert all(v.date <= MONDAY + timedelta(days=2) for v in result.visits)
    per_day = {}
    for v in result.visits:
        per_day[v.date] = per_day.get(v.date, 0) + len(v.instrument_ids)
    assert max(per_day.values()) <= 3


def test_already_booked_capacity_counts():
    booked = {(1, MONDAY + timedelta(days=2)): 10}
    result = plan([Client("a", (item(1, 2),))], [tech(1, "pressure")], booked=booked)
    assert result.visits[0].date == MONDAY + timedelta(days=1)


def test_disciplines_decide_who_goes_and_a_visit_can_take_two_technicians():
    technicians = [tech(1, "pressure"), tech(2, "mass"), tech(3, "pressure", "mass", "electrical")]
    result = plan(
        [Client("a", (item(1, 4, "pressure"), item(2, 4, "mass"), item(3, 4, "electrical")))], technicians
    )
    [visit] = result.visits
    assert visit.assignments == {1: 1, 2: 2, 3: 3}  # specialists first, the versatile one where needed
    assert visit.technicians == ("T1", "T2", "T3")


def test_an_uncovered_discipline_and_off_site_instruments_are_unplaced_with_reasons():
    result = plan(
        [Client("a", (item(1, 4, "pressure"), item(2, 4, "optics"), item(3, 4, "pressure", on_site=False)))],
        [tech(1, "pressure")],
    )
    assert result.visits[0].instrument_ids == (1,)
    reasons = {u.instrument_id: u.reason.render() for u in result.unplaced}
    assert reasons == {2: "No technician calibrates optics.", 3: "Not calibrated on site."}


def test_days_off_are_respected():
    days_off = {MONDAY + timedelta(days=n) for n in (2, 3)}
    result = plan([Client("a", (item(1, 3),))], [tech(1, "pressure", days_off=days_off)])
    assert result.visits[0].date == MONDAY + timedelta(days=1)


def test_overdue_instruments_are_visited_as_soon_as_possible():
    result = plan([Client("a", (item(1, -10), item(2, 5)))], [tech(1, "pressure")])
    [visit] = result.visits
    assert visit.date == MONDAY
    assert visit.late


def test_a_due_date_is_missed_only_when_no_earlier_day_has_room():
    # Two clients due on Tuesday; one technician takes one instrument a day.
    clients = [Client("a", (item(1, 1),)), Client("b", (item(2, 1),))]
    result = plan(clients, [tech(1, "pressure", capacity=1)])
    dates = sorted(v.date for v in result.visits)
    assert dates == [MONDAY, MONDAY + timedelta(days=1)]
    assert not any(v.late for v in result.visits)


def test_small_firms_come_first_when_capacity_is_short():
    clients = [Client("large", (item(1, 0),), sme=False), Client("sme", (item(2, 0),), sme=True)]
    result = plan(clients, [tech(1, "pressure", capacity=1)], days=1)
    assert [v.client for v in result.visits] == ["sme"]
    assert [u.instrument_id for u in result.unplaced] == [1]
    assert "room" in result.unplaced[0].reason.render()


def test_earlier_due_dates_are_served_first_among_equals():
    clients = [Client("late", (item(1, 3),)), Client("early", (item(2, 0),))]
    result = plan(clients, [tech(1, "pressure", capacity=1)], days=1)
    assert [v.client for v in result.visits] == ["early"]


def test_holidays_from_the_chinese_calendar_by_default():
    # 2026-10-01..07 is the National Day holiday: a visit due on 2026-10-05 goes on 2026-09-30.
    result = plan_visits(
        [Client("a", (Item(1, date(2026, 10, 5), "pressure"),))], [tech(1, "pressure")], date(2026, 9, 28), 14
    )
    assert result.visits[0].date == date(2026, 9, 30)


def test_versatile_technicians_are_matched_not_spent_greedily():
    # 王 covers pressure and temperature, 李 pressure and length: 8 pressure and 8 temperature
    # instruments fit one day only if 李 takes the pressure ones.
    technicians = [tech(1, "pressure", "temperature", capacity=8), tech(2, "pressure", "length", capacity=8)]
    items = tuple(item(i, 3, "pressure") for i in range(1, 9)) + tuple(
        item(i, 3, "temperature") for i in range(9, 17)
    )
    result = plan([Client("a", items)], technicians)
    [visit] = result.visits
    assert len(visit.instrument_ids) == 16
    assert {visit.assignments[i] for i in range(9, 17)} == {1}
    assert {visit.assignments[i] for i in range(1, 9)} == {2}


def test_a_day_without_room_for_the_earliest_due_instrument_is_not_chosen():
    # The pressure technician is away Monday and Tuesday, when the gauge falls due: a day with only
    # the caliper would leave the gauge to a late visit of its own. One visit on Wednesday instead.
    away = {MONDAY, MONDAY + timedelta(days=1)}
    technicians = [tech(1, "pressure", days_off=away), tech(2, "length")]
    result = plan([Client("a", (item(1, 1, "pressure"), item(2, 5, "length")))], technicians)
    [visit] = result.visits
    assert visit.date == MONDAY + timedelta(days=2)
    assert visit.instrument_ids == (1, 2)


def test_no_second_visit_on_a_day_the_client_already_has_one():
    """Issue #16: the client's booked day is not proposed again; the plan takes the day before."""
    due = MONDAY + timedelta(days=3)
    result = plan([Client("a", (item(1, 3),))], [tech(1, "pressure")], busy={"a": frozenset({due})})
    assert result.visits[0].date == due - timedelta(days=1)
    other = plan([Client("b", (item(2, 3),))], [tech(1, "pressure")], busy={"a": frozenset({due})})
    assert other.visits[0].date == due


def test_the_reason_of_an_uncovered_discipline_names_it_translatably():
    result = plan([Client("a", (item(1, 4, "other"),))], [tech(1, "pressure")])
    [unplaced] = result.unplaced
    assert unplaced.reason.render() == "No technician calibrates Other."
    assert (
        unplaced.reason.render(
            {
                "Other": "其他",
                "No technician calibrates %(discipline)s.": "没有能校准%(discipline)s的技术人员。",
            }.get
        )
        == "没有能校准其他的技术人员。"
    )

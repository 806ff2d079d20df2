"""The institute's region dashboard and service statistics, on a ledger built with known answers.

Firm A (郑州市) is linked to the institute; firm C (no region) too; firm D's link has ended; firm B
is linked to another institute. Firm A's mandatory instruments: two household meters (one within
its verification, one overdue) against 98%, three others (one verified, one only calibrated, one
failed) against 95%, and a scrapped one that is not in use.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from models import ClientLink, Instrument, ServiceOrderStep, Visit
from service.actors import Actor
from service.clock import today_in
from service.errors import Forbidden, NotFound
from service.figures import inspection, read_facts
from service.orders import operations as order_ops
from service.reports import queries
from service.reports.regions import instrument_figures
from service.tenancy import operations as tenancy_ops
from service.validation import henan_regions
from service.visits import operations as visit_ops
from tests import factories
from tests.api import API, auth
from tests.conftest import login

TODAY = today_in("Asia/Shanghai")
NOW = datetime.now(UTC)
BASE = factories.BASE_URL
ZONE = "Asia/Shanghai"
RECENT = (TODAY - timedelta(days=30)).isoformat()
LONG_AGO = (TODAY - timedelta(days=400)).isoformat()


def _instrument(db_session, tenant_actor, **fields) -> Instrument:
    values = {
        "is_mandatory": True,
        "control_method": "verification",
        "last_done_on": RECENT,
        "mandatory_use": "trade",
    }
    return factories.make_instrument(db_session, tenant_actor, TODAY, **(values | fields))


def _firm(db_session, institute_id=None, **profile):
    org = factories.make_org(db_session, "firm", **profile)
    admin = factories.make_user(db_session, org, "admin")
    metrology = factories.make_user(db_session, org, "metrology")
    if institute_id is not None:
        tenancy_ops.link_client(db_session, institute_id, org.id)
    return org, admin, metrology


@pytest.fixture
def built(db_session, world):
    """The ledger of the module docstring, with visits and orders of the institute; committed."""
    world.a.org.region_code = "410100"
    a = world.a.actor()
    ledger = {
        "meter_ok": _instrument(db_session, a, name="单相电能表"),
        "meter_overdue": _instrument(db_session, a, name="冷水水表", last_done_on=LONG_AGO),
        "gauge_ok": _instrument(db_session, a, name="一般压力表"),
        "gauge_calibrated": _instrument(db_session, a, name="精密压力表"),
        "gauge_failed": _instrument(db_session, a, name="压力表", conclusion="fail"),
        "gauge_scrapped": _instrument(db_session, a, name="压力表"),
    }
    # Rows as old ledgers hold them (the forms refuse both today).
    ledger["gauge_scrapped"].status = "scrapped"
    ledger["gauge_calibrated"].control_method = "calibration"
    c, c_admin, c_metrology = _firm(db_session, world.institute.id)
    c_meter = _instrument(db_session, Actor.of(c_metrology), name="燃气表", catalog_item="膜式燃气表")
    d, _d_admin, d_metrology = _firm(db_session, world.institute.id, region_code="410300")
    _instrument(db_session, Actor.of(d_metrology), name="电能表")
    db_session.scalar(select(ClientLink).where(ClientLink.firm_id == d.id)).ended_at = NOW
    db_session.flush()

    institute = Actor.of(world.institute_admin)
    staff = Actor.of(world.institute_staff)
    on_site = factories.make_technician(db_session, institute, name="李检定", disciplines=["electrical"])
    in_lab = factories.make_technician(
        db_session, institute, name="王校准", disciplines=["pressure"], user_id=world.institute_technician.id
    )
    # A visit to A, completed today before its earliest due date (on time): a meter by the
    # assigned technician, a gauge by staff with no technician (not attributed).
    visit = factories.make_visit(
        db_session,
        institute,
        world.a.org.id,
        {ledger["meter_ok"].id: on_site.id, ledger["gauge_ok"].id: None},
    )
    visit_ops.answer(db_session, world.a.actor(), visit.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    for item in visit.items:
        visit_ops.record_item(
            db_session, staff, visit.id, item.id, {"kind": "verification", "conclusion": "pass"}, TODAY
        )
    # A visit to C, completed after its earliest due date (late); its item skipped.
    late = factories.make_visit(db_session, institute, c.id, {c_meter.id: None})
    visit_ops.answer(db_session, Actor.of(c_metrology), late.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    visit_ops.skip_item(db_session, staff, late.id, late.items[0].id, {"reason": "停用"})
    db_session.get(Visit, late.id).earliest_due_on = TODAY - timedelta(days=5)
    # A cancelled visit counts nowhere.
    cancelled = factories.make_visit(db_session, institute, c.id, {c_meter.id: None})
    visit_ops.cancel(db_session, institute, cancelled.id, TODAY, BASE, NOW)

    # A mail-in order of A's plain gauge: 4 days from receipt to return; the lab technician's result.
    order = factories.make_order(
        db_session, a, world.institute.id, [world.a.instruments[0]], "mail_in", today=TODAY
    )
    for action in ("accept", "receive", "start"):
        order_ops.transition(db_session, staff, order.id, {"action": action}, TODAY, BASE, NOW)
    order_ops.record_item(
        db_session,
        Actor.of(world.institute_technician),
        order.id,
        order.items[0].id,
        {"kind": "calibration", "confirmation": "fit"},
        TODAY,
    )
    order_ops.transition(db_session, staff, order.id, {"action": "complete"}, TODAY, BASE, NOW)
    order_ops.transition(
        db_session,
        staff,
        order.id,
        {"action": "return", "courier": "EMS", "tracking_no": "E1"},
        TODAY,
        BASE,
        NOW,
    )
    # A drop-off order of C: 10 days; an on-site order of C: done, but neither received nor returned.
    c_order = factories.make_order(
        db_session, Actor.of(c_metrology), world.institute.id, [c_meter], "drop_off"
    )
    _work(db_session, staff, c_order, ("accept", "receive", "start"), ("complete", "return"))
    db_session.flush()
    for placed, days in ((order, 4), (c_order, 10)):
        steps = {
            s.state: s
            for s in db_session.scalars(
                select(ServiceOrderStep).where(ServiceOrderStep.order_id == placed.id)
            )
        }
        steps["received"].at = steps["returned"].at - timedelta(days=days)
    c_gauge = _instrument(db_session, Actor.of(c_metrology), name="压力表", is_mandatory=False)
    on_site_order = factories.make_order(
        db_session, Actor.of(c_metrology), world.institute.id, [c_gauge], "on_site"
    )
    _work(db_session, staff, on_site_order, ("accept", "start"), ("complete",))

    # Firm B, linked to another institute only.
    other = factories.make_org(db_session, "institute")
    other_admin = factories.make_user(db_session, other, "admin")
    tenancy_ops.link_client(db_session, other.id, world.b.org.id)
    db_session.commit()
    return {
        "ledger": ledger,
        "c": c,
        "d": d,
        "other_admin": other_admin,
        "on_site": on_site,
        "in_lab": in_lab,
    }


def _work(db_session, staff, order, before, after) -> None:
    """Move an order through ``before``, skip its instruments, then move it through ``after``."""
    for action in before:
        order_ops.transition(db_session, staff, order.id, {"action": action}, TODAY, BASE, NOW)
    for item in order.items:
        order_ops.skip_item(db_session, staff, order.id, item.id, {"reason": "无法校准"})
    db_session.expire(order, ["items"])
    for action in after:
        order_ops.transition(db_session, staff, order.id, {"action": action}, TODAY, BASE, NOW)


def _row(dashboard, code):
    return next(row for row in dashboard.regions if row.code == code)


def test_household_meters_and_other_mandatory_instruments_count_against_their_own_targets(
    db_session, world, built
):
    dashboard = queries.region_dashboard(db_session, Actor.of(world.institute_staff), TODAY, TODAY.year, ZONE)
    zhengzhou = _row(dashboard, "410100")
    assert [c.id for c in zhengzhou.clients] == [world.a.org.id]
    f = zhengzhou.figures
    # In use: the world's three gauges and five of the six mandatory ones (the scrapped one is not).
    assert (f.instruments, f.mandatory, f.overdue) == (8, 5, 1)
    assert (f.household.numerator, f.household.denominator) == (1, 2)
    assert (f.other.numerator, f.other.denominator) == (1, 3)
    assert (f.inspection.numerator, f.inspection.denominator) == (2, 5)
    assert f.household.meets(0.98) is False
    assert f.meets_targets is False
    assert (f.visits, f.orders) == (1, 1)
    # C has no region; D's link ended; B is another institute's client.
    unknown = _row(dashboard, queries.UNKNOWN)
    assert [c.id for c in unknown.clients] == [built["c"].id]
    assert (unknown.figures.household.numerator, unknown.figures.household.denominator) == (1, 1)
    assert (unknown.figures.visits, unknown.figures.orders) == (1, 2)
    assert _row(dashboard, "410300").clients == []
    seen = {c.id for row in dashboard.regions for c in row.clients}
    assert seen == {world.a.org.id, built["c"].id}
    # 18 cities (济源 included), 10 directly administered counties, and the unknown row.
    assert len(dashboard.regions) == len(henan_regions()) + 1 == 29
    assert [row.code for row in dashboard.ranking] == [queries.UNKNOWN, "410100"]


def test_the_sql_rate_is_the_figures_modules_rate_on_the_same_ledger(db_session, world, built):
    facts = read_facts(db_session, world.a.org.id, ZONE)
    figures = instrument_figures(db_session, [world.a.org.id, built["c"].id], TODAY)
    for firm_id in (world.a.org.id, built["c"].id):
        facts = read_facts(db_session, firm_id, ZONE) if firm_id != world.a.org.id else facts
        for household, rate in ((True, figures[firm_id].household), (False, figures[firm_id].other)):
            expected = inspection(facts, TODAY, household=household).rate
            assert (rate.numerator, rate.denominator) == (expected.numerator, expected.denominator)


def test_one_region_lists_its_clients_and_an_unknown_code_is_404(db_session, world, built):
    staff = Actor.of(world.institute_staff)
    row = queries.region_detail(db_session, staff, "410100", TODAY, TODAY.year, ZONE)
    assert [c.name for c in row.clients] == [world.a.org.name]
    assert (
        queries.region_detail(db_session, staff, "unknown", TODAY, TODAY.year, ZONE).clients[0].id
        == built["c"].id
    )
    with pytest.raises(NotFound):
        queries.region_detail(db_session, staff, "999999", TODAY, TODAY.year, ZONE)


def test_another_year_has_no_work_done_but_todays_rates(db_session, world, built):
    dashboard = queries.region_dashboard(
        db_session, Actor.of(world.institute_staff), TODAY, TODAY.year - 1, ZONE
    )
    f = _row(dashboard, "410100").figures
    assert (f.visits, f.orders, f.instruments) == (0, 0, 8)


def test_service_statistics_count_by_discipline_technician_turnaround_and_visits_on_time(
    db_session, world, built
):
    stats = queries.service_stats(db_session, Actor.of(world.institute_staff), TODAY.year, ZONE)
    month = TODAY.month - 1
    assert {c.key: c.per_month[month] for c in stats.by_discipline} == {"pressure": 2, "electrical": 1}
    assert stats.total == 3
    assert stats.per_month[month] == 3
    assert {c.key: c.total for c in stats.by_technician} == {
        built["on_site"].id: 1,  # assigned on the visit
        built["in_lab"].id: 1,  # entered the order's result with their own account
        None: 1,  # staff recorded an unassigned item
    }
    assert stats.technicians[built["on_site"].id] == "李检定"
    assert (stats.turnaround_year.count, stats.turnaround_year.median, stats.turnaround_year.mean) == (
        2,
        7.0,
        7.0,
    )
    assert sorted(stats.turnaround[month].days) == [4, 10]
    assert (stats.on_time_year.numerator, stats.on_time_year.denominator) == (1, 2)


def test_other_roles_and_organisations_are_refused(db_session, world, built):
    with pytest.raises(NotFound):
        queries.region_dashboard(db_session, world.a.actor("admin"), TODAY, TODAY.year, ZONE)
    with pytest.raises(Forbidden):
        queries.service_stats(db_session, Actor.of(world.institute_technician), TODAY.year, ZONE)
    # The other institute sees its own client only.
    other = queries.region_dashboard(db_session, Actor.of(built["other_admin"]), TODAY, TODAY.year, ZONE)
    assert {c.id for row in other.regions for c in row.clients} == {world.b.org.id}


# -- Pages and API ---------------------------------------------------------------------------------


def test_pages_show_the_figures_and_link_each_region_and_client(client, db_session, world, built):
    login(client, world.institute_staff)
    page = client.get(f"/reports/regions?year={TODAY.year}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-region="410100" data-clients="1"' in html
    assert f'href="/reports/regions/410100?year={TODAY.year}"' in html
    assert 'href="/reports/regions/unknown' in html
    # The ranked chart: its canvas and its table, each bar a link to its region.
    assert 'id="region-inspection"' in html
    assert 'data-chart-table="region-inspection"' in html
    region = client.get("/reports/regions/410100").get_data(as_text=True)
    assert f'href="/clients/{world.a.org.id}/instruments"' in region
    assert world.b.org.name not in region
    assert client.get("/reports/regions/999999").status_code == 404
    service = client.get("/reports/service").get_data(as_text=True)
    assert 'data-discipline="pressure" data-total="2"' in service
    assert 'id="nav-region-dashboard"' in service
    assert 'id="calibrated-by-discipline"' in service
    assert 'id="order-turnaround"' in service


@pytest.mark.parametrize("year", ["abc", "1999", "2101", "2026.5", "-1"])
def test_a_bad_year_is_a_clear_400(client, db_session, world, year):
    login(client, world.institute_staff)
    for path in ("/reports/regions", "/reports/regions/410100", "/reports/service"):
        response = client.get(f"{path}?year={year}")
        assert response.status_code == 400
        assert 'data-field="year"' in response.get_data(as_text=True)
    headers = auth(db_session, world.institute_staff)
    for path in ("/reports/regions", "/reports/regions/410100", "/reports/service"):
        response = client.get(f"{API}{path}?year={year}", headers=headers)
        assert response.status_code == 400
        assert "year" in response.json["errors"]


def test_firm_users_get_404_on_pages_and_api(client, db_session, world):
    login(client, world.a.admin)
    headers = auth(db_session, world.a.admin)
    for path in ("/reports/regions", "/reports/regions/410100", "/reports/service"):
        assert client.get(path).status_code == 404
        assert client.get(f"{API}{path}", headers=headers).status_code == 404


def test_the_api_gives_the_figures_with_numerators_and_denominators(client, db_session, world, built):
    headers = auth(db_session, world.institute_admin)
    body = client.get(f"{API}/reports/regions?year={TODAY.year}", headers=headers).json
    zhengzhou = next(r for r in body["regions"] if r["code"] == "410100")
    assert zhengzhou["clients"] == 1
    assert zhengzhou["figures"]["household"] == {"rate": 0.5, "numerator": 1, "denominator": 2}
    assert zhengzhou["figures"]["other"]["denominator"] == 3
    assert body["targets"] == {"household": 0.98, "other": 0.95}
    assert body["ranking"] == ["unknown", "410100"]
    detail = client.get(f"{API}/reports/regions/unknown", headers=headers).json
    assert [c["id"] for c in detail["clients"]] == [built["c"].id]
    assert client.get(f"{API}/reports/regions/410999", headers=headers).status_code == 404
    stats = client.get(f"{API}/reports/service", headers=headers).json
    assert stats["turnaround_year"] == {"month": None, "orders": 2, "median_days": 7.0, "mean_days": 7.0}
    assert stats["visits_on_time_year"]["numerator"] == 1
    assert {t["key"]: t["total"] for t in stats["by_technician"]}[None] == 1
    other = auth(db_session, built["other_admin"])
    seen = client.get(f"{API}/reports/regions", headers=other).json
    assert seen["total"]["instruments"] == 3


def test_the_workbooks_read_back_with_the_pages_figures(client, db_session, world, built):
    login(client, world.institute_staff)
    response = client.get(f"/reports/regions.xlsx?year={TODAY.year}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    regions = {row[0]: row for row in book.worksheets[0].iter_rows(min_row=4, values_only=True)}
    zhengzhou = regions["郑州市"]
    # Clients, in use, mandatory, household and other (rate, met, counted), all, overdue, visits, orders.
    assert zhengzhou == (
        "郑州市",
        1,
        8,
        5,
        0.5,
        1,
        2,
        pytest.approx(1 / 3),
        1,
        3,
        pytest.approx(0.4),
        1,
        1,
        1,
    )
    clients = [row[:2] for row in book.worksheets[1].iter_rows(min_row=4, values_only=True)]
    assert (zhengzhou[0], world.a.org.name) in clients
    assert world.b.org.name not in {name for _region, name in clients}
    response = client.get("/reports/service.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    titles = ["按专业", "按技术人员", "周转时间", "上门服务按时率"]
    assert [sheet.title for sheet in book.worksheets] == titles
    totals = list(book.worksheets[0].iter_rows(min_row=4, values_only=True))[-1]
    assert totals[0] == "合计"
    assert totals[-1] == 3
    year_line = list(book.worksheets[2].iter_rows(min_row=4, values_only=True))[-1]
    assert year_line == (str(TODAY.year), 2, 7, 7)
    assert client.get("/reports/service.xlsx?year=abc").status_code == 400
    client.post("/logout")
    login(client, world.a.admin)
    assert client.get("/reports/regions.xlsx").status_code == 404

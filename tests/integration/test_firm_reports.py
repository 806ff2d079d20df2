"""The firm's dashboard charts and reports on a ledger built here: pages, xlsx, API, CLI, tenancy."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import openpyxl
import pytest

from service.nonconformity import operations as nonconformity
from service.reports.dashboard import months_from
from tests import factories
from tests.api import API, auth, local_today
from tests.conftest import login, page_text


@pytest.fixture
def ledger(db_session, world):
    """Firm A: a household meter and a pressure gauge (mandatory), one overdue, one due next month."""
    tenant, today = world.a, local_today()
    who = tenant.actor()
    next_month = months_from(today, 2)[1]

    def make(no, **fields):
        return factories.make_instrument(
            db_session, who, today, management_no=no, department_id=tenant.department.id, **fields
        )

    mandatory = {"is_mandatory": True, "control_method": "verification", "interval_months": 12}
    meter = make(
        "M-1", name="单相电能表", mandatory_use="trade", last_done_on=today - timedelta(days=30), **mandatory
    )
    gauge = make(
        "G-1", name="压力表", mandatory_use="safety", last_done_on=today - timedelta(days=800), **mandatory
    )
    due_soon = make("D-1", name="游标卡尺", control_method="calibration", interval_months=12, abc_class="B")
    due_soon.next_due_on = next_month.first + timedelta(days=4)
    dropped = make("N-1", name="数字压力计", control_method="calibration", interval_months=12)
    case = nonconformity.open_case(db_session, who, dropped.id, {"description": "跌落"}, today)
    db_session.commit()
    return {"meter": meter, "gauge": gauge, "due_soon": due_soon, "case": case, "next_month": next_month}


def test_the_dashboard_draws_its_charts_with_their_tables(client, world, ledger):
    login(client, world.a.metrology)
    page = client.get("/").get_data(as_text=True)
    for key in (
        "due-by-month",
        "overdue-by-department",
        "inspection-rate",
        "on-time-by-month",
        "by-status",
        "by-abc",
    ):
        assert f'id="{key}-figure"' in page, key
    assert "data-chart='" in page
    assert 'data-chart-table="inspection-rate"' in page
    assert "/vendor/echarts.js" in page
    # The due chart links the next month's bar to the ledger's instruments due in it.
    month = ledger["next_month"]
    assert f"due_from={month.first.isoformat()}" in page
    by_department = client.get("/?due_by=department").get_data(as_text=True)
    assert world.a.department.name in by_department
    assert client.get("/?due_by=nonsense").status_code == 200


def test_the_dashboard_api_splits_the_inspection_rate_by_target(client, db_session, world, ledger):
    body = client.get(f"{API}/reports/dashboard", headers=auth(db_session, world.a.metrology)).get_json()
    assert body["inspection"]["household"] | {} == {
        "rate": 1.0,
        "numerator": 1,
        "denominator": 1,
        "target": 0.98,
        "meets_target": True,
    }
    other = body["inspection"]["other_mandatory"]
    assert (other["numerator"], other["denominator"], other["target"], other["meets_target"]) == (
        0,
        1,
        0.95,
        False,
    )
    index = body["months"].index(ledger["next_month"].key)
    green = next(group for group in body["due"] if group["group"] == "green")
    assert green["counts"][index] >= 1
    assert body["overdue_by_department"][0]["department"] == world.a.department.name
    assert len(body["on_time_by_month"]) == 12
    bad = client.get(f"{API}/reports/dashboard?due_by=x", headers=auth(db_session, world.a.metrology))
    assert bad.status_code == 400


def test_the_kpi_report_page_in_both_languages(client, world, ledger):
    login(client, world.a.metrology)
    page = client.get("/reports/kpis").get_data(as_text=True)
    assert "计量指标报表" in page
    assert world.a.department.name in page
    assert 'id="kpi-by-department-figure"' in page
    client.post("/language", data={"locale": "en"})
    english = client.get("/reports/kpis").get_data(as_text=True)
    assert "Household meters" in english
    assert "By ABC class" in english
    bad = client.get("/reports/kpis?as_of=2026-13-40")
    assert bad.status_code == 200
    assert "alert" in bad.get_data(as_text=True)
    future = client.get("/reports/kpis?as_of=2999-01-01").get_data(as_text=True)
    assert "can only look back" in future


def test_the_kpi_report_as_xlsx(client, world, ledger):
    login(client, world.a.metrology)
    response = client.get("/reports/kpis.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[2]
    assert header[:4] == ["分组", "在用", "周期受控", "强检"]
    whole = rows[3]
    inspection = header.index(next(name for name in header if name and name.startswith("受检率")))
    assert whole[inspection + 1 : inspection + 3] == [1, 2]
    assert whole[inspection] == pytest.approx(0.5)


def test_the_kpi_report_by_api_and_cli_agree(app, client, db_session, world, ledger):
    body = client.get(f"{API}/reports/kpis", headers=auth(db_session, world.a.metrology)).get_json()
    result = app.test_cli_runner().invoke(args=["reports", "kpis", "--org", world.a.org.slug])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == body
    assert printed["overall"]["inspection"] == {
        "rate": 0.5,
        "numerator": 1,
        "denominator": 2,
        "target": 0.95,
        "meets_target": False,
    }
    names = [line["department"] for line in printed["by_department"]]
    assert world.a.department.name in names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "x"], "must look like"),
        (["--as-of", "1999-12-31"], "2000-01-01 or later"),
        (["--as-of", "2999-01-01"], "is after today"),
    ],
)
def test_the_cli_refuses_bad_dates(app, world, args, message):
    result = app.test_cli_runner().invoke(args=["reports", "kpis", "--org", world.a.org.slug, *args])
    assert result.exit_code == 2
    assert message in result.output


def test_the_overdue_report(client, db_session, world, ledger):
    login(client, world.a.metrology)
    page = client.get("/reports/overdue").get_data(as_text=True)
    assert "G-1" in page
    assert "M-1" not in page_text(page)
    gauge = ledger["gauge"]
    days = (local_today() - gauge.next_due_on).days
    body = client.get(f"{API}/reports/overdue", headers=auth(db_session, world.a.metrology)).get_json()
    line = next(item for item in body["items"] if item["management_no"] == "G-1")
    assert line["days_overdue"] == days
    assert body["by_department"][world.a.department.name] == body["total"]
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/reports/overdue.xlsx").data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4)]
    assert ["G-1", days] == [next(row for row in values if row[1] == "G-1")[i] for i in (1, 8)]


def test_the_nonconformity_report(client, db_session, world, ledger):
    case = ledger["case"]
    login(client, world.a.metrology)
    year = case.opened_on.year
    page = client.get(f"/reports/nonconformity?year={year}").get_data(as_text=True)
    assert f'data-case="{case.id}"' in page
    body = client.get(
        f"{API}/reports/nonconformity?year={year}", headers=auth(db_session, world.a.metrology)
    ).get_json()
    assert body["by_month"]["open"][case.opened_on.month - 1] == 1
    assert body["cases"][0]["outcome"] == "open"
    assert (
        client.get(
            f"{API}/reports/nonconformity?year=1", headers=auth(db_session, world.a.metrology)
        ).status_code
        == 400
    )
    assert "alert" in client.get("/reports/nonconformity?year=abc").get_data(as_text=True)
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/reports/nonconformity.xlsx?year={year}").data)
    ).active
    assert sheet.cell(4 + case.opened_on.month - 1, 1).value == f"{year}-{case.opened_on.month:02d}"


def test_a_foreign_firm_sees_nothing_of_another(client, db_session, world, ledger):
    headers = auth(db_session, world.b.metrology)
    overdue = client.get(f"{API}/reports/overdue", headers=headers).get_json()
    assert "G-1" not in {item["management_no"] for item in overdue["items"]}
    kpis = client.get(f"{API}/reports/kpis", headers=headers).get_json()
    assert world.a.department.name not in {line["department"] for line in kpis["by_department"]}
    cases = client.get(f"{API}/reports/nonconformity", headers=headers).get_json()
    assert cases["cases"] == []
    foreign = client.get(f"{API}/reports/overdue?department={world.a.department.id}", headers=headers)
    assert foreign.status_code == 404
    login(client, world.b.metrology)
    assert "G-1" not in page_text(client.get("/reports/overdue").get_data(as_text=True))
    assert client.get(f"/reports/overdue?department={world.a.department.id}").status_code == 404


def test_the_dashboard_keeps_its_rates_until_the_ledger_changes(client, db_session, world, ledger):
    from sqlalchemy import select

    from models import FigureSnapshot
    from service.traceability import operations as records

    headers = auth(db_session, world.a.metrology)
    first = client.get(f"{API}/reports/dashboard", headers=headers).get_json()
    assert first["inspection"]["other_mandatory"]["numerator"] == 0
    kept = db_session.scalar(select(FigureSnapshot).where(FigureSnapshot.org_id == world.a.org.id))
    assert kept.as_of == local_today()
    # Tamper with the kept figures: while the history has not moved, they are what the page shows.
    kept.figures = kept.figures | {"inspection": kept.figures["inspection"] | {"household": [7, 9]}}
    db_session.commit()
    assert (
        client.get(f"{API}/reports/dashboard", headers=headers).get_json()["inspection"]["household"][
            "denominator"
        ]
        == 9
    )
    # A new verification of the overdue gauge moves the history: the figures are computed again.
    payload = {
        "kind": "verification",
        "performed_on": local_today().isoformat(),
        "conclusion": "pass",
        "lab_name": "河南省计量科学研究院",
        "certificate_no": "JD-1",
    }
    records.record_result(db_session, world.a.actor(), ledger["gauge"].id, payload, local_today())
    db_session.commit()
    again = client.get(f"{API}/reports/dashboard", headers=headers).get_json()
    assert again["inspection"]["household"]["denominator"] == 1
    assert (
        again["inspection"]["other_mandatory"]["numerator"],
        again["inspection"]["other_mandatory"]["denominator"],
    ) == (1, 1)


def test_the_kept_ledger_figures_follow_every_change_of_the_ledger(client, db_session, world, ledger):
    from service.ledger import operations as ledger_ops

    headers = auth(db_session, world.a.metrology)

    def board(due_by="department"):
        return client.get(f"{API}/reports/dashboard?due_by={due_by}", headers=headers).get_json()

    def due_in(figures, department_id):
        return sum(sum(group["counts"]) for group in figures["due"] if group["group"] == str(department_id))

    before = board()
    assert board() == before  # kept
    today, who, admin = local_today(), world.a.actor(), world.a.actor("admin")
    # A new instrument, class A, in service.
    added = factories.make_instrument(db_session, who, today, management_no="K-1", abc_class="A")
    db_session.commit()
    after_create = board()
    assert after_create["statuses"]["in_service"] == before["statuses"]["in_service"] + 1
    assert after_create["abc"].get("A", 0) == before["abc"].get("A", 0) + 1
    # The meter, due in eleven months, moves to another department.
    workshop = factories.make_department(db_session, admin, "二车间")
    ledger_ops.bulk_edit(db_session, who, [ledger["meter"].id], {"department_id": workshop.id}, today)
    db_session.commit()
    moved = board()
    assert due_in(moved, workshop.id) == 1
    assert due_in(moved, world.a.department.id) == due_in(after_create, world.a.department.id) - 1
    # A suspension counts once approved; while it waits, only the live pending count moves.
    request = ledger_ops.request_status_change(db_session, who, added.id, "suspend", "损坏")
    db_session.commit()
    assert board()["statuses"] == moved["statuses"]
    login(client, world.a.admin)
    assert client.get("/").status_code == 200
    ledger_ops.decide_status_request(db_session, admin, request.id, True, None)
    db_session.commit()
    suspended = board("label")
    assert suspended["statuses"].get("suspended", 0) == moved["statuses"].get("suspended", 0) + 1
    assert suspended["statuses"]["in_service"] == moved["statuses"]["in_service"] - 1

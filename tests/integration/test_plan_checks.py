"""The intermediate checks (期间核查) in the periodic plan: API, page, printable page, xlsx and CLI.

On firm A's 2025 ledger of :mod:`tests.integration.test_plan_report`, with check plans:

- on P1 (质检部), monthly, by the viewer, first check due 2025-01-15; checked 2025-01-15, 02-20
  (late for 02-15), 03-10 (early for 03-20); the check due 04-10 is open, overdue today;
- on P2 (仪表车间), every 180 days, nobody named, first check due 2025-06-30, never done: overdue;
- an ended plan on P1, a plan on the scrapped P6 and one on a suspended P7: none planned.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from models import Instrument
from service.measurement.checks import operations as check_ops
from tests import factories
from tests.api import API, auth
from tests.conftest import login
from tests.integration.test_plan_report import AS_OF, LONG_AGO, ledger  # noqa: F401 (the fixture)

NOW = datetime(2025, 12, 31, 4, tzinfo=UTC)


def _no(session, tenant, no: str) -> Instrument:
    return session.scalar(
        select(Instrument).where(Instrument.org_id == tenant.org.id, Instrument.management_no == no)
    )


def _plan(session, tenant, no: str, **over):
    body = {
        "check_object": "核查砝码 200 g",
        "interval_months": 1,
        "points": [{"label": "200 g", "nominal": 200, "unit": "g", "mpe": 1.0}],
    } | over
    return check_ops.create_plan(session, tenant.actor(), _no(session, tenant, no).id, body, date(2025, 1, 1))


def _check(session, tenant, plan, day: str):
    payload = {
        "performed_on": day,
        "readings": [{"point_id": plan.points[0].id, "value": 200.1, "reference": 200}],
    }
    check_ops.record_check(session, tenant.actor(), plan.id, payload, AS_OF, NOW)


@pytest.fixture
def checks(db_session, ledger):  # noqa: F811
    tenant = ledger
    p1 = _plan(db_session, tenant, "P1", next_due_on="2025-01-15", performer_user_id=tenant.viewer.id)
    for day in ("2025-01-15", "2025-02-20", "2025-03-10"):
        _check(db_session, tenant, p1, day)
    _plan(
        db_session,
        tenant,
        "P2",
        check_object="标准块",
        interval_months=None,
        interval_days=180,
        next_due_on="2025-06-30",
    )
    ended = _plan(db_session, tenant, "P1", check_object="旧核查", next_due_on="2025-05-01")
    check_ops.update_plan(db_session, tenant.actor(), ended.id, {"active": False}, AS_OF)
    _plan(db_session, tenant, "P6", next_due_on="2025-05-01")
    p7 = factories.make_instrument(db_session, tenant.actor(), AS_OF, management_no="P7", name="停用天平")
    p7.created_at = LONG_AGO
    _plan(db_session, tenant, "P7", next_due_on="2025-05-01")
    p7.status = "suspended"
    db_session.commit()
    return tenant


def _api(client, headers, **args):
    response = client.get(f"{API}/reports/plan", query_string=args, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_the_api_lists_the_checks_due_with_who_does_them(client, db_session, checks):
    found = _api(client, auth(db_session, checks.viewer), year=2025)
    assert [(c["management_no"], c["due_on"], c["planned_month"], c["state"]) for c in found["checks"]] == [
        ("P1", "2025-02-15", 2, "late"),
        ("P1", "2025-03-20", 3, "on_time"),
        ("P1", "2025-04-10", 4, "overdue"),
        ("P2", "2025-06-30", 6, "overdue"),
    ]
    late, _on_time, open_, p2 = found["checks"]
    assert (late["done_on"], late["done_by"], late["performer"]) == (
        "2025-02-20",
        checks.metrology.name,
        checks.viewer.name,
    )
    assert (open_["done_on"], open_["done_by"], open_["projected"]) == (None, None, False)
    assert (p2["performer"], p2["check_object"], p2["department"]) == (None, "标准块", "仪表车间")
    assert found["checks_summary"]["planned"] == 4
    assert found["checks_summary"]["completion"] == {"rate": 0.5, "numerator": 2, "denominator": 4}
    # the checks are counted apart: the calibration lines stay as they were
    assert found["summary"]["planned"] == 4
    assert [line["management_no"] for line in found["lines"]] == ["P4", "P1", "P2", "P3"]


def test_a_month_and_a_department(client, db_session, checks):
    headers = auth(db_session, checks.metrology)
    may = _api(client, headers, year=2025, month=5)
    assert [
        (c["management_no"], c["due_on"], c["planned_month"], c["overdue_at_start"]) for c in may["checks"]
    ] == [("P1", "2025-04-10", 5, True)]
    own = _api(client, headers, year=2025, department=checks.department.id)
    assert {c["management_no"] for c in own["checks"]} == {"P1"}
    assert _api(client, headers, year=2024)["checks"] == []


def test_another_firm_sees_none_of_them(client, db_session, world, checks):
    found = _api(client, auth(db_session, world.b.admin), year=2025)
    assert found["checks"] == []
    assert found["checks_summary"]["planned"] == 0
    login(client, world.b.viewer)
    assert 'data-check="P1"' not in client.get("/reports/plan?year=2025").text


def test_the_pages_show_them(client, db_session, checks):
    login(client, checks.viewer)
    text = client.get("/reports/plan?year=2025").text
    assert 'id="plan-checks-table"' in text
    assert text.count('data-check="P1"') == 3
    assert 'data-check="P2"' in text
    for no in ("P6", "P7"):
        assert f'data-check="{no}"' not in text
    assert "旧核查" not in text
    assert checks.viewer.name in text
    assert "期间核查" in text
    printable = client.get("/reports/plan/print?year=2025").text
    assert printable.count('data-check="P1"') == 3
    checks.viewer.locale = "en"
    db_session.commit()
    english = client.get("/reports/plan?year=2025&month=6").text
    assert "Intermediate checks" in english
    assert 'data-due="2025-06-30"' in english
    assert "Metrology staff" in english
    assert 'data-due="2025-04-10"' in english  # still open: overdue at June's start
    assert "No intermediate check is due in this period." in client.get("/reports/plan?year=2024").text


def _check_sheet(book):
    assert book.sheetnames == ["周期检定校准计划", "期间核查计划"]
    sheet = book["期间核查计划"]
    assert sheet["A1"].value == "2025年度期间核查计划"
    assert sheet["E3"].value == "核查标准/核查对象"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4, max_row=7)]
    assert [(r[1], r[6].date(), r[8]) for r in rows] == [
        ("P1", date(2025, 2, 15), "逾期完成"),
        ("P1", date(2025, 3, 20), "按期完成"),
        ("P1", date(2025, 4, 10), "未完成（已超期）"),
        ("P2", date(2025, 6, 30), "未完成（已超期）"),
    ]
    assert rows[3][5] == "计量管理人员"
    assert rows[3][7] == "6月"
    texts = [c.value for c in sheet["A"] if isinstance(c.value, str)]
    assert any("期间核查 4 次" in t and "完成率 50.0%" in t for t in texts)


def test_the_xlsx_has_a_sheet_of_checks(client, checks):
    import io

    login(client, checks.viewer)
    response = client.get("/reports/plan.xlsx?year=2025")
    assert response.status_code == 200
    _check_sheet(openpyxl.load_workbook(io.BytesIO(response.data)))


def test_the_cli_writes_them_and_counts_them(app, checks, tmp_path):
    out = tmp_path / "plan.xlsx"
    result = app.test_cli_runner().invoke(
        args=["reports", "plan", "--org", checks.org.slug, "--year", "2025", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "4 lines" in result.output
    assert "4 intermediate checks" in result.output
    _check_sheet(openpyxl.load_workbook(out))

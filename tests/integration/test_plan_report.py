"""The periodic verification and calibration plan on a ledger built here with known answers.

Firm A's 2025 (its instruments entered the ledger on 2024-01-01):

- P1 calibrated 2024-03-10 (due 2025-03-09), renewed on 2025-03-09: March, done on time;
- P2 calibrated 2024-03-10, renewed 2025-03-10: March, done late (a day after);
- P3 mandatory, verified 2024-04-01 (due 2025-03-31), never renewed: March, overdue;
- P4 calibrated every 6 months, 2024-01-10 (due 2024-07-09), never renewed: overdue at the
  year's start, planned in January;
- P5 one-off, P6 scrapped in 2024: not planned. The world's own instruments entered today.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from service.actors import Actor
from service.ledger import operations as ledger_ops
from service.traceability import operations as records
from tests import factories
from tests.api import API, auth
from tests.conftest import login, page_text

LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = date(2025, 12, 31)


def _record(session, actor, instrument, performed_on: str, kind: str = "calibration", lab: str = "省计量院"):
    payload = {
        "kind": kind,
        "performed_on": performed_on,
        "lab_name": lab,
        "certificate_no": f"C-{instrument.management_no}-{performed_on}",
    }
    if kind == "verification":
        payload["conclusion"] = "pass"
    return records.record_result(session, actor, instrument.id, payload, AS_OF)


@pytest.fixture
def ledger(db_session, world):
    tenant = world.a
    who = tenant.actor()
    other = factories.make_department(db_session, tenant.actor("admin"), "仪表车间")
    tenant.department.name = "质检部"

    def instrument(no: str, **fields):
        values = {"department_id": tenant.department.id, "control_method": "calibration", "lab": "省计量院"}
        made = factories.make_instrument(db_session, who, AS_OF, management_no=no, **(values | fields))
        made.created_at = LONG_AGO
        return made

    p1 = instrument("P1", name="压力表", model="Y-100", measuring_range="0-1.6MPa", accuracy="1.6级")
    _record(db_session, who, p1, "2024-03-10")
    _record(db_session, who, p1, "2025-03-09")
    p2 = instrument("P2", name="游标卡尺", department_id=other.id)
    _record(db_session, who, p2, "2024-03-10")
    _record(db_session, who, p2, "2025-03-10")
    p3 = instrument(
        "P3",
        name="单相电能表",
        is_mandatory=True,
        mandatory_use="trade",
        control_method="verification",
    )
    _record(db_session, who, p3, "2024-04-01", kind="verification", lab="市计量所")
    p4 = instrument("P4", name="温度计", interval_months=6)
    _record(db_session, who, p4, "2024-01-10")
    instrument("P5", name="钢直尺", control_method="one_off", interval_months=0)
    p6 = instrument("P6", name="压力表")
    _record(db_session, who, p6, "2024-05-01")
    request = ledger_ops.request_status_change(db_session, who, p6.id, "scrap", "损坏")
    ledger_ops.decide_status_request(db_session, tenant.actor("admin"), request.id, True, "同意")
    request.decided_at = datetime(2024, 12, 1, 4, tzinfo=UTC)
    db_session.commit()
    return tenant


def _api(client, headers, **args):
    response = client.get(f"{API}/reports/plan", query_string=args, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_the_api_gives_the_known_lines_and_completion(client, db_session, ledger):
    found = _api(client, auth(db_session, ledger.viewer), year=2025)
    assert [(line["management_no"], line["planned_month"], line["state"]) for line in found["lines"]] == [
        ("P4", 1, "overdue"),
        ("P1", 3, "on_time"),
        ("P2", 3, "late"),
        ("P3", 3, "overdue"),
    ]
    p1, p2 = found["lines"][1], found["lines"][2]
    assert (p1["due_on"], p1["done_on"], p1["lab"], p1["accuracy"]) == (
        "2025-03-09",
        "2025-03-09",
        "省计量院",
        "1.6级",
    )
    assert (p2["due_on"], p2["done_on"], p2["department"]) == ("2025-03-09", "2025-03-10", "仪表车间")
    assert found["lines"][0]["overdue_at_start"] is True
    assert found["lines"][3]["is_mandatory"] is True
    assert found["summary"]["planned"] == 4
    assert found["summary"]["completion"] == {"rate": 0.5, "numerator": 2, "denominator": 4}
    assert found["summary"]["on_time_completion"] == {"rate": 0.25, "numerator": 1, "denominator": 4}
    months = {m["month"]: m for m in found["months"]}
    assert len(months) == 12
    assert months[1]["completion"] == {"rate": 0.0, "numerator": 0, "denominator": 1}
    assert months[3]["completion"] == {"rate": 0.6667, "numerator": 2, "denominator": 3}
    assert months[3]["on_time_completion"]["rate"] == 0.3333
    assert months[2]["completion"]["rate"] is None


def test_the_api_filters_by_month_and_department(client, db_session, ledger):
    headers = auth(db_session, ledger.metrology)
    march = _api(client, headers, year=2025, month=3)
    # P4, overdue since 2024, is planned in the month's first (and only) month too.
    assert [(line["management_no"], line["planned_month"]) for line in march["lines"]] == [
        ("P4", 3),
        ("P1", 3),
        ("P2", 3),
        ("P3", 3),
    ]
    assert [m["month"] for m in march["months"]] == [3]
    own = _api(client, headers, year=2025, department=ledger.department.id)
    assert [line["management_no"] for line in own["lines"]] == ["P4", "P1", "P3"]


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"year": 0}, "year", "请选择2000至2100之间的年份。"),
        ({"year": 2025, "month": 13}, "month", "必须在1至12之间。"),
        ({"year": "abc"}, "year", "整数无效。"),
        ({"year": 2025, "month": "x"}, "month", "整数无效。"),
        ({"group": "city"}, "group", "请选择按使用部门或按检定/校准单位分组。"),
    ],
)
def test_bad_input_is_a_clear_400(client, db_session, ledger, args, field, message):
    response = client.get(f"{API}/reports/plan", query_string=args, headers=auth(db_session, ledger.viewer))
    assert response.status_code == 400
    assert list(response.json["errors"]) == [field]
    login(client, ledger.viewer)
    for path in ("/reports/plan", "/reports/plan/print", "/reports/plan.xlsx"):
        page = client.get(path, query_string=args)
        assert page.status_code == 400
        assert message in page.text
        assert f"{field}:" not in page.text  # the field by its name: 年度, 月份, 分组方式


def test_another_firm_sees_only_its_own_ledger(client, db_session, world, ledger):
    found = _api(client, auth(db_session, world.b.admin), year=2025)
    assert found["lines"] == []
    # Its own instrument due in 2025 is its plan, and firm A's never are.
    own = factories.make_instrument(db_session, world.b.actor(), AS_OF, management_no="B-1")
    own.created_at = LONG_AGO
    _record(db_session, world.b.actor(), own, "2024-06-01", kind="verification")
    db_session.commit()
    found = _api(client, auth(db_session, world.b.admin), year=2025)
    assert [(line["management_no"], line["state"]) for line in found["lines"]] == [("B-1", "overdue")]
    assert found["summary"]["planned"] == 1
    assert found["org"] == world.b.org.name
    # Firm A's department is not B's to filter by.
    response = client.get(
        f"{API}/reports/plan",
        query_string={"year": 2025, "department": ledger.department.id},
        headers=auth(db_session, world.b.admin),
    )
    assert response.status_code == 404
    login(client, world.b.viewer)
    page = client.get("/reports/plan?year=2025")
    assert page.status_code == 200
    assert 'data-line="B-1"' in page.text
    for no in ("P1", "P2", "P3", "P4"):
        assert f'data-line="{no}"' not in page.text
    assert client.get(f"/reports/plan?year=2025&department={ledger.department.id}").status_code == 404


def test_the_page_in_chinese_and_in_english(client, db_session, ledger):
    login(client, ledger.viewer)
    page = client.get("/reports/plan?year=2025")
    assert page.status_code == 200
    text = page.text
    assert "周期检定与校准计划" in text
    for no in ("P1", "P2", "P3", "P4"):
        assert f'data-line="{no}"' in text
    assert "P5" not in page_text(text)
    assert "P6" not in page_text(text)
    assert "按期完成" in text
    assert "50.0%" in text
    assert 'data-group="质检部"' in text
    assert 'data-group="仪表车间"' in text
    # The chart of the completion per month, its table: March 66.7%, leading to March's plan.
    assert 'id="plan-completion-chart"' in text
    assert "66.7%" in text
    assert "/reports/plan?year=2025&amp;group=department&amp;month=3" in text
    assert "month=2" not in text  # nothing planned in February: no link
    by_lab = client.get("/reports/plan?year=2025&group=lab").text
    assert 'data-group="省计量院"' in by_lab
    assert 'data-group="市计量所"' in by_lab
    ledger.viewer.locale = "en"
    db_session.commit()
    english = client.get("/reports/plan?year=2025&month=3").text
    assert "Periodic verification and calibration plan" in english
    assert "Done late" in english
    assert "Completion rate" in english
    assert 'data-month="3"' in english
    assert 'data-month="4"' not in english


def test_the_printable_page(client, ledger):
    login(client, ledger.viewer)
    page = client.get("/reports/plan/print?year=2025&group=lab")
    assert page.status_code == 200
    text = page.text
    for word in ("编制", "审核", "批准", "2025年度周期检定与校准计划", ledger.org.name, "plan-print.css"):
        assert word in text
    assert "2025年3月周期检定与校准计划" in client.get("/reports/plan/print?year=2025&month=3").text


def _book(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


HEADERS = [
    "序号",
    "管理编号",
    "器具名称",
    "型号规格",
    "测量范围",
    "准确度等级/不确定度",
    "使用部门",
    "检定/校准机构",
    "控制方式",
    "强检",
    "有效期至/应检日期",
    "计划月份",
    "执行情况",
    "完成日期",
    "备注",
]


def _check_book(book, org_name: str):
    sheet = book.active
    assert sheet["A1"].value == "2025年度周期检定与校准计划"
    assert "A1:O1" in {str(r) for r in sheet.merged_cells.ranges}
    assert org_name in sheet["A2"].value
    assert [c.value for c in sheet[3]] == HEADERS
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4, max_row=7)]
    assert [row[1] for row in rows] == ["P4", "P1", "P2", "P3"]
    p1 = rows[1]
    assert p1[:10] == [2, "P1", "压力表", "Y-100", "0-1.6MPa", "1.6级", "质检部", "省计量院", "校准", "否"]
    assert p1[10].date() == date(2025, 3, 9)
    assert p1[11] == "3月"
    assert p1[12] == "按期完成"
    assert p1[13].date() == date(2025, 3, 9)
    assert rows[2][12] == "逾期完成"
    assert (rows[3][8], rows[3][9], rows[3][12], rows[3][13]) == ("检定", "是", "未完成（已超期）", None)
    assert rows[0][14] == "期初已超期"
    texts = [c.value for c in sheet["A"] if isinstance(c.value, str)]
    assert any("计划完成率 50.0%" in t for t in texts)
    assert any("编制" in t and "审核" in t and "批准" in t for t in texts)


def test_the_xlsx_reads_back(client, ledger):
    login(client, ledger.viewer)
    response = client.get("/reports/plan.xlsx?year=2025")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    _check_book(_book(response.data), ledger.org.name)


def test_the_cli_writes_the_same_file(app, ledger, tmp_path):
    out = tmp_path / "plan.xlsx"
    result = app.test_cli_runner().invoke(
        args=["reports", "plan", "--org", ledger.org.slug, "--year", "2025", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "4 lines" in result.output
    _check_book(openpyxl.load_workbook(out), ledger.org.name)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nobody", "--year", "2025"], "no organisation"),
        (["--year", "2025", "--month", "13"], "--month"),
        (["--year", "0"], "--year"),
    ],
)
def test_the_cli_refuses_bad_input(app, ledger, tmp_path, args, message):
    if "--org" not in args:
        args = ["--org", ledger.org.slug, *args]
    result = app.test_cli_runner().invoke(args=["reports", "plan", *args, "--out", str(tmp_path / "p.xlsx")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "p.xlsx").exists()


def test_the_institute_plans_its_own_standards(client, db_session, world, ledger):
    staff = world.institute_staff
    who = Actor.of(staff)
    standard = factories.make_instrument(
        db_session, who, AS_OF, management_no="STD-1", control_method="calibration"
    )
    standard.created_at = LONG_AGO
    _record(db_session, who, standard, "2024-06-01")  # due 2025-05-31, never renewed
    db_session.commit()
    login(client, staff)
    page = client.get("/reports/plan?year=2025")
    assert page.status_code == 200
    # Firm A is the institute's client, yet the institute's plan is its own ledger alone.
    assert 'data-line="STD-1"' in page.text
    assert 'data-line="P1"' not in page.text
    assert 'id="nav-plan"' in page.text
    found = _api(client, auth(db_session, staff), year=2025)
    assert [(line["management_no"], line["state"]) for line in found["lines"]] == [("STD-1", "overdue")]


def test_the_firm_nav_links_the_plan_before_reminders(client, ledger):
    login(client, ledger.viewer)
    text = client.get("/").text
    assert 'id="nav-reports"' in text
    assert text.index('id="nav-reports"') < text.index(">提醒</a>")
    assert 'href="/reports/plan"' in client.get("/reports/").text

"""SME assistance (计量服务中小企业行): the plan per region, records per client, progress, statistics, API."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from models import AssistancePlan, AssistanceRecord
from service.actors import Actor
from service.clock import today_in
from service.tenancy import operations as tenancy_ops
from tests.api import auth
from tests.conftest import end_client_link, login
from tests.factories import make_order, make_org, make_user, make_visit

ZHENGZHOU, KAIFENG = "410100", "410200"
PLAN_CSV = "/work/shared/data/sme_service_plan_2020.csv"
GOOD_PLAN = "seq,region,smes_to_help,smes_for_mms_training\n1,郑州市,4,2\n2,开封市,40,12\n"


@pytest.fixture
def today():
    return today_in("Asia/Shanghai")


@pytest.fixture
def clients(world, db_session):
    """Firm A: an SME of Zhengzhou; C: a large firm of Zhengzhou; D: a firm of unknown size of Kaifeng."""
    firm_a = world.a.org
    firm_a.region_code, firm_a.employees = ZHENGZHOU, 200
    large = make_org(db_session, "firm", name="大型企业", region_code=ZHENGZHOU, employees=5000)
    large.annual_revenue_wan = 900000
    unknown = make_org(db_session, "firm", name="规模未知企业", region_code=KAIFENG)
    for firm in (large, unknown):
        tenancy_ops.link_client(db_session, world.institute.id, firm.id)
    db_session.commit()
    assert (firm_a.size_class, large.size_class, unknown.size_class) == ("small_medium", "large", None)
    return firm_a, large, unknown


def _record(client, firm_id, kind="survey", day=None, **fields):
    data = {
        "done_on": (day or today_in("Asia/Shanghai")).isoformat(),
        "kind": kind,
        "person": "张工",
    } | fields
    return client.post(f"/assistance/clients/{firm_id}", data=data)


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model).execution_options(all_tenants=True))


def _figures(html: str, region: str) -> dict[str, str]:
    """Return the figures of one row of the progress table, by their data-figure name."""
    row = re.search(rf'<tr data-region="{region}".*?</tr>', html, re.S).group(0)
    return dict(re.findall(r'data-(?:figure|kind)="(\w+)">([^<]*)<', row))


def test_progress_counts_a_firm_helped_twice_once_and_no_large_firm(client, world, clients, today):
    firm_a, large, unknown = clients
    login(client, world.institute_staff)
    page = client.post(
        f"/assistance/plan?year={today.year}",
        data={
            f"help-{ZHENGZHOU}": "4",
            f"mms-{ZHENGZHOU}": "2",
            f"help-{KAIFENG}": "40",
            f"mms-{KAIFENG}": "",
        },
    )
    assert page.status_code == 303
    assert _record(client, firm_a.id, "survey").status_code == 303
    assert _record(client, firm_a.id, "mms_training", note="内审员培训").status_code == 303
    assert _record(client, large.id, "consultation").status_code == 303
    assert _record(client, unknown.id, "training").status_code == 303
    html = client.get(f"/assistance?year={today.year}").text
    zhengzhou = _figures(html, ZHENGZHOU)
    assert zhengzhou["smes_to_help"] == "4"
    assert zhengzhou["helped"] == "1"  # firm A twice; the large firm not at all
    assert zhengzhou["help_rate"] == "25.0%"
    assert zhengzhou["trained"] == "1"
    assert zhengzhou["training_rate"] == "50.0%"
    assert zhengzhou["consultation"] == "0"
    kaifeng = _figures(html, KAIFENG)
    assert (kaifeng["helped"], kaifeng["helped_size_unknown"], kaifeng["help_rate"]) == ("1", "1", "2.5%")
    assert kaifeng["smes_for_mms_training"] == "0"
    total = _figures(html, "total")
    assert (total["smes_to_help"], total["helped"], total["trained"]) == ("44", "2", "1")
    # The ranked chart: Zhengzhou (25%) before Kaifeng (2.5%), each bar leading to the region's records.
    spec = json.loads(re.search(r"data-chart='([^']*)'", html).group(1))
    assert spec["kind"] == "hbar"
    assert (spec["unit"], spec["target"]) == ("%", 100)
    assert spec["categories"] == ["郑州市", "开封市"]
    assert spec["series"][0]["values"] == [25.0, 2.5]
    assert f"region={ZHENGZHOU}" in spec["series"][0]["links"][0]
    # The client's page lists its records, the size shown; the directory links to it.
    page = client.get(f"/assistance/clients/{large.id}").text
    assert re.search(rf'name="person"\s+value="{world.institute_staff.name}"', page)  # prefilled: the user
    assert 'id="size-badge"' in page
    assert "大型企业" in page
    assert f"/assistance/clients/{firm_a.id}" in client.get("/org/clients").text
    records = client.get(f"/assistance/records?year={today.year}&region={ZHENGZHOU}&kind=survey").text
    assert records.count("data-record=") == 1


def test_statistics_table_reads_back(client, world, clients, today, db_session):
    firm_a, large, _unknown = clients
    login(client, world.institute_staff)
    client.post(
        f"/assistance/plan?year={today.year}", data={f"help-{ZHENGZHOU}": "4", f"mms-{ZHENGZHOU}": "2"}
    )
    _record(client, firm_a.id, "survey")
    _record(client, firm_a.id, "survey")
    _record(client, large.id, "survey")
    response = client.get(f"/assistance/statistics.xlsx?year={today.year}")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == f"{today.year}年计量服务中小企业行活动情况统计表"
    assert rows[1][0] == f"年度：{today.year}"
    assert rows[2][:8] == (
        "序号",
        "地区",
        "计划帮扶中小企业数",
        "已帮扶企业数",
        "帮扶完成率",
        "计划测量管理体系培训企业数",
        "已培训企业数",
        "培训完成率",
    )
    zhengzhou = rows[3]
    assert zhengzhou[:8] == (1, "郑州市", 4, 1, 0.25, 2, 0, 0)
    assert zhengzhou[8] == 2  # two surveys of firm A; the large firm's is not counted
    assert rows[-1][1] == "合计"
    assert rows[-1][2:4] == (4, 1)
    assert len(rows) == 3 + 28 + 1  # title, year, headers; every region; totals


def test_plan_csv_import_good_and_bad(client, world, db_session, today):
    login(client, world.institute_admin)
    good = client.post(
        f"/assistance/plan/import?year={today.year}",
        data={"file": (io.BytesIO(GOOD_PLAN.encode()), "plan.csv")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 303
    plans = {
        p.region_code: (p.smes_to_help, p.smes_for_mms_training)
        for p in db_session.scalars(select(AssistancePlan).execution_options(all_tenants=True))
    }
    assert plans == {ZHENGZHOU: (4, 2), KAIFENG: (40, 12)}
    bad_csv = GOOD_PLAN.replace("2,开封市,40,12", "2,开封市,-1,12") + "3,火星市,1,1\n"
    bad = client.post(
        f"/assistance/plan/import?year={today.year}",
        data={"file": (io.BytesIO(bad_csv.encode()), "plan.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert 'data-line="3"' in bad.text
    assert 'data-line="4"' in bad.text
    assert "火星市" in bad.text
    db_session.expire_all()
    assert _count(db_session, AssistancePlan) == 2  # nothing of the bad file was saved
    # The provincial 2020 file, as shipped, and the "load the 2020 plan" button give the same plan.
    with open(PLAN_CSV, "rb") as plan_file:
        shipped = client.post(
            "/assistance/plan/import?year=2020",
            data={"file": (plan_file, "sme_service_plan_2020.csv")},
            content_type="multipart/form-data",
        )
    assert shipped.status_code == 303
    assert client.post("/assistance/plan/reference?year=2021").status_code == 303
    page = client.get("/assistance/plan?year=2021").text
    assert f'name="help-{ZHENGZHOU}" value="80"' in page
    assert 'name="mms-419001" value="12"' in page  # 济源示范区
    assert _count(db_session, AssistancePlan) == 2 + 28 + 28


def test_bad_input_gets_a_message_and_changes_nothing(client, world, clients, db_session, today):
    firm_a = clients[0]
    login(client, world.institute_staff)
    client.post(
        f"/assistance/plan?year={today.year}", data={f"help-{ZHENGZHOU}": "4", f"mms-{ZHENGZHOU}": "2"}
    )
    negative = client.post(
        f"/assistance/plan?year={today.year}", data={f"help-{ZHENGZHOU}": "-3", f"help-{KAIFENG}": "9"}
    )
    assert negative.status_code == 422
    assert f'data-field="help-{ZHENGZHOU}"' in negative.text
    db_session.expire_all()
    plans = db_session.scalars(select(AssistancePlan).execution_options(all_tenants=True)).all()
    assert [(p.region_code, p.smes_to_help) for p in plans] == [(ZHENGZHOU, 4)]
    for fields in (
        {"done_on": "2025-02-30"},
        {"done_on": (today + timedelta(days=1)).isoformat()},
        {"kind": "party"},
        {"person": "x" * 101},
    ):
        response = _record(client, firm_a.id, **fields)
        assert response.status_code == 422, fields
        assert "is-invalid" in response.text
    assert _count(db_session, AssistanceRecord) == 0
    assert client.get("/assistance?year=1800").status_code == 422
    assert client.get("/assistance/statistics.xlsx?year=abc").status_code == 400


def test_records_only_for_linked_firms_and_hidden_from_others(client, world, clients, db_session, today):
    firm_a = clients[0]
    login(client, world.institute_staff)
    # Firm B is not a client of this institute: 404, nothing saved.
    assert _record(client, world.b.org.id).status_code == 404
    assert _record(client, firm_a.id).status_code == 303
    record = db_session.scalar(select(AssistanceRecord).execution_options(all_tenants=True))
    # Another institute, even one that serves firm A too, sees none of it.
    other = make_org(db_session, "institute")
    tenancy_ops.link_client(db_session, other.id, firm_a.id)
    other_admin = make_user(db_session, other, "admin")
    db_session.commit()
    client.post("/logout")
    login(client, other_admin)
    assert "data-record=" not in client.get(f"/assistance/clients/{firm_a.id}").text
    assert client.post(f"/assistance/records/{record.id}/delete").status_code == 404
    assert _figures(client.get("/assistance").text, "total")["helped"] == "0"
    # A firm's user: the pages do not exist.
    client.post("/logout")
    login(client, world.a.admin)
    for path in (
        "/assistance",
        "/assistance/plan",
        "/assistance/records",
        f"/assistance/clients/{firm_a.id}",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/assistance/records/{record.id}/delete").status_code == 404
    # The technician reads, but may not write.
    client.post("/logout")
    login(client, world.institute_technician)
    assert client.get(f"/assistance/clients/{firm_a.id}").status_code == 200
    assert _record(client, firm_a.id).status_code == 422
    assert client.post(f"/assistance/records/{record.id}/delete").status_code == 303
    assert _count(db_session, AssistanceRecord) == 1
    # The firm ends its link: its records leave the lists and the figures.
    client.post("/logout")
    login(client, world.institute_staff)
    assert "data-record=" in client.get("/assistance/records").text
    end_client_link(client, db_session, world.a.admin, back_as=world.institute_staff)
    assert "data-record=" not in client.get("/assistance/records").text
    assert client.get(f"/assistance/clients/{firm_a.id}").status_code == 404


def test_green_channel_flag_set_shown_and_counted(client, world, clients, db_session, today):
    firm_a = clients[0]
    staff = Actor.of(world.institute_staff)
    visit = make_visit(db_session, staff, firm_a.id, {world.a.instruments[0].id: None}, today=today)
    order = make_order(db_session, world.a.actor(), world.institute.id, [world.a.instruments[1]], today=today)
    db_session.commit()
    login(client, world.institute_staff)
    assert "data-green-channel-badge" not in client.get(f"/visits/{visit.id}").text
    assert (
        client.post(
            f"/assistance/visits/{visit.id}/green-channel", data={"is_green_channel": "true"}
        ).status_code
        == 303
    )
    assert "data-green-channel-badge" in client.get(f"/visits/{visit.id}").text
    client.post(f"/assistance/orders/{order.id}/green-channel", data={"is_green_channel": ["true", "false"]})
    assert "data-green-channel-badge" in client.get(f"/institute/orders/{order.id}").text
    figures = _figures(client.get(f"/assistance?year={today.year}").text, ZHENGZHOU)
    assert (figures["green_channel_work"], figures["helped"]) == ("2", "1")
    # The checkbox unticked clears the flag.
    client.post(f"/assistance/orders/{order.id}/green-channel", data={"is_green_channel": "false"})
    assert "data-green-channel-badge" not in client.get(f"/institute/orders/{order.id}").text
    assert _figures(client.get("/assistance").text, ZHENGZHOU)["green_channel_work"] == "1"
    # The API sets the same flags; the statistics table is there too.
    headers = auth(db_session, world.institute_staff)
    path = f"/api/v1/assistance/orders/{order.id}/green-channel"
    response = client.put(path, json={"is_green_channel": True}, headers=headers)
    assert response.json == {"id": order.id, "firm_id": firm_a.id, "is_green_channel": True}
    assert client.put(path, json={"is_green_channel": "maybe"}, headers=headers).status_code == 400
    assert client.get(f"/api/v1/orders/{order.id}", headers=headers).json["is_green_channel"] is True
    assert client.get(f"/api/v1/visits/{visit.id}", headers=headers).json["is_green_channel"] is True
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/api/v1/assistance/statistics.xlsx?year={today.year}", headers=headers).data)
    ).active
    zhengzhou = next(row for row in sheet.iter_rows(values_only=True) if row[1] == "郑州市")
    assert zhengzhou[3] == 1  # one firm helped
    assert zhengzhou[-2] == 2  # its green-channel visit and order
    firm_headers = auth(db_session, world.a.admin)
    visit_path = f"/api/v1/assistance/visits/{visit.id}/green-channel"
    assert client.put(visit_path, json={"is_green_channel": False}, headers=firm_headers).status_code == 404
    # Firms and other institutes cannot flag.
    client.post("/logout")
    login(client, world.a.admin)
    assert (
        client.post(
            f"/assistance/visits/{visit.id}/green-channel", data={"is_green_channel": "false"}
        ).status_code
        == 404
    )
    db_session.expire_all()
    assert db_session.get(type(visit), visit.id).is_green_channel is True


def test_api(client, world, clients, db_session, today):
    firm_a, large, _unknown = clients
    headers = auth(db_session, world.institute_staff)
    year = today.year
    plan = {"lines": [{"region_code": ZHENGZHOU, "smes_to_help": 4, "smes_for_mms_training": 2}]}
    response = client.put(f"/api/v1/assistance/plans/{year}", json=plan, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["lines"] == [
        {"region_code": ZHENGZHOU, "region": "郑州市", "smes_to_help": 4, "smes_for_mms_training": 2}
    ]
    assert client.get(f"/api/v1/assistance/plans/{year}", headers=headers).json == response.json
    bad = {"lines": [{"region_code": ZHENGZHOU, "smes_to_help": -1, "smes_for_mms_training": 2}]}
    response = client.put(f"/api/v1/assistance/plans/{year}", json=bad, headers=headers)
    assert response.status_code == 400
    assert "lines.0.smes_to_help" in response.json["errors"]
    twice = {"lines": plan["lines"] * 2}
    assert client.put(f"/api/v1/assistance/plans/{year}", json=twice, headers=headers).status_code == 400
    assert (
        client.get(f"/api/v1/assistance/plans/{year}", headers=headers).json["lines"][0]["smes_to_help"] == 4
    )
    ids = []
    for firm, kind in ((firm_a, "survey"), (firm_a, "mms_training"), (large, "survey")):
        body = {"firm_id": firm.id, "done_on": today.isoformat(), "kind": kind}
        response = client.post("/api/v1/assistance/records", json=body, headers=headers)
        assert response.status_code == 201, response.json
        assert response.json["person"] == world.institute_staff.name
        ids.append(response.json["id"])
    for body, status in (
        ({"firm_id": world.b.org.id, "done_on": today.isoformat(), "kind": "survey"}, 404),
        ({"firm_id": firm_a.id, "done_on": "2025-13-01", "kind": "survey"}, 400),
        ({"firm_id": firm_a.id, "done_on": today.isoformat(), "kind": "party"}, 400),
    ):
        assert client.post("/api/v1/assistance/records", json=body, headers=headers).status_code == status
    listed = client.get(f"/api/v1/assistance/records?year={year}&kind=survey", headers=headers).json["items"]
    assert {r["firm_id"] for r in listed} == {firm_a.id, large.id}
    listed = client.get(f"/api/v1/assistance/records?client={large.id}", headers=headers).json["items"]
    assert [r["size_class"] for r in listed] == ["large"]
    assert client.get("/api/v1/assistance/records?kind=party", headers=headers).status_code == 400
    assert (
        client.get(f"/api/v1/assistance/records?client={world.b.org.id}", headers=headers).status_code == 404
    )
    progress = client.get(f"/api/v1/assistance/progress?year={year}", headers=headers).json
    zhengzhou = next(r for r in progress["rows"] if r["region_code"] == ZHENGZHOU)
    assert zhengzhou["helped"] == 1
    assert zhengzhou["help_rate"] == {"rate": 0.25, "numerator": 1, "denominator": 4}
    assert zhengzhou["training_rate"]["rate"] == 0.5
    assert zhengzhou["kinds"]["survey"] == 1
    assert progress["total"]["helped"] == 1
    assert client.delete(f"/api/v1/assistance/records/{ids[0]}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/assistance/records/{ids[0]}", headers=headers).status_code == 404
    # A firm's token and another institute's get 404 and nothing.
    firm_headers = auth(db_session, world.a.admin)
    assert client.get(f"/api/v1/assistance/progress?year={year}", headers=firm_headers).status_code == 404
    assert client.get(f"/api/v1/assistance/plans/{year}", headers=firm_headers).status_code == 404
    other = make_org(db_session, "institute")
    other_headers = auth(db_session, make_user(db_session, other, "admin"))
    assert client.delete(f"/api/v1/assistance/records/{ids[1]}", headers=other_headers).status_code == 404
    assert client.get(f"/api/v1/assistance/plans/{year}", headers=other_headers).json["lines"] == []
    assert client.get("/api/v1/assistance/records", headers=other_headers).json["items"] == []


JUNK = ["", "x" * 5000, "-1", "99999999999999999999", "2025-02-30", "\u0000", "真" * 300, "1e309", "<b>"]


def test_institute_pages_never_fail_on_junk(app, client, world, clients, db_session, today):
    firm_a = clients[0]
    staff = Actor.of(world.institute_staff)
    visit = make_visit(db_session, staff, firm_a.id, {world.a.instruments[0].id: None}, today=today)
    order = make_order(db_session, world.a.actor(), world.institute.id, [world.a.instruments[1]], today=today)
    db_session.commit()
    login(client, world.institute_admin)
    _record(client, firm_a.id)
    record_id = db_session.scalar(select(AssistanceRecord.id).execution_options(all_tenants=True))
    values = {"client_id": firm_a.id, "assistance_id": record_id, "visit_id": visit.id, "order_id": order.id}
    fields = ["year", "region", "kind", "client", "done_on", "person", "note", "is_green_channel", "firm_id"]
    fields += [f"help-{ZHENGZHOU}", f"mms-{ZHENGZHOU}"]
    for junk in JUNK:
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("assistance."):
                continue
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", str(values[name]))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = dict.fromkeys(fields, junk)
                query = data if method == "GET" else {"year": junk}
                response = client.open(path, method=method, data=data, query_string=query)
                response.close()
                assert response.status_code < 500, (method, path, junk[:10], response.status_code)


def test_cli_imports_the_plan_and_writes_the_table(app, world, clients, db_session, tmp_path, today):
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD_PLAN + "3,火星市,1,1\n", encoding="utf-8")
    result = runner.invoke(
        args=["assistance", "import-plan", str(bad), "--org", world.institute.slug, "--year", "2026"]
    )
    assert result.exit_code == 2
    assert json.loads(result.output) == {
        "saved": 0,
        "problems": [{"line": 4, "reason": "Unknown region: 火星市."}],
    }
    assert _count(db_session, AssistancePlan) == 0
    result = runner.invoke(
        args=["assistance", "import-plan", PLAN_CSV, "--org", world.institute.slug, "--year", "2026"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"saved": 28, "problems": []}
    out = tmp_path / "table.xlsx"
    args = ["assistance", "statistics", "--org", world.institute.slug, "--year", "2026", "--out", str(out)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).active.cell(row=4, column=3).value == 80  # 郑州市's quota
    # A firm has no such thing.
    result = runner.invoke(
        args=["assistance", "statistics", "--org", world.a.org.slug, "--year", "2026", "--out", str(out)]
    )
    assert result.exit_code == 2

"""What real ledgers hold, pattern by pattern, with files the tests build."""

import json
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from models import Department, Instrument
from service.ledger.queries import ledger_counts, list_instruments
from service.ledger_io.importer import import_ledger
from tests.api import API, auth
from tests.conftest import login
from tests.integration.test_ledger_import import TODAY, instrument
from tests.sheets import everyday_file, write_xlsx


def run(session, actor, path, **kwargs):
    with open(path, "rb") as stream:
        return import_ledger(session, actor, stream, path.name, TODAY, **kwargs)


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["ledger", "import", *map(str, args)])


@pytest.fixture
def admin(world):
    return world.a.actor("admin")


def by_number(session, org_id, prefix="") -> dict[str, Instrument]:
    found = session.scalars(select(Instrument).where(Instrument.org_id == org_id))
    return {i.management_no: i for i in found if i.management_no.startswith(prefix)}


# The everyday ledger: all 40 valid instruments land ---------------------------------------------


def test_an_everyday_messy_ledger_imports_every_valid_instrument(db_session, world, admin, tmp_path):
    report = run(db_session, admin, everyday_file(tmp_path))

    assert (report.created, report.updated, report.rejected) == (40, 0, 5)
    reasons = {p.row: str(p.reason) for p in report.rejected_rows}
    assert sorted(reasons) == [44, 45, 46, 47, 48]
    assert reasons[46] == "Duplicate management number %(no)s: row %(row)s already has it."
    # Pre-numbered empty rows are blank, the signature line a footer.
    assert report.skipped_rows == {"blank": 10, "footer": 1}
    # The counter column (编号) is left out: the management number comes from 管理编号.
    assert report.columns["编号"] is None
    assert report.columns["管理编号"] == "management_no"
    assert report.columns["制造厂家"] == "manufacturer"
    assert report.columns["量具 状况"] == "status"
    assert report.columns["领用人"] == "custodian"
    assert report.columns["证书号"] == "certificate_no"

    ledger = by_number(db_session, world.a.org.id, "JL-")
    assert len(ledger) == 40
    assert ledger["JL-001"].manufacturer == "红旗仪表厂"  # not in the notes
    assert ledger["JL-001"].notes is None
    assert (ledger["JL-001"].custodian_name, ledger["JL-001"].certificate_no) == ("张三", "JD-1")


def test_mandatory_rows_take_their_use_from_the_row_the_catalogue_or_stay_open(
    db_session, world, admin, tmp_path
):
    report = run(db_session, admin, everyday_file(tmp_path))
    ledger = by_number(db_session, world.a.org.id)
    uses = {
        n: (ledger[n].is_mandatory, ledger[n].mandatory_use) for n in [f"JL-{k:03d}" for k in range(1, 11)]
    }
    assert uses == {
        "JL-001": (True, "safety"),  # as written
        "JL-002": (True, "trade"),  # 备注: 用于贸易结算
        "JL-003": (True, "trade"),  # an 电能表, by the catalogue
        "JL-004": (True, "medical"),  # a 血压计
        "JL-005": (True, "environment"),  # a 声级计
        "JL-006": (True, None),  # a 专用检具: nothing says why; kept, needing attention
        "JL-007": (True, "safety"),
        "JL-008": (True, "trade"),  # 备注: 贸易结算用
        "JL-009": (True, "medical"),
        "JL-010": (True, "environment"),
    }
    assert all(ledger[n].control_method == "verification" for n in uses)
    warnings = {p.row: p.reason for p in report.warnings if p.column == "强检用途"}
    assert warnings[5].params == {"use": "贸易结算"}
    assert warnings[6].params == {"use": "贸易结算", "item": "电能表"}
    assert "needs attention" in str(warnings[9])
    assert report.inferred == {
        "mandatory_use:row": 2,
        "mandatory_use:catalogue": 3,
        "interval_months:dates": 3,
    }
    assert ledger["JL-006"].attention_reasons() == ["mandatory_use"]


def test_unreadable_cells_outside_the_due_date_keep_the_row(db_session, world, admin, tmp_path):
    report = run(db_session, admin, everyday_file(tmp_path))
    ledger = by_number(db_session, world.a.org.id)
    # "坏了" is no status: the row is kept in service, the word in the notes, with a warning.
    broken = [i for i in ledger.values() if i.notes and "坏了" in i.notes]
    assert broken
    assert all(i.status == "in_service" for i in broken)
    assert broken[0].notes == "量具 状况: 坏了"
    # 2011.12 typed as a number in the in-service date: the cell goes to the notes.
    assert ledger["JL-012"].in_service_on is None
    assert "启用日期: 2011.12" in ledger["JL-012"].notes
    # Words of daily life: 在库 and 备用 in service (noted), 闲置 suspended, 报废 scrapped.
    # Words of daily life: 在库, 备用 and 外借 in service and 闲置 suspended (each word noted), 报废 scrapped.
    words = {"在库": (17, 25, 33), "备用": (18, 26, 34), "外借": (12, 20, 28, 36), "闲置": (11, 19, 27, 35)}
    for word, numbers in words.items():
        for n in numbers:
            gauge = ledger[f"JL-{n:03d}"]
            assert (gauge.status, f"量具 状况: {word}" in gauge.notes) == (
                "suspended" if word == "闲置" else "in_service",
                True,
            ), (word, n)
    assert {ledger[f"JL-{n:03d}"].status for n in (14, 22, 30, 38)} == {"scrapped"}
    assert {ledger[f"JL-{n:03d}"].status for n in (16, 24, 32, 40)} == {"in_service"}
    unreadable = [p for p in report.warnings if p.column == "启用日期"]
    assert [p.row for p in unreadable] == [15]


def test_dates_with_the_year_last_are_day_first(db_session, world, admin, tmp_path):
    run(db_session, admin, everyday_file(tmp_path))
    ledger = by_number(db_session, world.a.org.id)
    assert ledger["JL-014"].last_done_on == date(2026, 4, 3)  # 3.04.2026
    assert ledger["JL-015"].last_done_on == date(2026, 3, 4)  # 2026.03.04


def test_the_interval_comes_from_the_file_or_its_dates_and_is_never_invented(
    db_session, world, admin, tmp_path
):
    report = run(db_session, admin, everyday_file(tmp_path))
    ledger = by_number(db_session, world.a.org.id)
    assert ledger["JL-011"].interval_months == 6  # 2026-01-18 → 2026-07-18
    assert ledger["JL-021"].interval_months == 12  # 2026-01-01 → 2026-12-31: valid through the day before
    assert ledger["JL-040"].interval_months is None  # neither an interval nor dates
    assert ledger["JL-040"].attention_reasons() == ["interval", "due_date"]
    assert report.without_interval == 1
    # Every default applied is listed: 是否强检 not given on 30 rows, 量具 状况 on some.
    defaults = {(f, v): n for f, v, n in report.defaults}
    assert defaults[("is_mandatory", False)] == 30
    # 量具 状况 blank on 4 rows, unreadable ("坏了") on 4: in service, the word in the notes.
    assert defaults[("status", "in_service")] == 8
    notices = [m.render() for m in report.notices()]
    assert "30 new instruments took 否 for “是否强检”, which the file does not give." in notices
    assert any("interval of 3 instruments was worked out" in n for n in notices)
    assert any("1 new instruments have no interval" in n for n in notices)


def test_a_preview_says_which_departments_the_import_will_create(db_session, admin, tmp_path):
    rows = [["管理编号", "器具名称", "使用部门"], ["D-1", "表", "新车间"]]
    preview = run(db_session, admin, write_xlsx(tmp_path / "d.xlsx", rows), dry_run=True)
    assert "Departments the import will create: 新车间." in [m.render() for m in preview.notices()]
    done = run(db_session, admin, tmp_path / "d.xlsx")
    assert "Departments created: 新车间." in [m.render() for m in done.notices()]


def test_departments_equal_but_for_spaces_width_or_case_are_one(db_session, world, admin, tmp_path):
    report = run(db_session, admin, everyday_file(tmp_path))
    assert "二 车间" not in report.departments_created
    assert [n for n in report.departments_created if "Ｃ" in n or "C" in n.upper()] == ["ＱＣ部"]
    ledger = by_number(db_session, world.a.org.id)
    names = {ledger[f"JL-{n:03d}"].department.name for n in (11, 12, 13, 14, 15, 16, 17, 18)}
    assert names == {"二车间", "ＱＣ部"}
    departments = db_session.scalars(select(Department.name).where(Department.org_id == world.a.org.id)).all()
    assert len([d for d in departments if "车间" in d and d.startswith("二")]) == 1


# The ledger shows what needs finishing -------------------------------------------------------


def test_needs_attention_filter_count_and_page(client, db_session, world, admin, tmp_path):
    run(db_session, admin, everyday_file(tmp_path))
    metrology = world.a.actor("metrology")
    attention = list_instruments(db_session, metrology, {"needs_attention": True, "limit": 500}, TODAY).items
    assert {i.management_no for i in attention} == {"JL-006", "JL-040"}
    assert ledger_counts(db_session, metrology, TODAY).needs_attention == 2
    assert world.b.org.id not in {i.org_id for i in attention}

    login(client, world.a.metrology)
    dashboard = client.get("/").text
    assert 'id="needs-attention"' in dashboard
    assert "2 台器具待完善" in dashboard
    listed = client.get("/instruments?needs_attention=true").text
    assert listed.count("data-attention") == 2
    assert "JL-006" in listed
    assert "JL-001<" not in listed
    page = client.get(f"/instruments/{by_number(db_session, world.a.org.id)['JL-006'].id}").text
    assert 'id="attention"' in page
    assert "未填写强检用途" in page


def test_needs_attention_through_the_api_and_not_for_another_firm(client, db_session, world, admin, tmp_path):
    run(db_session, admin, everyday_file(tmp_path))
    headers = auth(db_session, world.a.metrology)
    listed = client.get(f"{API}/instruments?needs_attention=true&limit=100", headers=headers).json
    assert {i["management_no"]: i["needs_attention"] for i in listed["items"]} == {
        "JL-006": ["mandatory_use"],
        "JL-040": ["interval", "due_date"],
    }
    other = client.get(
        f"{API}/instruments?needs_attention=true", headers=auth(db_session, world.b.metrology)
    ).json
    assert other["items"] == []
    assert client.get(f"{API}/instruments?needs_attention=maybe", headers=headers).status_code == 400


def test_an_instrument_needing_attention_can_still_be_changed_and_then_completed(
    client, db_session, world, admin, tmp_path
):
    run(db_session, admin, everyday_file(tmp_path))
    headers = auth(db_session, world.a.admin)
    gauge = by_number(db_session, world.a.org.id)["JL-006"]
    moved = client.patch(f"{API}/instruments/{gauge.id}", headers=headers, json={"location": "二号库"})
    assert moved.status_code == 200, moved.json
    # Whoever sets the flag or the use must give it.
    refused = client.patch(f"{API}/instruments/{gauge.id}", headers=headers, json={"is_mandatory": True})
    assert refused.status_code == 400
    assert "mandatory_use" in refused.json["errors"]
    done = client.patch(f"{API}/instruments/{gauge.id}", headers=headers, json={"mandatory_use": "safety"})
    assert done.status_code == 200
    assert done.json["needs_attention"] == []


def test_a_re_import_never_overwrites_a_use_with_a_guess(db_session, world, admin, tmp_path):
    rows = [["管理编号", "器具名称", "是否强检", "强检用途"], ["E-1", "电能表", "是", "安全防护"]]
    run(db_session, admin, write_xlsx(tmp_path / "a.xlsx", rows))
    again = run(db_session, admin, write_xlsx(tmp_path / "b.xlsx", [rows[0], ["E-1", "电能表", "是", None]]))
    assert (again.updated, again.unchanged) == (0, 1)
    assert instrument(db_session, world.a.org.id, "E-1").mandatory_use == "safety"


# Headers, sheets and rows ----------------------------------------------------------------------


def test_a_class_marked_in_sub_columns_under_a_split_header(db_session, world, admin, tmp_path):
    rows = [
        ["监视和测量设备台账"],
        ["编号", "计量器具名称", "制造厂", "器具编号", "分级管理", None, None, "检定周期"],
        [None, None, None, None, "A", "B", "C", None],
        [1, "卡尺", "哈量", "K-1", None, "√", None, "12个月"],
        [2, "压力表", None, "K-2", "A", None, None, "6个月"],
        [3, "温湿度计", None, "K-3", None, None, "✓", "12个月"],
        [4],
        ["编制：张三", "日期：2026年02月05日"],
    ]
    report = run(db_session, admin, write_xlsx(tmp_path / "abc.xlsx", rows))
    assert (report.created, report.rejected, report.header_row) == (3, 0, 2)
    ledger = by_number(db_session, world.a.org.id)
    assert {n: ledger[n].abc_class for n in ("K-1", "K-2", "K-3")} == {"K-1": "B", "K-2": "A", "K-3": "C"}
    assert ledger["K-1"].manufacturer == "哈量"


def test_a_counter_is_the_number_only_when_no_other_column_gives_one(db_session, world, admin, tmp_path):
    rows = [
        ["编号", "计量器具名称", "器具编号"],
        [1, "卡尺", None],
        [2, "天平", None],
        [3],
        [4],
        ["编制：王五"],
    ]
    report = run(db_session, admin, write_xlsx(tmp_path / "c.xlsx", rows))
    assert (report.created, report.rejected, report.skipped_rows) == (2, 0, {"blank": 2, "footer": 1})
    assert "numbers the rows" in report.notices()[0]
    assert set(by_number(db_session, world.a.org.id)) >= {"1", "2"}


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("制造厂家", "manufacturer"),
        ("生产厂家", "manufacturer"),
        ("厂家", "manufacturer"),
        ("检具编号", "management_no"),
        ("量具编号", "management_no"),
        ("仪器编号", "management_no"),
        ("资产编号", "management_no"),
        ("检具名称", "name"),
        ("量具名称", "name"),
        ("设备精度", "accuracy"),
        ("精度", "accuracy"),
        ("报告编号", "certificate_no"),
        ("证书号", "certificate_no"),
        ("送检类型", "control_method"),
        ("溯源方式", "control_method"),
        ("量具状况", "status"),
        ("量具\n状况", "status"),
        ("领用人", "custodian"),
        ("使用人", "custodian"),
        ("校准\n周期", "interval_months"),
        ("档案号/备注", "notes"),
        ("安装日期", "?"),
        ("ID", "management_no"),
        ("Asset No.", "management_no"),
        ("Gauge ID", "management_no"),
        ("IMTE", "management_no"),
        ("Equipment ID", "management_no"),
        ("Tag", "management_no"),
        ("Description", "name"),
        ("Instrument", "name"),
        ("Equipment", "name"),
        ("Make", "manufacturer"),
        ("Item Make", "manufacturer"),
        ("Manufacturer", "manufacturer"),
        ("Model", "model"),
        ("Serial No.", "serial_no"),
        ("Range", "measuring_range"),
        ("Least Count", "resolution"),
        ("Resolution", "resolution"),
        ("Accuracy", "accuracy"),
        ("Location", "location"),
        ("Department", "department"),
        ("Plant", "department"),
        ("Calibration Frequency", "interval_months"),
        ("CALIB. FREQUENCY in month", "interval_months"),
        ("Last Cal. Date", "last_done_on"),
        ("Next Cal. Date", "valid_until"),
        ("Due Date", "valid_until"),
        ("Calibration Source", "lab"),
        ("Service Provider", "lab"),
        ("Cert. No.", "certificate_no"),
        ("Status", "status"),
        ("Remarks", "notes"),
        ("S.No", None),
        ("Part Name", "?"),  # a part's name, not the instrument's
        ("Calibration Status", "?"),  # OK / OVER DUE: the sheet's own flag, not a status
    ],
)
def test_headers_as_people_write_them(header, field):
    from service.ledger_io.headers import match_header

    assert match_header(header) == field


def test_an_english_ledger(db_session, world, admin, tmp_path):
    rows = [
        ["S.No", "Gauge ID", "Description", "Make", "Model", "Serial No.", "Range", "Least Count", "Accuracy",
         "Location", "Department", "Calibration Frequency", "Last Cal. Date", "Next Cal. Date",
         "Calibration Source", "Cert. No.", "Status", "Remarks"],
        [1, "VC-01", "Vernier Caliper", "Mitutoyo", "530-104", "M123", "0-150 mm", "0.02 mm", "±0.03",
         "QC Lab", "Quality", "6 MONTH", date(2026, 1, 18), date(2026, 7, 18), "NABL Lab", "C-77", "Active",
         ""],
        [2, "MM-02", "Micrometer", "Mitutoyo", "103-137", "M456", "0-25 mm", "0.001 mm", None, "QC Lab",
         "Quality", "12 months", "3.04.2026", None, "Inhouse", None, "Stock", None],
        [3, "PG-03", "Plug Gauge", "*", "*", "*", "20.000/20.021", "NA", None, "Assy", "Quality", "1 year",
         date(2026, 2, 1), date(2027, 2, 1), "Inhouse", None, "Scrap", "worn"],
        [4, "PG-04", "Plug Gauge", None, None, None, None, None, None, "Assy", "Quality", None,
         date(2026, 2, 1), date(2026, 8, 1), "Inhouse", None, "REJECTED", None],
        [None, None, None],
        ["Prepared by: A. Kumar", None, None, "Approved by: R. Singh"],
    ]  # fmt: skip
    report = run(db_session, admin, write_xlsx(tmp_path / "english.xlsx", rows))
    assert (report.created, report.rejected, report.unknown_columns) == (4, 0, [])
    ledger = by_number(db_session, world.a.org.id)
    caliper = ledger["VC-01"]
    assert (caliper.name, caliper.manufacturer, caliper.model, caliper.serial_no) == (
        "Vernier Caliper",
        "Mitutoyo",
        "530-104",
        "M123",
    )
    assert (caliper.resolution, caliper.accuracy, caliper.location, caliper.department.name) == (
        "0.02 mm",
        "±0.03",
        "QC Lab",
        "Quality",
    )
    assert (caliper.interval_months, caliper.last_done_on, caliper.valid_until) == (
        6,
        date(2026, 1, 18),
        date(2026, 7, 18),
    )
    assert (caliper.lab, caliper.certificate_no, caliper.status) == ("NABL Lab", "C-77", "in_service")
    assert (ledger["MM-02"].last_done_on, ledger["MM-02"].status) == (date(2026, 4, 3), "in_service")
    assert ledger["MM-02"].notes == "Status: Stock"
    plug = ledger["PG-03"]
    assert (plug.status, plug.manufacturer, plug.model, plug.resolution) == ("scrapped", None, None, None)
    assert (ledger["PG-04"].status, ledger["PG-04"].interval_months) == ("scrapped", 6)
    assert report.skipped_rows == {"blank": 1, "footer": 1}


def test_the_ledger_sheet_is_found_behind_a_cover_and_a_row_of_column_numbers(db_session, admin, tmp_path):
    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "封面"
    cover.append(["计量器具台账"])
    cover.append(["目录", "1", "台账"])
    old = workbook.create_sheet("旧台账")
    old.append(["管理编号", "器具名称"])
    old.append(["OLD-1", "旧表"])
    ledger = workbook.create_sheet("台账2026")
    ledger.append([None, 1, 2, 3, 4, 5])
    ledger.append(["序号", "管理编号", "器具名称", "规格型号", "检定周期", "检定日期"])
    ledger.append([None, "(1)", "(2)", "(3)", "(4)", "(5)"])
    ledger.append([1, "N-1", "压力表", "Y-100", "12个月", "2026-01-05"])
    workbook.save(tmp_path / "book.xlsx")
    report = run(db_session, admin, tmp_path / "book.xlsx")
    assert (report.sheet, report.header_row, report.created) == ("台账2026", 2, 1)
    assert "first sheet" in report.file_notes[0]
    asked = run(db_session, admin, tmp_path / "book.xlsx", sheet="旧台账", dry_run=True)
    assert (asked.sheet, asked.created) == ("旧台账", 1)


def test_a_row_numbering_the_columns_under_the_header_is_skipped(db_session, admin, tmp_path):
    rows = [["管理编号", "器具名称", "规格型号"], [1, 2, 3], ["N-1", "压力表", "Y"]]
    report = run(db_session, admin, write_xlsx(tmp_path / "n.xlsx", rows))
    assert (report.created, report.rejected, report.skipped_rows) == (1, 0, {"header": 1})


# The CLI has what the page has -----------------------------------------------------------------


def test_cli_sheet_header_row_and_map(app, sessions, db_session, world, tmp_path):
    rows = [
        ["index"],
        ["Functional Location", "Description", "Calibration Date", "Unit"],
        ["10LAB01CP001", "FEED WATER PRESS.", "2026-04-14", "Bar"],
        ["10LAB01CP002", "FEED WATER FLOW", None, "t/h"],
    ]
    path = write_xlsx(tmp_path / "tx.xlsx", rows)
    slug = world.a.org.slug
    unmapped = cli(app, path, "--org", slug, "--dry-run")
    assert unmapped.exit_code == 2
    assert "管理编号" in unmapped.output

    mapped = cli(app, path, "--org", slug, "--dry-run", "--map", "Functional Location=management_no",
                 "--map", "Unit=ignore")  # fmt: skip
    assert mapped.exit_code == 0, mapped.output
    summary = json.loads(mapped.stdout)
    assert (summary["created"], summary["rejected"], summary["header_row"]) == (2, 0, 2)
    assert summary["columns"]["Functional Location"] == "management_no"
    assert summary["ignored_columns"] == ["Unit"]

    by_row = cli(app, path, "--org", slug, "--dry-run", "--header-row", "2", "--sheet", "台账",
                 "--map", "functional location=management_no")  # fmt: skip
    assert by_row.exit_code == 0, by_row.output
    assert json.loads(by_row.stdout)["created"] == 2

    for bad, words in [
        (["--map", "Functional Location=serial"], "unknown field 'serial'"),
        (["--map", "no equals sign"], "HEADER=field"),
        (["--map", "Nowhere=name"], "没有名为 Nowhere 的列"),
        (["--sheet", "Sheet9"], "Sheet9"),
        (["--header-row", "0"], "0"),
    ]:
        result = cli(app, path, "--org", slug, "--dry-run", *bad)
        assert result.exit_code == 2, (bad, result.output)
        assert words in result.output, (bad, result.output)

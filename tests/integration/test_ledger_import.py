"""Importing real-looking ledgers: messy sheets, rejected rows, dry runs, re-imports, hostile files, CLI."""

import gc
import io
import json
import zipfile
from datetime import date, datetime, timedelta

import openpyxl
import pytest
import xlsxwriter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import Department, Event, HistoryHead, Instrument
from service.actors import Actor
from service.clock import now_utc, today_in
from service.db import unit_of_work
from service.errors import Invalid
from service.history.chain import verify_chain
from service.ledger_io import writing
from service.ledger_io.importer import import_ledger, read_ledger, rejected_rows_xlsx, write_ledger
from service.ledger_io.reader import Limits
from tests.factories import make_instrument
from tests.sheets import messy_file, write_csv, write_xlsx

# The fixtures' instruments were last verified a month before the real today.
TODAY = today_in("Asia/Shanghai")


def run(session, actor, path, today=TODAY, **kwargs):
    with open(path, "rb") as stream:
        return import_ledger(session, actor, stream, path.name, today, **kwargs)


def instrument(session, org_id, number):
    return session.scalar(
        select(Instrument).where(Instrument.org_id == org_id, Instrument.management_no == number)
    )


def counts(session, org_id):
    def count(model):
        return session.scalar(select(func.count()).select_from(model).where(model.org_id == org_id))

    return count(Instrument), count(Event), count(Department)


@pytest.fixture
def admin(world):
    return world.a.actor("admin")


# A messy ledger ---------------------------------------------------------------------------------


def test_a_messy_real_ledger_imports_correctly(db_session, world, admin, tmp_path):
    report = run(db_session, admin, messy_file(tmp_path))

    assert (report.created, report.updated, report.unchanged, report.rejected) == (4, 0, 0, 0)
    assert report.header_row == 3
    assert report.skipped_rows == {"blank": 2, "section": 1, "footer": 1}
    assert report.departments_created == ["动力车间", "质检部"]
    assert report.unknown_columns == ["供应商"]
    assert report.ignored_columns == ["序号"]
    org = world.a.org.id

    gauge = instrument(db_session, org, "JL-001")
    assert (gauge.name, gauge.model, gauge.serial_no) == ("压力表", "Y-100 0~1.6MPa", "2023051234")
    assert gauge.department.name == "动力车间"
    assert (gauge.custodian_name, gauge.custodian_mobile) == ("张三", "13800138000")
    assert (gauge.abc_class, gauge.is_mandatory, gauge.mandatory_use) == ("A", True, "safety")
    assert (gauge.control_method, gauge.interval_months) == ("verification", 6)
    assert gauge.last_done_on == date(2025, 3, 10)  # a real Excel date
    assert gauge.valid_until == gauge.next_due_on == date(2025, 9, 8)  # an Excel serial number
    assert (gauge.lab, gauge.conclusion, gauge.status) == ("市计量所", "pass", "in_service")
    assert gauge.notes == "供应商: 红旗仪表"

    caliper = instrument(db_session, org, "JL-002")
    assert caliper.last_done_on == date(2025, 1, 15)  # typed "2025.01.15"
    assert (caliper.interval_months, caliper.next_due_on) == (12, date(2026, 1, 14))
    assert caliper.custodian_mobile is None
    assert caliper.notes is None

    thermometer = instrument(db_session, org, "JL-003")
    assert thermometer.last_done_on == date(2024, 12, 5)  # typed "2024年12月5日"
    assert (thermometer.custodian_name, thermometer.custodian_mobile) == ("王五", "13900001111")
    assert thermometer.is_mandatory is False
    assert thermometer.next_due_on == date(2025, 12, 4)

    lent = instrument(db_session, org, "JL-004")
    assert lent.last_done_on == date(2025, 1, 10)  # the number 20250110
    assert (lent.interval_months, lent.next_due_on) == (0, None)  # 一次性
    assert lent.status == "in_service"
    assert lent.notes == "状态: 外借"
    assert [(w.row, w.column) for w in report.warnings] == [(9, "状态")]

    events = db_session.scalars(
        select(Event).where(Event.org_id == org, Event.kind == "instrument.created").order_by(Event.seq)
    ).all()
    assert [e.actor_name for e in events[-4:]] == [world.a.admin.name] * 4
    assert [e.data["file"] for e in events[-4:]] == ["台账.xlsx"] * 4  # the history says where it came from


def test_every_rejected_row_says_where_and_why(db_session, world, admin, tmp_path):
    future = (TODAY + timedelta(days=30)).isoformat()
    header = [
        "管理编号",
        "器具名称",
        "保管人手机",
        "是否强检",
        "强检用途",
        "检定周期",
        "上次检定日期",
        "有效期至",
        "使用状态",
    ]
    rows = [
        ["仪器台账"],
        header,
        ["OK-1", "压力表", "13800138000", "否", None, "12", "2025-01-10", None, "在用"],  # 3
        ["BAD-NAME", None, None, None, None, None, None, None, None],  # 4
        ["BAD-DATE", "表", None, None, None, None, "2024-13-45", None, None],  # 5
        ["BAD-INT", "表", None, None, None, "abc", None, None, None],  # 6
        ["OK-1", "重复", None, None, None, None, None, None, None],  # 7
        ["FUTURE", "表", None, None, None, None, future, None, None],  # 8
        ["MAND", "表", None, "是", None, None, None, None, None],  # 9
        ["BAD-MOBILE", "表", "12345", None, None, None, None, None, None],  # 10
        ["ORDER", "表", None, None, None, None, "2025-01-01", "2024-01-01", None],  # 11
        ["OK-2", "温度计", None, None, None, "半年", "2025-02-01", None, None],  # 12
        [None, "压力表", None, None, None, None, None, None, None],  # 13
        ["STATUS", "表", None, None, None, None, None, None, "坏了"],  # 14
        ["LONG", "表" * 201, None, None, None, None, None, None, None],  # 15
    ]
    report = run(db_session, admin, write_xlsx(tmp_path / "bad.xlsx", rows))

    # Only what makes a row unusable rejects it: a mandatory flag without a use, a mobile or a
    # status it cannot read keep the row, with a warning (the unreadable cell in the notes).
    assert (report.created, report.rejected) == (5, 8)
    kept = {(p.row, p.column): str(p.reason) for p in report.warnings}
    assert kept == {
        (9, "强检用途"): "Marked mandatory (强检) without a use: imported with the use open; complete it in "
        "the ledger (needs attention).",
        (10, "保管人手机"): "%(value)s could not be read: it was kept in the notes.",
        (14, "使用状态"): "%(value)s could not be read: it was kept in the notes.",
    }
    mand = instrument(db_session, world.a.org.id, "MAND")
    assert (mand.is_mandatory, mand.mandatory_use, mand.attention_reasons()) == (
        True,
        None,
        ["mandatory_use", "interval", "due_date"],
    )
    assert instrument(db_session, world.a.org.id, "BAD-MOBILE").notes == "保管人手机: 12345"
    status = instrument(db_session, world.a.org.id, "STATUS")
    assert (status.status, status.notes) == ("in_service", "使用状态: 坏了")
    found = {(p.row, p.management_no, p.column): str(p.reason) for p in report.rejected_rows}
    assert found == {
        (4, "BAD-NAME", "器具名称"): "Missing instrument name.",
        (5, "BAD-DATE", "上次检定日期"): "No such date: %(value)s (month 1–12, day within the month).",
        (
            6,
            "BAD-INT",
            "检定周期",
        ): "Unreadable interval: %(value)s. Write the number of months (12) or 1年, 半年, 24个月.",
        (7, "OK-1", "管理编号"): "Duplicate management number %(no)s: row %(row)s already has it.",
        (8, "FUTURE", "上次检定日期"): "The last verification date cannot be in the future.",
        (11, "ORDER", "有效期至"): "The valid-until date is before the last verification date.",
        (13, None, "管理编号"): "Missing management number.",
        (15, "LONG", "器具名称"): "At most %(limit)s characters.",
    }
    rendered = {p["row"]: p["reason"] for p in report.as_dict()["rejected_rows"]}
    assert rendered[5] == "No such date: 2024-13-45 (month 1–12, day within the month)."
    assert rendered[7] == "Duplicate management number OK-1: row 3 already has it."
    assert rendered[15] == "At most 200 characters."
    # Valid rows are not held back by bad ones.
    assert instrument(db_session, world.a.org.id, "OK-1").name == "压力表"
    assert instrument(db_session, world.a.org.id, "OK-2").interval_months == 6
    assert instrument(db_session, world.a.org.id, "FUTURE") is None


def test_departments_only_an_admin_may_create_wait_in_the_notes(db_session, world, tmp_path):
    rows = [
        ["管理编号", "器具名称", "使用部门"],
        ["D-1", "表", world.a.department.name],
        ["D-2", "表", "新车间"],
    ]
    report = run(db_session, world.a.actor("metrology"), write_xlsx(tmp_path / "d.xlsx", rows))
    # The row is kept, the department it names in the notes, for an administrator to add.
    assert (report.created, report.rejected, report.departments_created) == (2, 0, [])
    assert report.warnings[0].column == "使用部门"
    assert "新车间" in report.as_dict()["warnings"][0]["reason"]
    kept = instrument(db_session, world.a.org.id, "D-2")
    assert (kept.department_id, kept.notes) == (None, "使用部门: 新车间")
    assert instrument(db_session, world.a.org.id, "D-1").department_id == world.a.department.id


def test_the_same_new_department_is_created_once_and_only_with_a_written_row(
    db_session, world, admin, tmp_path
):
    future = (TODAY + timedelta(days=3)).isoformat()
    rows = [
        ["管理编号", "器具名称", "使用部门", "上次检定日期"],
        ["N-1", "表", "新车间", "abc"],  # rejected before writing
        ["N-2", "表", "仓库", future],  # rejected by a ledger rule after 仓库 was created: undone
        ["N-3", "表", "新车间", "2025-01-01"],
        ["N-4", "表", "新车间", "2025-01-01"],
    ]
    report = run(db_session, admin, write_xlsx(tmp_path / "d.xlsx", rows))
    assert (report.created, report.rejected, report.departments_created) == (2, 2, ["新车间"])
    names = db_session.scalars(select(Department.name).where(Department.org_id == world.a.org.id)).all()
    assert "新车间" in names
    assert "仓库" not in names


def test_rows_are_written_a_chunk_at_a_time_while_the_next_are_decided(
    db_session, world, admin, tmp_path, monkeypatch
):
    """Chunks of two rows: a department created after the first chunk went to the bulk writes.

    An update among the creations and a rejected row between chunks; the chain holds, in row order.
    """
    monkeypatch.setattr(writing, "CHUNK", 2)
    org = world.a.org.id
    existing = world.a.instruments[0]
    department = world.a.department.name
    header = ["管理编号", "器具名称", "使用部门", "存放地点"]
    rows = [
        header,
        ["C-1", "压力表", department, "一楼"],
        ["C-2", "卡尺", department, "一楼"],
        ["C-3", "温度计", "新车间", "二楼"],  # created after C-1 and C-2 were handed over
        [existing.management_no, existing.name, department, "搬到三楼"],  # an update
        ["C-4", None, department, "一楼"],  # rejected: no name
        ["C-5", "千分尺", "新车间", "二楼"],
    ]
    before = counts(db_session, org)
    report = run(db_session, admin, write_xlsx(tmp_path / "c.xlsx", rows))

    assert (report.created, report.updated, report.rejected) == (4, 1, 1)
    assert report.departments_created == ["新车间"]
    assert counts(db_session, org) == (before[0] + 4, before[1] + 5, before[2] + 1)
    assert instrument(db_session, org, "C-5").department.name == "新车间"
    assert instrument(db_session, org, existing.management_no).location == "搬到三楼"
    chain = verify_chain(db_session, org)
    assert chain.ok, chain
    head = db_session.get(HistoryHead, org)
    events = db_session.scalars(select(Event).where(Event.org_id == org).order_by(Event.seq.desc()).limit(5))
    subjects = [event.subject_id for event in events][::-1]
    numbers = ["C-1", "C-2", "C-3", existing.management_no, "C-5"]
    assert subjects == [instrument(db_session, org, n).id for n in numbers]  # in row order
    assert head.last_seq == chain.checked


def test_the_garbage_collector_is_paused_while_an_import_reads_and_writes(db_session, admin, tmp_path):
    path = messy_file(tmp_path)
    running: set[tuple[str, bool]] = set()
    run(db_session, admin, path, progress=lambda stage, done, total: running.add((stage, gc.isenabled())))
    assert running == {("read", False), ("validated", False), ("written", False)}
    assert gc.isenabled()  # and running again afterwards


def test_a_paused_collector_is_left_paused(db_session, admin, tmp_path):
    gc.disable()
    try:
        run(db_session, admin, messy_file(tmp_path))
        assert not gc.isenabled()
    finally:
        gc.enable()


# Dry run, re-import, corrections ----------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_reports_what_the_import_does(db_session, world, admin, tmp_path):
    path = messy_file(tmp_path)
    before = counts(db_session, world.a.org.id)

    dry = run(db_session, admin, path, dry_run=True)
    assert counts(db_session, world.a.org.id) == before
    assert instrument(db_session, world.a.org.id, "JL-001") is None

    real = run(db_session, admin, path)
    assert counts(db_session, world.a.org.id) != before
    # The same report, but that a preview says what it will do, the import what it did.
    done = real.as_dict()["notices"]
    wording = {"notices": [n.replace("created:", "the import will create:") for n in done]}
    assert {**dry.as_dict(), "dry_run": False} == {**real.as_dict(), **wording}
    assert dry.as_dict()["dry_run"] is True
    assert (dry.created, dry.departments_created) == (4, ["动力车间", "质检部"])


def test_a_dry_run_of_a_file_with_bad_rows_and_duplicates_matches_the_real_run(
    db_session, world, admin, tmp_path
):
    existing = world.a.instruments[0].management_no
    rows = [
        ["管理编号", "器具名称", "检定周期"],
        [existing, "改名的表", "12"],
        ["X-1", "表", "abc"],
        ["X-2", "表", "6"],
        ["X-2", "表", "6"],
    ]
    path = write_xlsx(tmp_path / "x.xlsx", rows)
    dry = run(db_session, admin, path, dry_run=True)
    real = run(db_session, admin, path)
    assert (dry.created, dry.updated, dry.rejected) == (1, 1, 2), dry.as_dict()["rejected_rows"]
    assert {**dry.as_dict(), "dry_run": False} == real.as_dict()


def test_a_preview_and_the_import_share_one_reading(db_session, world, admin, tmp_path):
    """The page reads once, previews with a dry run, then imports the same reading."""
    path = write_xlsx(
        tmp_path / "p.xlsx", [["管理编号", "器具名称"], ["P-1", "表"], ["P-1", "表"], ["P-2", None]]
    )
    ledger = read_ledger(path.read_bytes(), "p.xlsx")
    progress = []
    preview = write_ledger(db_session, admin, ledger, TODAY, dry_run=True)
    real = write_ledger(
        db_session,
        admin,
        ledger,
        TODAY,
        progress=lambda stage, done, total: progress.append((stage, done, total)),
    )
    assert {**preview.as_dict(), "dry_run": False} == real.as_dict()
    assert (real.created, real.rejected, len(real.rejected_rows)) == (1, 2, 2)
    assert progress == [("written", 0, 3), ("written", 3, 3)]  # the file's rows, rejected ones included


@pytest.mark.parametrize("lookup_limit", [500, 1], ids=["looked up", "whole ledger read"])
def test_re_importing_the_same_file_creates_nothing_twice(
    db_session, world, admin, tmp_path, monkeypatch, lookup_limit
):
    """Whether the file's numbers are looked up one by one or matched against the whole ledger."""
    monkeypatch.setattr(writing, "LOOKUP_LIMIT", lookup_limit)
    path = messy_file(tmp_path)
    run(db_session, admin, path)
    before = counts(db_session, world.a.org.id)

    again = run(db_session, admin, path)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 4, 0)
    assert again.departments_created == []
    assert counts(db_session, world.a.org.id) == before  # no instrument, event or department added


def test_a_corrected_file_updates_and_the_history_has_before_and_after(db_session, world, admin, tmp_path):
    run(db_session, admin, messy_file(tmp_path))
    corrected = messy_file(tmp_path, "改.xlsx", jl002_valid_until="2026.01.31", jl002_custodian="钱七")

    report = run(db_session, admin, corrected)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    caliper = instrument(db_session, world.a.org.id, "JL-002")
    event = db_session.scalars(
        select(Event)
        .where(Event.org_id == world.a.org.id, Event.subject_id == caliper.id)
        .order_by(Event.seq.desc())
    ).first()
    assert event.kind == "instrument.updated"
    assert event.data["changes"] == {
        "custodian_name": ["李四", "钱七"],
        "valid_until": [None, "2026-01-31"],
        "next_due_on": ["2026-01-14", "2026-01-31"],
    }


def test_a_blank_cell_clears_a_field_but_a_missing_column_keeps_it(db_session, world, admin, tmp_path):
    run(
        db_session,
        admin,
        write_xlsx(tmp_path / "a.xlsx", [["管理编号", "器具名称", "存放地点"], ["C-1", "表", "库房"]]),
    )
    report = run(
        db_session,
        admin,
        write_xlsx(tmp_path / "b.xlsx", [["管理编号", "器具名称", "检定周期"], ["C-1", "表", 6]]),
    )
    assert report.updated == 1
    assert instrument(db_session, world.a.org.id, "C-1").location == "库房"
    run(
        db_session,
        admin,
        write_xlsx(
            tmp_path / "c.xlsx", [["管理编号", "器具名称", "存放地点", "检定周期"], ["C-1", "表", None, None]]
        ),
    )
    kept = instrument(db_session, world.a.org.id, "C-1")
    assert (kept.location, kept.interval_months) == (None, 6)  # blank interval keeps the interval


def test_lent_out_adds_a_remark_without_losing_the_notes(db_session, world, admin, tmp_path):
    gauge = make_instrument(db_session, admin, TODAY, notes="原有备注")
    rows = [["管理编号", "器具名称", "使用状态"], [gauge.management_no, gauge.name, "外借"]]
    path = write_xlsx(tmp_path / "l.xlsx", rows)
    assert run(db_session, admin, path).updated == 1
    assert (gauge.status, gauge.notes) == ("in_service", "原有备注\n使用状态: 外借")
    assert run(db_session, admin, path).unchanged == 1


def test_a_linked_custodian_as_the_export_writes_it_is_unchanged(db_session, world, admin, tmp_path):
    user = world.a.metrology
    gauge = make_instrument(db_session, admin, TODAY, custodian_user_id=user.id)
    rows = [
        ["管理编号", "器具名称", "保管人", "保管人手机"],
        [gauge.management_no, gauge.name, user.name, user.mobile],
    ]
    report = run(db_session, admin, write_xlsx(tmp_path / "e.xlsx", rows))
    assert report.unchanged == 1
    assert gauge.custodian_user_id == user.id
    rows[1][2] = "别人"
    report = run(db_session, admin, write_xlsx(tmp_path / "f.xlsx", rows))
    assert report.updated == 1
    assert (gauge.custodian_user_id, gauge.custodian_display) == (None, "别人")


def test_a_status_change_that_needs_approval_is_rejected(db_session, world, admin, tmp_path):
    number = world.a.instruments[0].management_no
    rows = [
        ["管理编号", "器具名称", "使用状态"],
        [number, "压力表", "报废"],
        [number + "-B", "压力表", "报废"],
    ]
    report = run(db_session, admin, write_xlsx(tmp_path / "s.xlsx", rows))
    assert (report.created, report.rejected) == (1, 1)  # a new instrument may start scrapped
    assert report.rejected_rows[0].column == "使用状态"
    assert "approved request" in report.as_dict()["rejected_rows"][0]["reason"]
    assert world.a.instruments[0].status == "in_service"


def test_the_import_stays_in_its_tenant(db_session, world, admin, tmp_path):
    foreign = world.b.instruments[0]
    rows = [["管理编号", "器具名称"], [foreign.management_no, "同号的表"]]
    report = run(db_session, admin, write_xlsx(tmp_path / "t.xlsx", rows))
    assert report.created == 1
    assert foreign.name == "压力表"
    assert instrument(db_session, world.a.org.id, foreign.management_no).name == "同号的表"


def plant_a_clashing_event(session, org_id):
    """Put a stray event where the import's history will go: the database refuses the import's insert.

    A real error from the database (a unique violation on the chain's sequence numbers), raised
    after the instruments have been inserted.
    """
    head = session.get(HistoryHead, org_id)
    session.add(
        Event(
            org_id=org_id,
            seq=head.last_seq + 3,
            kind="stray",
            subject_type="instrument",
            subject_id=0,
            occurred_at=now_utc(),
            data={},
            prev_hash="x",
            hash="x",
        )
    )
    session.flush()


def test_a_database_error_midway_rolls_back_every_row(db_session, world, admin, tmp_path):
    """The instruments reach the database, their history does not: neither stays."""
    before = counts(db_session, world.a.org.id)
    plant_a_clashing_event(db_session, world.a.org.id)
    with pytest.raises(IntegrityError):
        run(db_session, admin, messy_file(tmp_path))
    db_session.rollback()
    assert counts(db_session, world.a.org.id) == before
    assert instrument(db_session, world.a.org.id, "JL-001") is None


def test_a_database_error_at_the_boundary_leaves_nothing(sessions, db_session, world, tmp_path):
    before = counts(db_session, world.a.org.id)
    path = messy_file(tmp_path)

    def import_with_a_failing_database():
        with unit_of_work(sessions) as session:
            plant_a_clashing_event(session, world.a.org.id)
            run(session, Actor.of(world.a.admin), path)

    with pytest.raises(IntegrityError):
        import_with_a_failing_database()
    assert counts(db_session, world.a.org.id) == before


# The rejected rows, fixed and imported again -----------------------------------------------------


def test_rejected_rows_download_fix_and_reimport(db_session, world, admin, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (
        ["企业计量器具台账"],
        ["管理编号", "器具名称", "有效期至", "备注"],
        ["R-1", "压力表", date(2025, 9, 1), None],
        ["R-2", None, date(2025, 9, 1), None],
        ["R-3", "温度计", "2024-13-45", None],
    ):
        sheet.append(row)
    sheet["D4"] = '=HYPERLINK("http://evil")'
    sheet["D4"].data_type = "s"  # typed text, not a formula
    path = tmp_path / "r.xlsx"
    workbook.save(path)
    report = run(db_session, admin, path)
    assert (report.created, report.rejected) == (1, 2)

    content = rejected_rows_xlsx(report)
    fixed = openpyxl.load_workbook(io.BytesIO(content))
    sheet = fixed.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["管理编号", "器具名称", "有效期至", "备注", "原行号", "导入问题"]
    assert values[1][:2] == ["R-2", None]
    assert values[1][2] == datetime(2025, 9, 1)
    assert values[1][3] == '\'=HYPERLINK("http://evil")'  # neutralised, and a string
    assert sheet["D2"].data_type == "s"
    assert values[1][4:] == [4, "器具名称: Missing instrument name."]
    assert values[2][4] == 5
    assert values[2][5].startswith("有效期至: No such date: 2024-13-45")

    sheet["B2"] = "压力表"
    sheet["C3"] = "2025-09-01"
    fixed_path = tmp_path / "fixed.xlsx"
    fixed.save(fixed_path)
    again = run(db_session, admin, fixed_path)
    assert (again.created, again.rejected, again.unknown_columns, again.ignored_columns) == (
        2,
        0,
        [],
        ["原行号", "导入问题"],
    )
    second = instrument(db_session, world.a.org.id, "R-2")
    assert second.notes == '=HYPERLINK("http://evil")'  # our own apostrophe is taken off again
    assert instrument(db_session, world.a.org.id, "R-3").valid_until == date(2025, 9, 1)


# Formats ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-8-sig", ","), ("utf-8", ";"), ("gb18030", ","), ("gb18030", "\t")]
)
def test_csv_in_utf8_and_gb18030(db_session, world, admin, tmp_path, encoding, delimiter):
    rows = [
        ["计量器具台账"],
        ["管理编号", "器具名称", "使用部门", "检定周期", "上次检定日期", "是否强检", "强检用途"],
        ["C-001", "电子天平（精密）", world.a.department.name, "12个月", "2025/3/15", "是", "贸易结算"],
        ["C-002", "千分尺", world.a.department.name, "两年", "2025年1月2日", "否", None],
    ]
    path = write_csv(tmp_path / "台账.csv", rows, encoding, delimiter)
    report = run(db_session, admin, path)
    assert (report.created, report.rejected) == (2, 0)
    balance = instrument(db_session, world.a.org.id, "C-001")
    assert (balance.name, balance.mandatory_use, balance.last_done_on) == (
        "电子天平（精密）",
        "trade",
        date(2025, 3, 15),
    )
    assert instrument(db_session, world.a.org.id, "C-002").interval_months == 24


def test_a_department_merged_over_its_rows_applies_to_each(db_session, world, admin, tmp_path):
    rows = [
        ["台账"],
        ["管理编号", "器具名称", "使用部门"],
        ["M-1", "压力表", "二车间"],
        ["M-2", "压力表", None],
        ["M-3", "温度计", "质检部"],
    ]
    path = write_xlsx(tmp_path / "merged.xlsx", rows, merge="C3:C4")
    report = run(db_session, admin, path)
    assert report.created == 3
    departments = [instrument(db_session, world.a.org.id, f"M-{i}").department.name for i in (1, 2, 3)]
    assert departments == ["二车间", "二车间", "质检部"]


def test_unicode_text_saved_by_excel(db_session, world, admin, tmp_path):
    """Excel's "Unicode text" is UTF-16 with a BOM and tabs."""
    path = tmp_path / "台账.txt"
    path.write_bytes("管理编号\t器具名称\t检定周期\nU-1\t压力表\t半年\n".encode("utf-16"))
    report = run(db_session, admin, path)
    assert report.created == 1
    assert instrument(db_session, world.a.org.id, "U-1").interval_months == 6


def test_the_columns_of_the_reference_ledger_layout(db_session, world, admin, tmp_path):
    """The headers of ../shared/data/ledger_columns.csv with its example values, as one CSV row."""
    pairs = [
        ("管理编号(计量编号/厂内编号)", "JL-ZJ-PG-0012"),
        ("器具名称", "一般压力表"),
        ("型号规格", "Y-100 0~1.6MPa"),
        ("出厂编号", "2023051234"),
        ("制造厂", "XX仪表厂"),
        ("测量范围", "0~1.6 MPa"),
        ("准确度等级/最大允许误差/不确定度", "1.6级 / MPE ±0.5% / U=0.02MPa,k=2"),
        ("分辨力/分度值", "0.05 MPa"),
        ("使用部门", "二车间"),
        ("存放/安装地点", "二车间3#储气罐"),
        ("责任人/保管人", "张三 13800138000"),
        ("ABC管理类别", "A"),
        ("是否强检", "是"),
        ("强检用途", "安全防护"),
        ("强检目录项别/种别", "压力表"),
        ("溯源方式", "检定"),
        ("内检/外检", "外检"),
        ("检定/校准周期(月)", "6"),
        ("上次检定/校准日期", "2025-03-10"),
        ("有效期至/下次检定日期", "2025-09-09"),
        ("检定/校准单位", "XX市计量测试所"),
        ("证书编号", "JD2025-012345"),
        ("证书类型", "检定证书"),
        ("检定结论/确认结论", "合格"),
        ("计量确认结果与确认人", "满足预期使用要求/王五/2025-03-15"),
        ("使用状态", "在用"),
        ("状态标识", "合格-绿"),
        ("启用日期", "2023-06-01"),
        ("证书附件", "cert.pdf"),
        ("备注", "储气罐"),
    ]
    path = write_csv(tmp_path / "ref.csv", [[h for h, _ in pairs], [v for _, v in pairs]])
    report = run(db_session, admin, path)
    assert (report.created, report.rejected) == (1, 0), report.as_dict()
    assert report.unknown_columns == ["内检/外检", "计量确认结果与确认人", "证书附件"]
    assert report.ignored_columns == ["状态标识"]
    gauge = instrument(db_session, world.a.org.id, "JL-ZJ-PG-0012")
    assert gauge.accuracy == "1.6级 / MPE ±0.5% / U=0.02MPa,k=2"
    assert (gauge.custodian_name, gauge.custodian_mobile, gauge.location) == (
        "张三",
        "13800138000",
        "二车间3#储气罐",
    )
    assert (gauge.valid_until, gauge.certificate_type, gauge.in_service_on) == (
        date(2025, 9, 9),
        "verification_certificate",
        date(2023, 6, 1),
    )
    assert gauge.notes.splitlines() == [
        "储气罐",
        "内检/外检: 外检",
        "计量确认结果与确认人: 满足预期使用要求/王五/2025-03-15",
        "证书附件: cert.pdf",
    ]


def test_the_first_sheet_with_a_ledger_header_is_read(db_session, world, admin, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "填表说明"
    workbook.active.append(["本表用于登记计量器具"])
    hidden = workbook.create_sheet("旧")
    hidden.append(["管理编号", "器具名称"])
    hidden.append(["OLD-1", "旧表"])
    hidden.sheet_state = "hidden"
    ledger = workbook.create_sheet("台账")
    ledger.append(["管理编号", "器具名称"])
    ledger.append(["S-1", "表"])
    workbook.save(tmp_path / "s.xlsx")
    report = run(db_session, admin, tmp_path / "s.xlsx")
    assert (report.sheet, report.created) == ("台账", 1)


def test_the_user_corrects_the_mapping_and_the_header_row(tmp_path):
    path = write_xlsx(tmp_path / "m.xlsx", [["编号", "名称", "类别"], ["M-1", "表", "压力"]])
    guessed = read_ledger(path, path.name)  # 类别 is read as the ABC class, and 压力 is no class
    assert [p.column for p in guessed.rows[0].warnings] == ["类别"]
    assert guessed.rows[0].values["notes"] == "类别: 压力"
    corrected = read_ledger(path, path.name, mapping={2: "catalog_item"})
    assert corrected.rows[0].values == {"management_no": "M-1", "name": "表", "catalog_item": "压力"}
    assert not corrected.rows[0].errors
    assert read_ledger(path, path.name, mapping={2: None}).rows[0].values == {
        "management_no": "M-1",
        "name": "表",
    }
    with pytest.raises(Invalid):
        read_ledger(path, path.name, mapping={2: "no_such_field"})
    other = write_xlsx(tmp_path / "h.xlsx", [["管理编号", "器具名称"], ["编号", "名称"], ["H-1", "表"]])
    assert [r.number for r in read_ledger(other, other.name, header_row=2).rows] == [3]


def test_formulas_are_never_evaluated(db_session, world, admin, tmp_path):
    rows = [["管理编号", "器具名称", "测量范围"], ["F-1", "压力表", "=1+1"], ["F-2", "=1+1", "0~1"]]
    path = write_xlsx(tmp_path / "f.xlsx", rows)  # openpyxl stores formulas without a cached result
    report = run(db_session, admin, path)
    # A formula cell reads as its stored result, and there is none: the cell is blank, never 2.
    assert instrument(db_session, world.a.org.id, "F-1").measuring_range is None
    assert (report.created, report.rejected, str(report.rejected_rows[0].reason)) == (
        1,
        1,
        "Missing instrument name.",
    )

    cached = tmp_path / "cached.xlsx"
    workbook = xlsxwriter.Workbook(cached)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["管理编号", "器具名称", "测量范围"])
    sheet.write_row(1, 0, ["F-3", "压力表"])
    sheet.write_formula(1, 2, "=1+1", None, "Excel存的值")
    workbook.close()
    run(db_session, admin, cached)
    assert instrument(db_session, world.a.org.id, "F-3").measuring_range == "Excel存的值"


# Hostile and unusable files ---------------------------------------------------------------------


def refused(path, limits=None, filename=None):
    with pytest.raises(Invalid) as excinfo:
        read_ledger(path, filename or path.name, limits=limits or Limits())
    return excinfo.value.message.render()


def test_a_zip_bomb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"<row><c><v>1</v></c></row>" * 40000
            for _ in range(48):  # about 50 MB unpacked, some 50 KB packed
                member.write(chunk)
    assert path.stat().st_size < 1024 * 1024
    assert "zip bomb" in refused(path)


def test_a_zip_whose_headers_understate_the_unpacked_size_is_refused(tmp_path):
    """Sizes in the headers are not trusted: every part is unpacked once, counting real bytes."""
    path = tmp_path / "liar.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<row/>" * 500_000)  # 3 MB
    data = bytearray(path.read_bytes())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    assert "damaged" in refused(path)


def test_too_much_unpacked_data_is_refused(tmp_path):
    path = messy_file(tmp_path)
    assert "zip bomb" in refused(path, Limits(max_unpacked_bytes=2000))


def test_too_many_zip_members_are_refused(tmp_path):
    path = messy_file(tmp_path)
    assert "too many parts" in refused(path, Limits(max_zip_members=3))


def test_an_xml_entity_declaration_is_refused(tmp_path):
    source = messy_file(tmp_path)
    path = tmp_path / "entities.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                doctype = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                if data.startswith(b"<?xml"):
                    end = data.index(b"?>") + 2
                    data = data[:end] + doctype + data[end:]
                else:
                    data = doctype + data
            copy.writestr(item, data)
    assert "XML declarations" in refused(path)


def test_a_file_that_is_not_a_spreadsheet_is_refused(tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes("这不是表格，只是一段文字。".encode())
    assert "not a spreadsheet" in refused(path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    assert "not a spreadsheet" in refused(path)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "word.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    assert "not a spreadsheet or is damaged" in refused(path)


def test_a_truncated_workbook_is_refused(tmp_path):
    content = messy_file(tmp_path).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(content[: len(content) // 2])
    assert "damaged" in refused(path)


def test_a_password_protected_workbook_is_refused(tmp_path):
    """Excel stores an encrypted .xlsx in an OLE container with an EncryptionInfo stream (a stand-in here)."""
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    path = tmp_path / "locked.xlsx"
    path.write_bytes(ole + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(2000))
    assert "password-protected" in refused(path)
    path.write_bytes(ole + bytes(3000))
    assert "not a spreadsheet or is damaged" in refused(path)


def test_a_web_page_saved_as_xls_is_refused(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<html><body><table><tr><td>管理编号</td></tr></table></body></html>", encoding="utf-8")
    assert "web page" in refused(path)


def test_empty_files_are_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert refused(path) == "The file is empty."
    empty_book = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty_book)
    assert refused(empty_book) == "The file is empty."


def test_a_sheet_without_a_header_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "h.xlsx", [["a", "b"], [1, 2]])
    assert "No header row found" in refused(path)


def test_a_header_without_a_management_number_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "h.xlsx", [["器具名称", "型号规格", "测量范围"], ["表", "Y", "0~1"]])
    assert "management number" in refused(path)


def test_size_and_row_limits(tmp_path):
    path = messy_file(tmp_path)
    assert "larger than" in refused(path, Limits(max_bytes=1000))
    many = write_xlsx(
        tmp_path / "many.xlsx", [["管理编号", "器具名称"]] + [[f"N-{i}", "表"] for i in range(10)]
    )
    assert refused(many, Limits(max_rows=5)) == "The sheet has more than 5 rows."
    assert read_ledger(many, many.name, limits=Limits(max_rows=11)).rows[-1].number == 11
    csv_path = write_csv(
        tmp_path / "many.csv", [["管理编号", "器具名称"]] + [[f"N-{i}", "表"] for i in range(10)]
    )
    assert refused(csv_path, Limits(max_rows=5)) == "The sheet has more than 5 rows."


def test_an_oversized_cell_rejects_its_row_not_the_file(db_session, world, admin, tmp_path):
    rows = [
        ["管理编号", "器具名称", "备注"],
        ["L-1", "表", "短"],
        ["L-2", "表", "长" * 60],
        ["L-3", "表", None],
    ]
    path = write_xlsx(tmp_path / "long.xlsx", rows)
    report = run(db_session, admin, path, limits=Limits(max_cell_chars=50))
    assert (report.created, report.rejected) == (2, 1)
    assert report.as_dict()["rejected_rows"] == [
        {
            "row": 3,
            "management_no": "L-2",
            "column": "备注",
            "reason": "Cell too long: 60 characters (at most 50).",
        }
    ]


# The command line -------------------------------------------------------------------------------


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["ledger", "import", *map(str, args)])


def test_cli_imports_and_prints_one_json_object(app, sessions, db_session, world, tmp_path):
    path = messy_file(tmp_path)
    slug = world.a.org.slug
    before = counts(db_session, world.a.org.id)

    dry = cli(app, path, "--org", slug, "--dry-run")
    assert dry.exit_code == 0, dry.output
    summary = json.loads(dry.stdout)
    assert {
        k: summary[k] for k in ("created", "updated", "unchanged", "rejected", "rejected_rows", "dry_run")
    } == {
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "rejected_rows": [],
        "dry_run": True,
    }
    assert counts(db_session, world.a.org.id) == before

    real = cli(app, path, "--org", slug)
    assert real.exit_code == 0, real.output
    assert json.loads(real.stdout)["created"] == 4
    assert instrument(db_session, world.a.org.id, "JL-001").name == "压力表"
    event = db_session.scalars(
        select(Event).where(Event.org_id == world.a.org.id).order_by(Event.seq.desc())
    ).first()
    assert (event.actor_id, event.actor_name) == (None, "台账导入")

    again = json.loads(cli(app, path, "--org", slug).stdout)
    assert (again["created"], again["unchanged"]) == (0, 4)


def test_cli_reports_rejected_rows_in_chinese(app, sessions, db_session, world, tmp_path):
    future = (date.today() + timedelta(days=40)).isoformat()
    rows = [["管理编号", "器具名称", "上次检定日期"], ["CLI-1", "表", future], ["CLI-2", "表", "2025-01-02"]]
    result = cli(app, write_xlsx(tmp_path / "c.xlsx", rows), "--org", world.a.org.slug)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["rejected"]) == (1, 1)
    assert summary["rejected_rows"] == [
        {
            "row": 2,
            "management_no": "CLI-1",
            "column": "上次检定日期",
            "reason": "上次检定/校准日期不能晚于今天。",
        }
    ]


def test_cli_refuses_unusable_files_with_exit_2(app, sessions, world, tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a workbook at all")
    result = cli(app, path, "--org", world.a.org.slug)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    unknown = cli(app, messy_file(tmp_path), "--org", "no-such-org")
    assert unknown.exit_code == 2

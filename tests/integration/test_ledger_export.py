"""Ledger export (xlsx, CSV, web, CLI) and the import template."""

from __future__ import annotations

import codecs
import csv
import io
import json
from datetime import date, timedelta
from urllib.parse import quote

import flask_babel
import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import insert, update

from models import Instrument
from models.ledger import (
    CERTIFICATE_TYPES,
    CONTROL_METHODS,
    INSTRUMENT_CONCLUSIONS,
    LABELS,
    MANDATORY_USES,
    STATUSES,
)
from service.actors import Actor
from service.clock import today_in
from service.db import scope_to_org
from service.ledger_io import exporter
from service.ledger_io.columns import CODE_NAMES, COLUMNS, COMPUTED_HEADERS, HEADER_INDEX, normalise_header
from service.ledger_io.exporter import HEADERS, export_ledger, iter_ledger, neutralise
from service.ledger_io.template import EXAMPLE, NOTES_SHEET, import_template
from service.web.templating import name_of
from tests.conftest import login
from tests.factories import make_instrument, make_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
COL = {column.field: index for index, column in enumerate(COLUMNS)}
NEXT_DUE, LABEL = len(COLUMNS), len(COLUMNS) + 1


def _today() -> date:
    return today_in("Asia/Shanghai")


def _sheet(data: bytes, sheet: int | str = 0) -> list[list]:
    """The rows of a sheet as python-calamine reads them (as the import will)."""
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    ws = book.get_sheet_by_index(sheet) if isinstance(sheet, int) else book.get_sheet_by_name(sheet)
    return ws.to_python()


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)  # Excel reads UTF-8 CSV only with a BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _by_no(rows: list[list]) -> dict[str, list]:
    return {row[COL["management_no"]]: row for row in rows[1:]}


@pytest.fixture
def full(world, db_session):
    """A firm-A instrument with every column filled, custodian a user of the firm."""
    a = world.a
    custodian = make_user(db_session, a.org, "metrology", name="李娜", mobile="13912345678")
    instrument = make_instrument(
        db_session,
        a.actor(),
        management_no="JL-0001",
        name="精密压力表",
        model="YB-150",
        serial_no="0012",
        manufacturer="西安仪表厂",
        measuring_range="(0~2.5)MPa",
        accuracy="0.4级",
        resolution="0.01MPa",
        department_id=a.department.id,
        location="二车间",
        custodian_user_id=custodian.id,
        abc_class="A",
        is_mandatory=True,
        mandatory_use="safety",
        catalog_item="压力表",
        control_method="verification",
        interval_months=6,
        last_done_on="2025-03-15",
        valid_until="2099-09-14",
        lab="市计量测试所",
        certificate_no="JD2025-0042",
        certificate_type="verification_certificate",
        conclusion="limited",
        status="in_service",
        in_service_on="2023-06-01",
        notes="配套安全阀",
    )
    db_session.commit()
    return instrument


def test_xlsx_export_has_the_template_layout_real_dates_and_chinese_names(client, world, full):
    login(client, world.a.viewer)  # read-only roles may export
    response = client.get("/instruments/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    rows = _sheet(response.data)
    assert rows[0] == [c.header for c in COLUMNS] + list(COMPUTED_HEADERS.values())
    assert len(rows) == 1 + 4  # the world's three instruments and this one; none of firm B's
    row = _by_no(rows)["JL-0001"]
    expected = {
        "name": "精密压力表",
        "serial_no": "0012",  # leading zeros kept: a text cell
        "department": world.a.department.name,
        "custodian": "李娜",
        "custodian_mobile": "13912345678",
        "abc_class": "A",
        "is_mandatory": "是",
        "mandatory_use": "安全防护",
        "control_method": "检定",
        "interval_months": 6,
        "last_done_on": date(2025, 3, 15),
        "valid_until": date(2099, 9, 14),
        "certificate_type": "检定证书",
        "conclusion": "准用",
        "status": "在用",
        "in_service_on": date(2023, 6, 1),
        "notes": "配套安全阀",
    }
    assert {field: row[COL[field]] for field in expected} == expected
    assert row[NEXT_DUE] == date(2099, 9, 14)
    assert row[LABEL] == "准用"
    assert all(isinstance(row[COL[f]], date) for f in ("last_done_on", "valid_until", "in_service_on"))

    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(HEADERS))}5"
    cells = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "JL-0001")
    for field in ("last_done_on", "valid_until", "in_service_on"):
        assert cells[COL[field]].is_date
        assert cells[COL[field]].number_format == "yyyy-mm-dd"
    assert cells[COL["interval_months"]].data_type == "n"
    assert all(cells[COL[f]].data_type == "s" for f in ("management_no", "serial_no", "custodian_mobile"))


def test_free_text_custodian_and_blank_columns(client, world, db_session):
    make_instrument(
        db_session, world.a.actor(), management_no="JL-0002", custodian="王五", custodian_mobile="13700001111"
    )
    db_session.commit()
    login(client, world.a.metrology)
    row = _by_no(_sheet(client.get("/instruments/export.xlsx").data))["JL-0002"]
    assert (row[COL["custodian"]], row[COL["custodian_mobile"]]) == ("王五", "13700001111")
    assert (row[COL["is_mandatory"]], row[COL["interval_months"]]) == ("否", 12)
    assert row[COL["model"]] == row[COL["valid_until"]] == row[COL["department"]] == ""
    assert row[NEXT_DUE] == ""


def test_every_code_name_is_the_chinese_catalogues(app):
    """CODE_NAMES says in one place what the pages say through the translations."""
    assert {k: tuple(v) for k, v in CODE_NAMES.items()} == {
        "status": STATUSES,
        "conclusion": INSTRUMENT_CONCLUSIONS,
        "control_method": CONTROL_METHODS,
        "mandatory_use": MANDATORY_USES,
        "certificate_type": CERTIFICATE_TYPES,
        "label": (*LABELS, "pending"),
    }
    with app.test_request_context("/"), flask_babel.force_locale("zh_Hans_CN"):
        for kind, names in CODE_NAMES.items():
            for code, name in names.items():
                assert name_of(kind, code) == name, (kind, code)
    coded = {c.kind for c in COLUMNS} & {"status", "conclusion", "control_method", "mandatory_use"}
    assert coded <= set(CODE_NAMES)
    # The computed headers are known to the import, which ignores them.
    assert all(HEADER_INDEX[normalise_header(h)] is None for h in COMPUTED_HEADERS.values())


def test_export_applies_the_list_filters_and_sort_but_not_paging(client, world, db_session):
    a = world.a
    failed = make_instrument(db_session, a.actor(), management_no="RED-1", conclusion="fail")
    make_instrument(db_session, a.actor(), management_no="ZZ-9")
    db_session.commit()
    login(client, a.metrology)
    rows = _sheet(client.get("/instruments/export.xlsx?label=red").data)
    assert [r[COL["management_no"]] for r in rows[1:]] == [failed.management_no]
    assert rows[1][LABEL] == "停用"
    rows = _csv(client.get("/instruments/export.csv?label=red&cursor=junk&limit=1").data)
    assert [r[COL["management_no"]] for r in rows[1:]] == ["RED-1"]

    numbers = [i.management_no for i in a.instruments] + ["RED-1", "ZZ-9"]
    rows = _sheet(client.get("/instruments/export.xlsx?sort=-management_no&limit=1").data)
    assert [r[COL["management_no"]] for r in rows[1:]] == sorted(numbers, reverse=True)
    rows = _sheet(client.get(f"/instruments/export.xlsx?department={a.department.id}").data)
    assert {r[COL["management_no"]] for r in rows[1:]} == {i.management_no for i in a.instruments}


@pytest.mark.parametrize(
    "query", ["status=bogus", "department=没有这个部门", "unknown=1", "due_within=-5", "sort=id"]
)
def test_a_bad_filter_is_a_422_with_its_message(client, world, query):
    login(client, world.a.metrology)
    for fmt in ("xlsx", "csv"):
        response = client.get(f"/instruments/export.{fmt}?{query}")
        assert response.status_code == 422, (fmt, query)
        assert response.mimetype == "text/html"


def test_download_names_are_chinese_with_an_ascii_fallback(client, world):
    login(client, world.a.metrology)
    stem = f"{world.a.org.slug}-{_today():%Y%m%d}"
    for fmt, mimetype in (("xlsx", XLSX), ("csv", "text/csv")):
        response = client.get(f"/instruments/export.{fmt}")
        assert response.mimetype == mimetype
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename=ledger-{stem}.{fmt}" in disposition.replace('"', "")
        assert f"filename*=UTF-8''{quote('台账')}-{stem}.{fmt}" in disposition
        assert response.headers["Cache-Control"] == "no-store"
        if fmt == "xlsx":  # the CSV is streamed as it is read: no length ahead
            assert int(response.headers["Content-Length"]) == len(response.data)
    assert client.get("/instruments/export.csv").headers["Content-Type"] == "text/csv; charset=utf-8"


def test_csv_is_utf8_with_bom_iso_dates_and_the_same_values(client, world, full):
    login(client, world.a.metrology)
    rows = _csv(client.get("/instruments/export.csv").data)
    assert rows[0] == list(HEADERS)
    row = _by_no(rows)["JL-0001"]
    assert row[COL["last_done_on"]] == "2025-03-15"
    assert row[COL["interval_months"]] == "6"
    assert row[COL["status"]] == "在用"
    assert row[COL["serial_no"]] == "0012"
    assert row[NEXT_DUE] == "2099-09-14"
    assert row[COL["model"]] == "YB-150"


def test_formulas_are_neutralised_in_xlsx_and_csv(client, world, db_session):
    a = world.a
    payloads = {f"F-{i}": f"{t}1+cmd|' /C calc'!A0" for i, t in enumerate(TRIGGERS)}
    for number, text in payloads.items():
        instrument = make_instrument(db_session, a.actor(), management_no=number, measuring_range="-0.1~0MPa")
        # Tabs and carriage returns cannot be typed into a field (validation strips and refuses
        # them), so plant them directly, as data from elsewhere might arrive.
        db_session.execute(update(Instrument).where(Instrument.id == instrument.id).values(notes=text))
    make_instrument(db_session, a.actor(), management_no='=HYPERLINK("http://x")', name="@SUM(A1)")
    db_session.commit()
    login(client, a.metrology)

    xlsx = client.get("/instruments/export.xlsx").data
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    read_back = _by_no(_sheet(xlsx))  # openpyxl leaves the \r of an inline string escaped as _x000D_
    for number, text in payloads.items():
        cell = rows[number][COL["notes"]]
        assert cell.data_type == "s"
        assert cell.value.startswith("'")
        assert read_back[number][COL["notes"]] == "'" + text
        assert rows[number][COL["measuring_range"]].value == "'-0.1~0MPa"
    hyperlink = rows['\'=HYPERLINK("http://x")']
    assert hyperlink[0].data_type == "s"
    assert hyperlink[COL["name"]].value == "'@SUM(A1)"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    assert b"<f>" not in _unzipped(xlsx)

    by_no = _by_no(_csv(client.get("/instruments/export.csv").data))
    for number, text in payloads.items():
        assert by_no[number][COL["notes"]] == "'" + text
    assert by_no['\'=HYPERLINK("http://x")'][COL["name"]] == "'@SUM(A1)"


def _unzipped(xlsx: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_neutralise():
    for trigger in TRIGGERS:
        assert neutralise(trigger + "x") == "'" + trigger + "x"
    for harmless in ("", "a=b", "1-2", "'=x", "压力表", " =x"):
        assert neutralise(harmless) == harmless


def test_template_has_the_export_header_an_example_row_and_notes(client, world):
    login(client, world.a.metrology)
    response = client.get("/instruments/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert "filename*=UTF-8''" + quote("台账导入模板.xlsx") in response.headers["Content-Disposition"]
    rows = _sheet(response.data)
    export_header = _sheet(client.get("/instruments/export.xlsx").data)[0]
    assert rows[0] == export_header == list(HEADERS)
    assert len(rows) == 2
    example = dict(zip([c.field for c in COLUMNS], rows[1], strict=False))
    assert example["management_no"] == "JL-ZJ-PG-0012"
    assert example["last_done_on"] == EXAMPLE["last_done_on"]
    assert example["interval_months"] == 6
    assert example["status"] in CODE_NAMES["status"].values()
    notes = _sheet(response.data, NOTES_SHEET)
    described = {row[0]: row for row in notes[1:] if row[0]}
    for column in COLUMNS:
        assert described[column.header][1] == ("是" if column.required else "否")
    assert "在用" in described["使用状态"][2]
    assert "检定结果通知书" in described["证书类型"][2]
    assert set(COMPUTED_HEADERS.values()) <= set(described)


def test_template_function_writes_to_any_binary_file(tmp_path):
    path = tmp_path / "t.xlsx"
    with path.open("wb") as out:
        import_template(out)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["台账", NOTES_SHEET]
    assert book["台账"]["A2"].data_type == "s"


def test_list_page_links_the_exports_with_its_filters(client, world):
    login(client, world.a.metrology)
    page = client.get("/instruments?label=red&sort=name&cursor=abc").text
    # Excel is a background job the button starts (POST); the form's address carries the filters.
    form = page.split('<form method="post" action="/instruments/exports?')[1].split("</form>")[0]
    assert 'id="export-xlsx"' in form
    link = form.split('"')[0].replace("&amp;", "&")
    assert "label=red" in link
    assert "sort=name" in link
    assert "cursor" not in link
    assert 'id="import-template"' in page
    recall = client.get("/recall/30").text
    link = recall.split('id="export-csv" href="')[1].split('"')[0]
    assert link == "/instruments/export.csv?due_within=30"
    client.post("/logout")
    login(client, world.a.viewer)
    page = client.get("/instruments").text
    assert 'id="export-xlsx"' in page
    assert 'id="import-template"' not in page


def test_institutes_export_a_clients_ledger_only_through_an_active_link(client, world):
    login(client, world.institute_technician)
    response = client.get(f"/clients/{world.a.org.id}/instruments/export.xlsx")
    assert response.status_code == 200
    rows = _sheet(response.data)
    assert {r[0] for r in rows[1:]} == {i.management_no for i in world.a.instruments}
    assert f"ledger-{world.a.org.slug}-" in response.headers["Content-Disposition"]
    response = client.get(f"/clients/{world.a.org.id}/instruments/export.csv?status=in_service")
    assert response.status_code == 200
    assert len(_csv(response.data)) == 4
    page = client.get(f"/clients/{world.a.org.id}/instruments").text
    assert f"/clients/{world.a.org.id}/instruments/export.xlsx" in page
    assert 'id="import-template"' not in page
    for fmt in ("xlsx", "csv"):
        assert client.get(f"/clients/{world.b.org.id}/instruments/export.{fmt}").status_code == 404
    client.post("/logout")
    login(client, world.b.admin)  # a firm: no client views at all, its own ledger only
    assert client.get(f"/clients/{world.a.org.id}/instruments/export.xlsx").status_code == 404
    rows = _sheet(client.get("/instruments/export.xlsx").data)
    assert {r[0] for r in rows[1:]} == {i.management_no for i in world.b.instruments}


def test_export_requires_sign_in(client, world):
    for path in ("/instruments/export.xlsx", "/instruments/export.csv", "/instruments/template.xlsx"):
        response = client.get(path)
        assert response.status_code in (302, 401), path
        assert response.mimetype != XLSX


def _bulk_instruments(db_session, org_id: int, count: int) -> None:
    """Insert instruments with Core executemany (no history): quick, for volume tests."""
    today = _today()
    db_session.execute(
        insert(Instrument.__table__),
        [
            {
                "org_id": org_id,
                "management_no": f"BULK-{n:05d}",
                "name": "=数字压力计" if n % 2 else "数字压力计",
                "is_mandatory": bool(n % 3),
                "control_method": "calibration",
                "interval_months": 12,
                "last_done_on": today - timedelta(days=n % 400),
                "next_due_on": today - timedelta(days=n % 400) + timedelta(days=365),
                "status": "in_service",
            }
            for n in range(count)
        ],
    )
    db_session.commit()


def test_export_reads_the_query_lazily(world, db_session, sessions, monkeypatch):
    _bulk_instruments(db_session, world.a.org.id, 2000)
    monkeypatch.setattr(exporter, "YIELD_PER", 100)
    session = sessions()
    scope_to_org(session, world.a.org.id)
    actor = Actor.of(world.a.viewer)
    rows = iter_ledger(session, actor, {"sort": "management_no"}, _today())
    first = next(rows)
    loaded = sum(1 for obj in session.identity_map.values() if isinstance(obj, Instrument))
    assert loaded <= 100  # one partition, not the firm's 2,003 instruments
    assert first.management_no == "BULK-00000"
    rows.close()

    out = io.BytesIO()
    assert export_ledger(session, actor, {"sort": "management_no"}, _today(), out, "xlsx") == 2003
    table = _sheet(out.getvalue())
    assert len(table) == 2004
    assert table[1][0] == "BULK-00000"
    assert table[2][COL["name"]] == "'=数字压力计"
    assert isinstance(table[1][COL["last_done_on"]], date)
    out = io.BytesIO()
    assert export_ledger(session, actor, {}, _today(), out, "csv") == 2003
    assert len(_csv(out.getvalue())) == 2004
    session.close()


def test_export_refuses_an_unknown_format(world, sessions):
    session = sessions()
    scope_to_org(session, world.a.org.id)
    with pytest.raises(ValueError, match="format"):
        export_ledger(session, Actor.of(world.a.viewer), {}, _today(), io.BytesIO(), "pdf")
    session.close()


def _run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_exports_xlsx_and_csv(app, sessions, world, full, tmp_path):
    out = tmp_path / "台账.xlsx"
    result = _run(app, "ledger", "export", "--org", world.a.org.slug, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"exported": 4, "path": str(out)}
    rows = _sheet(out.read_bytes())
    assert rows[0] == list(HEADERS)
    assert _by_no(rows)["JL-0001"][COL["status"]] == "在用"

    out = tmp_path / "ledger.CSV"
    result = _run(
        app, "ledger", "export", "--org", world.a.org.slug, "--out", str(out), "--filter", "label=yellow"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["exported"] == 1
    assert [r[0] for r in _csv(out.read_bytes())[1:]] == ["JL-0001"]
    assert set(tmp_path.iterdir()) == {tmp_path / "台账.xlsx", out}  # no partial files left behind


def test_cli_export_errors_leave_no_file(app, sessions, world, tmp_path):
    out = tmp_path / "x.xlsx"
    result = _run(app, "ledger", "export", "--org", "no-such-firm", "--out", str(out))
    assert result.exit_code == 2
    assert "no-such-firm" in result.output
    result = _run(
        app, "ledger", "export", "--org", world.a.org.slug, "--out", str(out), "--filter", "label=pink"
    )
    assert result.exit_code == 2
    assert "label" in result.output
    assert list(tmp_path.iterdir()) == []

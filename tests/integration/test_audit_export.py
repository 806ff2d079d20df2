"""The auditors' export of an instrument's history, read back sheet by sheet."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import flask_babel
import pytest
from babel.support import Translations
from flask import has_app_context
from python_calamine import CalamineWorkbook
from sqlalchemy import select, update

import service
from models import Attachment, Event, NonconformityCase
from service.actors import Actor
from service.clock import today_in
from service.db import scope_to_org
from service.errors import NotFound
from service.ledger import operations as ledger_ops
from service.ledger_io.columns import COLUMNS
from service.tenancy import queries as tenancy_queries
from service.traceability import operations as records
from service.traceability.audit_export import history_filenames, write_instrument_history
from service.web.templating import FIELD_NAMES
from tests.api import API, auth
from tests.conftest import login
from tests.factories import make_record

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = [
    "Instrument",
    "Records",
    "Readings",
    "Standards used",
    "Attachments",
    "Nonconformity cases",
    "History",
]
HEADERS = {
    "Records": [
        "Record ID", "Kind of work", "Performed on", "Record state", "Corrected by record", "Corrects record",
        "Corrected by", "Correction reason", "Corrected at", "Laboratory", "CNAS no.", "Certificate no.",
        "Certificate type", "Conclusion", "Valid until", "Next due", "Temperature", "Humidity", "Uncertainty",
        "Confirmation", "Confirmation note", "Confirmed by", "Confirmed at", "Performed by", "Recorded by",
        "Recorded at", "Notes",
    ],
    "Readings": [
        "Record ID", "Certificate no.", "Phase", "Point", "Unit", "Nominal value", "Reading", "Error", "MPE",
        "Within tolerance",
    ],
    "Standards used": [
        "Record ID", "Performed on", "Management no.", "Name", "Certificate no.", "Valid until", "Laboratory",
        "Expired when used",
    ],
    "Attachments": [
        "Record ID", "Certificate no.", "File name", "File type", "Size (bytes)", "SHA-256", "Uploaded at",
    ],
    "Nonconformity cases": [
        "Case ID", "Case state", "Opened on", "Opened by", "Source", "Record ID", "Description",
        "Suspect from", "Suspect to", "Impact assessment", "Assessed by", "Assessed at", "Disposition",
        "Disposition note", "Limits of use", "Approved by", "Closed on",
    ],
    "History": ["No.", "Time", "Done by", "Event", "Details", "Hash", "Previous hash"],
}  # fmt: skip
READINGS = [
    {"phase": "as_found", "point": "1 MPa", "unit": "MPa", "nominal": "1.000", "reading": "1.004",
     "mpe": "0.016"},
    {"phase": "as_left", "point": "1.6 MPa", "unit": "MPa", "nominal": "1.6", "reading": "1.62",
     "mpe": "0.016"},
]  # fmt: skip
STANDARDS = [
    {"name": "活塞式压力计", "management_no": "BZ-01", "certificate_no": "GJ-1", "valid_until": "2025-12-01",
     "lab_name": "中国计量科学研究院"},
    {"name": "数字压力计", "certificate_no": "GJ-2", "valid_until": "2026-06-30"},
]  # fmt: skip


def _today() -> date:
    return today_in("Asia/Shanghai")


def _book(data: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def _table(book: dict, name: str) -> list[dict]:
    header, *rows = book[name]
    return [dict(zip(header, row, strict=True)) for row in rows]


def _card(book: dict) -> dict:
    """The first sheet's label → value pairs (header block and card alike)."""
    return {row[0]: row[1] for row in book["Instrument"][1:] if row[0]}


def _export(app, sessions, actor: Actor, instrument_id: int, locale: str = "en") -> dict:
    """Export as the web and the API do: a session confined to the actor's organisation."""
    session = sessions()
    scope_to_org(session, actor.org_id)
    out = io.BytesIO()
    try:
        with app.test_request_context("/"), flask_babel.force_locale(locale):
            write_instrument_history(session, actor, instrument_id, out, _today(), flask_babel.gettext)
    finally:
        session.close()
    return _book(out.getvalue())


@pytest.fixture
def history(app, world, db_session):
    """Firm A's first instrument: a record and its correction, a confirmed calibration, a case."""
    a, storage = world.a, app.config["CALRECALL"].attachments_dir
    instrument = a.instruments[0]
    ledger_ops.update_instrument(db_session, a.actor(), instrument.id, {"notes": "@SUM(A1)"}, _today(), True)
    first = make_record(
        db_session,
        a.actor(),
        instrument.id,
        storage,
        certificate_no="JD-0001",
        certificate_type="verification_certificate",
        lab_name="河南省计量科学研究院",
        lab_cnas_no="CNAS L0001",
        valid_until="2027-01-04",
        performed_by="王检定",
        temperature="20.5 ℃",
        humidity="45 %RH",
        uncertainty="U = 0.02 MPa, k = 2",
        notes="=1+1",
        readings=READINGS,
        standards=STANDARDS,
    )
    correction = records.correct_record(
        db_session,
        a.actor(),
        first.id,
        {"kind": "verification", "performed_on": "2026-01-05", "conclusion": "pass",
         "certificate_no": "JD-0010", "lab_name": "河南省计量测试科学研究院",
         "correction_reason": "证书编号录错"},
        _today(),
    )  # fmt: skip
    calibration = records.record_result(
        db_session,
        a.actor(),
        instrument.id,
        {
            "kind": "calibration",
            "performed_on": "2026-02-10",
            "certificate_no": "JZ-7",
            "lab_name": "外部实验室",
        },
        _today(),
    )
    records.confirm_record(
        db_session,
        a.actor("admin"),
        calibration.id,
        {"confirmation": "limited", "confirmation_note": "限用"},
        _today(),
    )
    case = NonconformityCase(
        org_id=a.org.id,
        instrument_id=instrument.id,
        source="manual",
        description="+跌落后示值异常",
        opened_on=date(2026, 3, 1),
        opened_by_name="李工",
        suspect_from=date(2026, 2, 10),
        suspect_to=date(2026, 3, 1),
        impact_assessment='=HYPERLINK("x") 复核了三批产品',
        assessed_by_name="李工",
        assessed_at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC),
        disposition="downgrade",
        use_limits="仅用于0–1 MPa",
        approved_by_name="赵经理",
        state="closed",
        closed_on=date(2026, 3, 3),
        closed_at=datetime(2026, 3, 3, 2, 0, tzinfo=UTC),
    )
    db_session.add(case)
    db_session.commit()
    return {"instrument": instrument, "first": first, "correction": correction, "calibration": calibration,
            "case": case}  # fmt: skip


def test_sheets_headers_and_header_block(app, sessions, world, history):
    book = _export(app, sessions, world.a.actor(), history["instrument"].id)
    assert list(book) == SHEETS
    for name, header in HEADERS.items():
        assert book[name][0] == header, name
    assert book["Instrument"][0][0] == "Instrument history for audit"
    card = _card(book)
    instrument = history["instrument"]
    assert card["Firm"] == world.a.org.name
    assert card["Instrument"] == f"{instrument.management_no} {instrument.name}"
    assert card["Exported by"] == world.a.metrology.name
    assert isinstance(card["Exported at"], datetime)
    assert card["Time zone"] == "Asia/Shanghai"
    assert card["Label and status as of"] == _today()
    assert card["History verification"].startswith("Passed: ")
    # The card: every ledger column in the user's language, then the computed ones.
    assert {str(FIELD_NAMES[column.field]) for column in COLUMNS} | {"Next due", "Label"} <= set(card)
    assert card["Management no."] == instrument.management_no
    assert card["Department"] == world.a.department.name
    assert card["Status"] == "In service"
    assert card["Label"] == "Qualified"
    assert card["Interval (months)"] == 12
    assert card["Mandatory verification"] == "No"
    assert isinstance(card["Last verified / calibrated"], date)
    assert card["Next due"] == instrument.next_due_on


def test_a_corrected_record_and_its_correction_are_both_there(app, sessions, world, history):
    rows = {
        r["Record ID"]: r
        for r in _table(_export(app, sessions, world.a.actor(), history["instrument"].id), "Records")
    }
    first, correction = rows[history["first"].id], rows[history["correction"].id]
    assert (first["Record state"], first["Corrected by record"]) == ("Superseded", history["correction"].id)
    assert (first["Corrected by"], first["Correction reason"]) == (world.a.metrology.name, "证书编号录错")
    assert isinstance(first["Corrected at"], datetime)
    assert (correction["Record state"], correction["Corrects record"]) == ("Current", history["first"].id)
    assert (first["Certificate no."], correction["Certificate no."]) == ("JD-0001", "JD-0010")
    assert first["Laboratory"] == "河南省计量科学研究院"
    assert (first["CNAS no."], first["Certificate type"]) == ("CNAS L0001", "Verification certificate")
    assert (first["Kind of work"], first["Conclusion"]) == ("Verification", "Pass")
    assert first["Performed on"] == date(2026, 1, 5)
    assert first["Valid until"] == date(2027, 1, 4)
    assert (first["Temperature"], first["Humidity"]) == ("20.5 ℃", "45 %RH")
    assert (first["Uncertainty"], first["Performed by"]) == ("U = 0.02 MPa, k = 2", "王检定")
    assert first["Recorded by"] == world.a.metrology.name
    calibration = rows[history["calibration"].id]
    assert (calibration["Confirmation"], calibration["Confirmation note"]) == ("Limited use", "限用")
    assert (calibration["Confirmed by"], calibration["Conclusion"]) == (world.a.admin.name, "Limited use")
    assert isinstance(calibration["Confirmed at"], datetime)
    # In the order of the work.
    assert list(rows) == [history["first"].id, history["correction"].id, history["calibration"].id]


def test_readings_are_numbers_and_standards_flag_expiry(app, sessions, world, history):
    book = _export(app, sessions, world.a.actor(), history["instrument"].id)
    found, left = _table(book, "Readings")
    assert found["Record ID"] == history["first"].id
    assert (found["Phase"], found["Point"], found["Unit"]) == ("As found", "1 MPa", "MPa")
    assert (found["Nominal value"], found["Reading"], found["MPE"]) == (1.0, 1.004, 0.016)
    assert found["Error"] == pytest.approx(0.004)
    assert all(isinstance(found[k], float) for k in ("Nominal value", "Reading", "Error", "MPE"))
    assert found["Within tolerance"] == "Yes"
    assert (left["Phase"], left["Error"], left["Within tolerance"]) == ("As left", pytest.approx(0.02), "No")
    expired, valid = _table(book, "Standards used")
    assert (expired["Name"], expired["Management no."], expired["Laboratory"]) == (
        "活塞式压力计",
        "BZ-01",
        "中国计量科学研究院",
    )
    assert (expired["Valid until"], expired["Performed on"]) == (date(2025, 12, 1), date(2026, 1, 5))
    assert (expired["Expired when used"], valid["Expired when used"]) == ("Yes", "No")


def test_attachments_carry_their_hash(app, sessions, world, db_session, history):
    book = _export(app, sessions, world.a.actor(), history["instrument"].id)
    stored = db_session.scalars(select(Attachment).where(Attachment.record_id == history["first"].id)).all()
    (row,) = _table(book, "Attachments")
    assert (row["Record ID"], row["File name"], row["File type"]) == (history["first"].id, "certificate.pdf",
                                                                       "application/pdf")  # fmt: skip
    assert (row["SHA-256"], row["Size (bytes)"]) == (stored[0].sha256, stored[0].size)
    assert isinstance(row["Uploaded at"], datetime)


def test_nonconformity_cases(app, sessions, world, history):
    (row,) = _table(_export(app, sessions, world.a.actor(), history["instrument"].id), "Nonconformity cases")
    assert (row["Case ID"], row["Case state"], row["Source"]) == (
        history["case"].id,
        "Closed",
        "Reported by hand",
    )
    assert (row["Opened on"], row["Suspect from"], row["Suspect to"]) == (
        date(2026, 3, 1),
        date(2026, 2, 10),
        date(2026, 3, 1),
    )
    assert (row["Opened by"], row["Assessed by"], row["Approved by"]) == ("李工", "李工", "赵经理")
    assert row["Assessed at"] == datetime(2026, 3, 2, 9, 30)  # the firm's wall clock (UTC+8)
    assert (row["Disposition"], row["Limits of use"]) == ("Downgrade to limited use", "仅用于0–1 MPa")
    assert row["Closed on"] == date(2026, 3, 3)


def test_events_in_order_with_the_hashes_of_the_log(app, sessions, world, db_session, history):
    instrument = history["instrument"]
    rows = _table(_export(app, sessions, world.a.actor(), instrument.id), "History")
    events = db_session.scalars(
        select(Event)
        .where(
            Event.org_id == world.a.org.id,
            Event.subject_type == "instrument",
            Event.subject_id == instrument.id,
        )
        .order_by(Event.seq)
    ).all()
    assert [(r["No."], r["Hash"], r["Previous hash"]) for r in rows] == [
        (e.seq, e.hash, e.prev_hash) for e in events
    ]
    assert [r["Event"] for r in rows] == [
        "Added to the ledger",
        "Edited",
        "Result recorded",
        "Result corrected",
        "Result recorded",
        "Calibration confirmed",
    ]
    assert all(isinstance(r["Time"], datetime) for r in rows)
    assert rows[1]["Details"] == "Notes: — → @SUM(A1)"
    assert "Reason: 证书编号录错" in rows[3]["Details"].splitlines()
    assert f"Corrects record: {history['first'].id}" in rows[3]["Details"].splitlines()
    assert "Confirmation: Limited use" in rows[5]["Details"].splitlines()


def test_a_broken_chain_is_reported(app, sessions, world, db_session, history):
    target = db_session.scalars(
        select(Event).where(Event.org_id == world.a.org.id).order_by(Event.seq)
    ).first()
    db_session.execute(update(Event).where(Event.id == target.id).values(actor_name="someone else"))
    db_session.commit()
    card = _card(_export(app, sessions, world.a.actor(), history["instrument"].id))
    assert card["History verification"].startswith(f"FAILED at event {target.seq}: ")


def test_text_that_looks_like_a_formula_is_neutralised(app, sessions, world, history):
    book = _export(app, sessions, world.a.actor(), history["instrument"].id)
    rows = {r["Record ID"]: r for r in _table(book, "Records")}
    assert rows[history["first"].id]["Notes"] == "'=1+1"
    assert _card(book)["Notes"] == "'@SUM(A1)"
    (case,) = _table(book, "Nonconformity cases")
    assert (case["Description"], case["Impact assessment"]) == (
        "'+跌落后示值异常",
        '\'=HYPERLINK("x") 复核了三批产品',
    )
    every_text = [cell for sheet in book.values() for row in sheet for cell in row if isinstance(cell, str)]
    assert not [cell for cell in every_text if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_chinese_for_a_chinese_user(app, sessions, world, history):
    book = _export(app, sessions, world.a.actor(), history["instrument"].id, locale="zh_Hans_CN")
    card = {row[0]: row[1] for row in next(iter(book.values()))[1:] if row[0]}
    assert card["管理编号"] == history["instrument"].management_no
    assert card["使用状态"] == "在用"
    records_header = list(book.values())[1][0]
    assert {"证书编号", "检定/校准单位", "有效期至", "检定结论", "备注"} <= set(records_header)
    readings = list(book.values())[2]
    assert readings[1][-1] == "是"


def test_a_job_exports_in_chinese_without_flask(sessions, world, history):
    """The export needs a session and a gettext, not a Flask app or request (a job can write it)."""
    catalogue = Translations.load(str(Path(service.__file__).parent / "translations"), ["zh_Hans_CN"])
    session = sessions()
    scope_to_org(session, world.a.org.id)
    out = io.BytesIO()
    try:
        assert not has_app_context()
        write_instrument_history(
            session, world.a.actor(), history["instrument"].id, out, _today(), catalogue.gettext
        )
    finally:
        session.close()
    book = _book(out.getvalue())
    card = {row[0]: row[1] for row in next(iter(book.values()))[1:] if row[0]}
    assert card["管理编号"] == history["instrument"].management_no
    assert card["使用状态"] == "在用"
    assert list(book)[:3] == ["计量器具", "检定 校准记录", "测量数据"]  # "/" is not allowed in a sheet name


def test_the_institute_reaches_a_client_instrument_through_its_link(
    app, sessions, world, db_session, history
):
    staff = Actor.of(world.institute_staff)
    via_link = tenancy_queries.client_actor(db_session, staff, world.a.org.id)
    card = _card(_export(app, sessions, via_link, history["instrument"].id))
    assert card["Exported by"] == f"{world.institute_staff.name} ({world.institute.name})"
    assert card["Firm"] == world.a.org.name
    # Without the link, a client's instrument is as foreign as any other.
    with pytest.raises(NotFound):
        _export(app, sessions, staff, history["instrument"].id)
    with pytest.raises(NotFound):
        tenancy_queries.client_actor(db_session, staff, world.b.org.id)


def test_another_firms_instrument_is_not_found(app, sessions, world, history):
    with pytest.raises(NotFound):
        _export(app, sessions, world.b.actor(), history["instrument"].id)
    session = sessions()
    scope_to_org(session, world.b.org.id)
    with pytest.raises(NotFound):
        history_filenames(session, world.b.actor(), history["instrument"].id, _today())
    session.close()


def test_download_through_the_api(client, db_session, world, history):
    instrument = history["instrument"]
    response = client.get(
        f"{API}/instruments/{instrument.id}/history.xlsx", headers=auth(db_session, world.a.viewer)
    )
    assert response.status_code == 200
    assert response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    day = f"{_today():%Y%m%d}"
    assert f"filename=instrument-history-{world.a.org.slug}-{instrument.id}-{day}.xlsx" in disposition
    assert quote(f"器具履历-{world.a.org.slug}-{instrument.management_no}-{day}.xlsx") in disposition
    book = _book(response.data)
    # The viewer's language is the default, Simplified Chinese.
    assert next(iter(book.values()))[2][1] == f"{instrument.management_no} {instrument.name}"
    assert len(book) == len(SHEETS)


def test_the_api_hides_another_firms_instrument(client, db_session, world, history):
    headers = auth(db_session, world.b.admin)
    response = client.get(f"{API}/instruments/{history['instrument'].id}/history.xlsx", headers=headers)
    assert response.status_code == 404
    assert response.is_json
    assert client.get(f"{API}/instruments/999999/history.xlsx", headers=headers).status_code == 404


def test_an_instrument_without_records_exports_empty_tables(app, sessions, world):
    instrument = world.a.instruments[2]
    book = _export(app, sessions, world.a.actor(), instrument.id)
    assert [len(book[name]) for name in SHEETS[1:6]] == [1, 1, 1, 1, 1]
    assert [row[3] for row in book["History"][1:]] == ["Added to the ledger"]


def test_the_web_page_offers_the_history_export(app, client, db_session, world):
    instrument = world.a.instruments[0]
    login(client, world.a.viewer)
    page = client.get(f"/instruments/{instrument.id}")
    assert f'href="/instruments/{instrument.id}/history.xlsx"' in page.text
    download = client.get(f"/instruments/{instrument.id}/history.xlsx")
    assert download.status_code == 200
    assert download.data[:2] == b"PK"
    assert client.get(f"/instruments/{world.b.instruments[0].id}/history.xlsx").status_code == 404

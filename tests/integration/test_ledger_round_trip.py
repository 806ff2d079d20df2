"""Export → edit → import round-trips without loss (issue 3)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import Event, Instrument
from service.clock import today_in
from service.ledger.operations import TRACKED_FIELDS
from service.ledger_io.exporter import export_ledger
from service.ledger_io.importer import import_ledger
from tests.factories import make_instrument


def _today():
    return today_in("Asia/Shanghai")


@pytest.fixture
def rich_ledger(world, db_session):
    """Instruments using every column, including awkward text."""
    actor, today = world.a.actor(), _today()
    make_instrument(
        db_session,
        actor,
        management_no="RT-1",
        name="精密压力表",
        model="YB-150",
        serial_no="=SUM(A1)",
        manufacturer="红旗仪表",
        measuring_range="0~2.5 MPa",
        accuracy="0.4级",
        resolution="0.01 MPa",
        department_id=world.a.department.id,
        location="+二车间",
        custodian="张三",
        custodian_mobile="13800138000",
        abc_class="A",
        is_mandatory=True,
        mandatory_use="safety",
        catalog_item="压力表",
        control_method="verification",
        interval_months=6,
        last_done_on=(today - timedelta(days=40)).isoformat(),
        lab="河南省计量院",
        certificate_no="-JD2026-0001",
        certificate_type="verification_certificate",
        conclusion="pass",
        in_service_on="2020-05-01",
        notes="第一行\n第二行",
    )
    make_instrument(
        db_session,
        actor,
        management_no="RT-2",
        name="游标卡尺",
        control_method="calibration",
        interval_months=12,
        valid_until=(today + timedelta(days=20)).isoformat(),
        conclusion="limited",
        status="out_for_calibration",
        custodian_user_id=world.a.metrology.id,
    )
    db_session.commit()


def _snapshot(db_session, org_id):
    rows = db_session.scalars(select(Instrument).where(Instrument.org_id == org_id).order_by(Instrument.id))
    return {i.management_no: {f: getattr(i, f) for f in TRACKED_FIELDS} for i in rows}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_changes_nothing(world, db_session, rich_ledger, fmt):
    actor, today = world.a.actor("admin"), _today()
    before = _snapshot(db_session, world.a.org.id)
    events = db_session.scalar(select(func.count(Event.id)))
    out = io.BytesIO()
    export_ledger(db_session, actor, {}, today, out, fmt)
    report = import_ledger(db_session, actor, out.getvalue(), f"ledger.{fmt}", today).as_dict()
    db_session.commit()
    assert (report["created"], report["updated"], report["rejected"]) == (0, 0, 0), report
    assert report["unchanged"] == len(before)
    db_session.expire_all()
    assert _snapshot(db_session, world.a.org.id) == before
    assert db_session.scalar(select(func.count(Event.id))) == events


def test_export_edit_import_updates_only_what_was_edited(world, db_session, rich_ledger):
    actor, today = world.a.actor("admin"), _today()
    out = io.BytesIO()
    export_ledger(db_session, actor, {}, today, out, "xlsx")
    workbook = load_workbook(io.BytesIO(out.getvalue()))
    sheet = workbook.active
    headers = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[headers.index("管理编号")].value == "RT-1":
            row[headers.index("存放地点")].value = "三车间"
    edited = io.BytesIO()
    workbook.save(edited)
    report = import_ledger(db_session, actor, edited.getvalue(), "edited.xlsx", today).as_dict()
    db_session.commit()
    assert (report["updated"], report["created"], report["rejected"]) == (1, 0, 0), report
    instrument = db_session.scalar(select(Instrument).where(Instrument.management_no == "RT-1"))
    assert instrument.location == "三车间"
    assert instrument.serial_no == "=SUM(A1)"  # neutralised on export, restored on import, never run
    event = db_session.scalar(
        select(Event).where(Event.subject_id == instrument.id, Event.kind == "instrument.updated")
    )
    assert event.data["changes"] == {"location": ["+二车间", "三车间"]}

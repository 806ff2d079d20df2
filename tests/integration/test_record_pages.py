"""Record pages: record a result with its points, standards and a PDF, read it, confirm, correct."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from models import CalibrationRecord, Instrument
from tests.conftest import login
from tests.factories import RENEWED_UNTIL, RENEWING_ON, make_record
from tests.files import pdf_bytes

FORM = {
    "kind": "verification",
    "performed_on": RENEWING_ON,
    "lab_name": "河南省计量测试科学研究院",
    "lab_cnas_no": "CNAS L0001",
    "certificate_no": "JD2026-00451",
    "certificate_type": "verification_certificate",
    "conclusion": "pass",
    "valid_until": RENEWED_UNTIL,
    "readings-0-phase": "as_found",
    "readings-0-point": "1 MPa",
    "readings-0-nominal": "1.000",
    "readings-0-reading": "1.004",
    "readings-0-mpe": "0.016",
    # An unused row of the form: only its phase select posts.
    "readings-1-phase": "as_found",
    "standards-0-name": "活塞式压力计",
    "standards-0-certificate_no": "GJ-1",
    "standards-0-valid_until": "2026-10-01",
}


def _post(client, path, form, files=()):
    data = dict(form)
    if files:
        data["file"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(path, data=data, content_type="multipart/form-data")


def test_recording_through_the_form_moves_the_instrument(client, db_session, world):
    instrument = world.a.instruments[0]
    login(client, world.a.metrology)
    assert client.get(f"/instruments/{instrument.id}/records/new").status_code == 200
    response = _post(client, f"/instruments/{instrument.id}/records/new", FORM, [(pdf_bytes(), "证书.pdf")])
    assert response.status_code == 303, response.text
    record = db_session.scalars(
        select(CalibrationRecord).where(CalibrationRecord.instrument_id == instrument.id)
    ).one()
    assert [(r.point, str(r.error), r.within_tolerance) for r in record.readings] == [
        ("1 MPa", "0.004000", True)
    ]
    assert [s.name for s in record.standards] == ["活塞式压力计"]
    assert [a.filename for a in record.attachments] == ["证书.pdf"]
    db_session.expire_all()
    moved = db_session.get(Instrument, instrument.id)
    assert (moved.last_done_on.isoformat(), moved.next_due_on.isoformat()) == (RENEWING_ON, RENEWED_UNTIL)

    page = client.get(response.headers["Location"])
    assert "JD2026-00451" in page.text
    assert "CNAS L0001" in page.text
    assert "data-expired" in page.text  # the standard had run out on 2026-10-01
    assert f'href="/records/{record.id}/label"' in page.text
    with client.get(f"/attachments/{record.attachments[0].id}") as download:
        assert download.data.startswith(b"%PDF")
    shown = client.get(f"/instruments/{instrument.id}").text
    assert f'data-record="{record.id}"' in shown
    assert f'data-record-event="{record.id}"' in shown


def test_a_bad_form_comes_back_with_messages_and_records_nothing(client, db_session, world):
    instrument = world.a.instruments[0]
    login(client, world.a.metrology)
    bad = {
        **FORM,
        "conclusion": "",
        "readings-0-nominal": "abc",
        "standards-0-name": "",
        "standards-0-management_no": "NOPE",
    }
    bad.pop("standards-0-certificate_no"), bad.pop("standards-0-valid_until")
    response = _post(client, f"/instruments/{instrument.id}/records/new", bad)
    assert response.status_code == 422
    assert 'name="readings-0-nominal" value="abc"' in response.text  # what was typed stays
    # The bad number is explained next to its field. (This counted "invalid-feedback" >= 2, which only the
    # form's inline script made true: the operation's checks, such as the unknown standard, come after
    # the fields' and report one problem at a time.)
    assert re.search(
        r'name="readings-0-nominal" value="abc"[^>]*>\s*<div class="invalid-feedback d-block">', response.text
    )
    renamed = _post(
        client, f"/instruments/{instrument.id}/records/new", FORM, [(b"MZ\x90\x00" * 64, "cert.pdf")]
    )
    assert renamed.status_code == 422
    assert db_session.scalars(select(CalibrationRecord)).all() == []


def test_confirm_and_correct_through_the_pages(app, client, db_session, world):
    instrument = world.a.instruments[0]
    storage = app.config["CALRECALL"].attachments_dir
    record = make_record(
        db_session, world.a.actor(), instrument.id, storage, kind="calibration", conclusion=None
    )
    db_session.commit()
    login(client, world.a.metrology)
    assert 'id="confirmation"' in client.get(f"/records/{record.id}").text
    confirmed = client.post(
        f"/records/{record.id}/confirmation",
        data={"confirmation": "limited", "confirmation_note": "仅用于0–1 MPa"},
    )
    assert confirmed.status_code == 303
    assert 'data-confirmation="limited"' in client.get(f"/records/{record.id}").text

    form = client.get(f"/records/{record.id}/correct")
    assert form.status_code == 200
    assert "correction_reason" in form.text
    corrected = _post(
        client,
        f"/records/{record.id}/correct",
        {
            "kind": "calibration",
            "performed_on": "2026-01-05",
            "lab_name": "河南省计量测试科学研究院",
            "certificate_no": "JZ-2",
            "correction_reason": "证书号录错",
        },
    )
    assert corrected.status_code == 303
    old = client.get(f"/records/{record.id}").text
    assert "data-superseded" in old
    again = _post(
        client,
        f"/records/{record.id}/correct",
        {"kind": "calibration", "performed_on": "2026-01-05", "correction_reason": "x"},
    )
    assert again.status_code == 303  # refused with a message: the old record is already corrected
    assert (
        db_session.scalar(
            select(CalibrationRecord).where(CalibrationRecord.supersedes_id == record.id)
        ).certificate_no
        == "JZ-2"
    )


def test_viewers_read_but_do_not_record_and_the_institute_reads_through_its_link(
    app, client, db_session, world
):
    instrument = world.a.instruments[0]
    record = make_record(db_session, world.a.actor(), instrument.id, app.config["CALRECALL"].attachments_dir)
    db_session.commit()
    login(client, world.a.viewer)
    assert client.get(f"/records/{record.id}").status_code == 200
    assert client.get(f"/instruments/{instrument.id}/records/new").status_code == 403
    client.post("/logout")
    login(client, world.institute_admin)
    page = client.get(f"/clients/{world.a.org.id}/records/{record.id}")
    assert page.status_code == 200
    assert f"/clients/{world.a.org.id}/attachments/" in page.text
    attachment = record.attachments[0].id
    with client.get(f"/clients/{world.a.org.id}/attachments/{attachment}") as download:
        assert download.status_code == 200
    assert client.get(f"/records/{record.id}").status_code == 404  # not the institute's own record


def test_the_timeline_names_coded_values(client, db_session, world):
    instrument = world.a.instruments[0]
    login(client, world.a.metrology)
    _post(client, f"/instruments/{instrument.id}/records/new", FORM)
    page = client.get(f"/instruments/{instrument.id}").text
    assert "verification_certificate" not in page.split('class="timeline"')[1]


def test_a_correction_through_the_form_keeps_a_ledger_standard_linked(client, db_session, world):
    from tests.factories import make_instrument

    standard = make_instrument(db_session, world.a.actor(), management_no="STD-1", name="精密压力表")
    instrument = world.a.instruments[0]
    db_session.commit()
    login(client, world.a.metrology)
    form = {k: v for k, v in FORM.items() if not k.startswith("standards-")}
    created = _post(
        client, f"/instruments/{instrument.id}/records/new", {**form, "standards-0-management_no": "STD-1"}
    )
    record_id = int(created.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/records/{record_id}/correct").text
    prefilled = dict(re.findall(r'name="(standards-0-[a-z_]+)" value="([^"]*)"', page))
    assert prefilled["standards-0-instrument_id"] == str(standard.id)
    corrected = _post(
        client,
        f"/records/{record_id}/correct",
        {**form, **prefilled, "certificate_no": "JD-2", "correction_reason": "证书号"},
    )
    assert corrected.status_code == 303
    new = db_session.scalar(select(CalibrationRecord).where(CalibrationRecord.supersedes_id == record_id))
    assert [s.standard_instrument_id for s in new.standards] == [standard.id]

"""The records API: record, read, correct, confirm, attach files and download them."""

from __future__ import annotations

import io

from tests.api import API, auth
from tests.factories import RENEWING_ON
from tests.files import pdf_bytes

RECORD = {
    "kind": "verification",
    "performed_on": RENEWING_ON,
    "lab_name": "河南省计量测试科学研究院",
    "certificate_no": "JD2026-00451",
    "certificate_type": "verification_certificate",
    "conclusion": "pass",
    "readings": [
        {"phase": "as_found", "point": "1 MPa", "nominal": "1.000", "reading": "1.004", "mpe": "0.016"}
    ],
    "standards": [{"name": "活塞式压力计", "certificate_no": "GJ-1", "valid_until": "2026-10-01"}],
}


def test_record_read_correct_and_list(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    created = client.post(f"{API}/instruments/{instrument.id}/records", headers=headers, json=RECORD)
    assert created.status_code == 201, created.json
    record = created.json
    assert record["readings"][0]["error"] == "0.004000"
    assert record["readings"][0]["within_tolerance"] is True
    assert record["standards"][0]["expired_when_used"] is True
    moved = client.get(f"{API}/instruments/{instrument.id}", headers=headers).json
    assert (moved["last_done_on"], moved["certificate_no"]) == (RENEWING_ON, "JD2026-00451")

    corrected = client.post(
        f"{API}/records/{record['id']}/corrections",
        headers=headers,
        json={**RECORD, "certificate_no": "JD2026-00415", "correction_reason": "编号颠倒"},
    )
    assert corrected.status_code == 201
    again = client.post(
        f"{API}/records/{record['id']}/corrections",
        headers=headers,
        json={**RECORD, "correction_reason": "x"},
    )
    assert again.status_code == 409
    listed = client.get(f"{API}/instruments/{instrument.id}/records", headers=headers).json["items"]
    assert [(r["id"], r["superseded_by_id"]) for r in listed] == [
        (corrected.json["id"], None),
        (record["id"], corrected.json["id"]),
    ]


def test_bad_records_get_field_messages(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    response = client.post(
        f"{API}/instruments/{instrument.id}/records",
        headers=headers,
        json={**RECORD, "valid_until": "2020-01-01", "readings": [{"phase": "during", "reading": "x"}]},
    )
    assert response.status_code == 400
    fields = response.json["errors"]
    assert {"readings.0.phase", "readings.0.reading"} <= set(fields)


def test_confirm_a_calibration(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    calibration = {
        "kind": "calibration",
        "performed_on": RENEWING_ON,
        "lab_name": "某校准实验室",
        "certificate_no": "JZ-9",
    }
    record = client.post(f"{API}/instruments/{instrument.id}/records", headers=headers, json=calibration).json
    confirmed = client.post(
        f"{API}/records/{record['id']}/confirmation", headers=headers, json={"confirmation": "fit"}
    )
    assert confirmed.status_code == 200
    assert (confirmed.json["confirmation"], confirmed.json["conclusion"]) == ("fit", "pass")
    twice = client.post(
        f"{API}/records/{record['id']}/confirmation", headers=headers, json={"confirmation": "fit"}
    )
    assert twice.status_code == 409


def test_attachments_are_checked_and_served_only_to_the_owner(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    record = client.post(f"{API}/instruments/{instrument.id}/records", headers=headers, json=RECORD).json
    upload = client.post(
        f"{API}/records/{record['id']}/attachments",
        headers=headers,
        data={"file": [(io.BytesIO(pdf_bytes()), "检定证书.pdf")]},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.json
    [attachment] = upload.json["items"]
    assert (attachment["mime"], attachment["filename"]) == ("application/pdf", "检定证书.pdf")

    renamed_exe = client.post(
        f"{API}/records/{record['id']}/attachments",
        headers=headers,
        data={"file": [(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "证书.pdf")]},
        content_type="multipart/form-data",
    )
    assert renamed_exe.status_code == 400
    assert "attachments.0" in renamed_exe.json["errors"]

    download = client.get(f"{API}/attachments/{attachment['id']}", headers=headers)
    assert download.status_code == 200
    assert download.data == pdf_bytes()
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    download.close()

    stranger = auth(db_session, world.b.admin)
    assert client.get(f"{API}/attachments/{attachment['id']}", headers=stranger).status_code == 404
    assert client.get(f"{API}/records/{record['id']}", headers=stranger).status_code == 404
    listed = client.get(f"{API}/records/{record['id']}", headers=headers).json
    assert [a["id"] for a in listed["attachments"]] == [attachment["id"]]


def test_ids_too_large_for_the_database_are_refused_not_a_server_error(client, db_session, world):
    headers = auth(db_session, world.a.metrology)
    instrument = world.a.instruments[0]
    for body in ({"lab_org_id": 10**20}, {"standards": [{"instrument_id": 10**20}]}):
        response = client.post(
            f"{API}/instruments/{instrument.id}/records", headers=headers, json={**RECORD, **body}
        )
        assert response.status_code == 400, response.json

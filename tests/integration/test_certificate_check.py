"""QR labels and the public certificate check: what an inspector sees, and who may print labels."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from models import CalibrationRecord
from service.auth.operations import create_api_token
from service.clock import today_in
from service.nonconformity import operations as nonconformity
from service.traceability import check_links, labels
from service.traceability import operations as records
from tests.conftest import end_client_link, login
from tests.factories import make_instrument, make_record

BASE_URL = "http://testserver"  # the test configuration's base_url
PUBLIC_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


def _today():
    return today_in("Asia/Shanghai")


def _record(app, db_session, tenant, instrument, days_ago: int = 30, **fields) -> CalibrationRecord:
    performed = _today() - timedelta(days=days_ago)
    fields = {"performed_on": performed.isoformat(), "certificate_no": f"JD-{days_ago}", **fields}
    record = make_record(
        db_session, tenant.actor(), instrument.id, app.config["CALRECALL"].attachments_dir, **fields
    )
    db_session.commit()
    return record


def _check(client, token: str, lang: str = "en"):
    return client.get(f"/c/{token}?lang={lang}")


def _label_of(page_text: str) -> str:
    return re.search(r'id="status" data-label="(\w+)"', page_text).group(1)


def _assert_public_headers(response):
    for name, value in PUBLIC_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "Set-Cookie" not in response.headers


@pytest.fixture
def labelled(app, world, db_session):
    """An instrument of firm A with a custodian, a department, notes, and one passed verification."""
    instrument = world.a.instruments[0]
    instrument.model = "Y-100 0–1.6 MPa"
    instrument.custodian_name = "保管人甲"
    instrument.custodian_mobile = "13800138000"
    instrument.notes = "内部备注：勿外传"
    instrument.location = "三号车间"
    db_session.commit()
    record = _record(
        app,
        db_session,
        world.a,
        instrument,
        certificate_no="JD2026-00451",
        lab_name="河南省计量测试科学研究院",
        valid_until=(_today() + timedelta(days=300)).isoformat(),
        notes="记录备注：读数",
    )
    return instrument, record


def test_anonymous_scan_shows_status_and_validity_and_nothing_private(client, world, labelled):
    instrument, record = labelled
    response = _check(client, record.check_token)
    assert response.status_code == 200
    _assert_public_headers(response)
    page = response.text
    assert _label_of(page) == "green"
    for shown in (
        instrument.management_no,
        instrument.name,
        "Y-100 0–1.6 MPa",
        world.a.org.name,
        "JD2026-00451",
        "河南省计量测试科学研究院",
        (_today() + timedelta(days=300)).isoformat(),
        "Qualified",
        "In service",
    ):
        assert shown in page, shown
    assert 'id="outdated"' not in page
    for private in (
        "保管人甲",
        "13800138000",
        "内部备注",
        "记录备注",
        "三号车间",
        world.a.department.name,
        world.a.metrology.name,
        f"/instruments/{instrument.id}",
        f"/records/{record.id}",
    ):
        assert private not in page, private
    # A standalone page: no navigation of the app, no form, no script, no sign-in redirect.
    assert "navbar" not in page
    assert "<form" not in page
    assert "<script" not in page
    assert 'name="robots" content="noindex, nofollow"' in page


def test_the_page_is_dated_in_the_owning_firms_time_zone(app, client, world, db_session):
    world.a.org.timezone = "Pacific/Kiritimati"  # UTC+14
    db_session.commit()
    firm_today = today_in("Pacific/Kiritimati")
    instrument = make_instrument(db_session, world.a.actor())
    record = _record(
        app, db_session, world.a, instrument, valid_until=(firm_today - timedelta(days=1)).isoformat()
    )
    page = _check(client, record.check_token).text
    assert f'data-checked-on="{firm_today.isoformat()}"' in page
    assert _label_of(page) == "red"  # past due on the firm's calendar
    assert "Past its due date" in page


def test_the_page_speaks_chinese_by_default(client, labelled):
    _instrument, record = labelled
    page = client.get(f"/c/{record.check_token}").text
    assert '<html lang="zh-CN">' in page
    assert "合格" in page
    assert '<html lang="en">' in _check(client, record.check_token).text


@pytest.mark.parametrize(
    "token",
    [
        "A" * 22,  # the right shape, nobody's
        "AbCdEfGhIjKlMnOpQrStUv",
        "short",
        "x" * 5000,
        "真" * 22,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%00" + "a" * 20,
        "a.b.c.d.e.f.g.h.i.j.k",
        "..%2F..%2Fetc%2Fpasswd",
        "a" * 33,
    ],
)
def test_unknown_and_malformed_tokens_are_the_same_404(client, labelled, token):
    unknown = client.get("/c/ZZZZZZZZZZZZZZZZZZZZZZ")
    response = client.get(f"/c/{token if '%' in token else quote(token)}")
    assert response.status_code == 404
    assert unknown.status_code == 404
    _assert_public_headers(response)
    # Nothing tells one kind of miss from another.
    assert response.text == unknown.text


def test_an_intermediate_check_has_no_public_page(app, client, world, db_session):
    instrument = world.a.instruments[1]
    check = _record(app, db_session, world.a, instrument, kind="intermediate_check", conclusion=None)
    assert check.check_token
    assert client.get(f"/c/{check.check_token}").status_code == 404


def test_a_newer_result_makes_the_older_label_outdated(app, client, world, db_session, labelled):
    instrument, old = labelled
    new = _record(app, db_session, world.a, instrument, days_ago=5, certificate_no="JD2026-09999")
    page = _check(client, old.check_token).text
    assert 'data-outdated="replaced"' in page
    assert "This label is outdated." in page
    # The page shows the current certificate and, apart, the one printed on the label.
    assert re.search(r'id="certificate-no">JD2026-09999<', page)
    assert re.search(r'id="label-certificate">JD2026-00451<', page)
    current = _check(client, new.check_token).text
    assert 'id="outdated"' not in current
    assert _label_of(current) == "green"


def test_a_correction_makes_the_label_outdated(app, client, world, db_session, labelled):
    _instrument, old = labelled
    corrected = records.correct_record(
        db_session,
        world.a.actor(),
        old.id,
        {
            "kind": "verification",
            "lab_name": "河南省计量测试科学研究院",
            "performed_on": old.performed_on.isoformat(),
            "conclusion": "pass",
            "certificate_no": "JD2026-00452",
            "correction_reason": "证书编号录错",
        },
        _today(),
    )
    db_session.commit()
    page = _check(client, old.check_token).text
    assert 'data-outdated="corrected"' in page
    assert "has been corrected" in page
    assert 'id="outdated"' not in _check(client, corrected.check_token).text


def test_a_failed_instrument_shows_red(app, client, world, db_session):
    instrument = world.a.instruments[2]
    record = _record(app, db_session, world.a, instrument, conclusion="fail")
    page = _check(client, record.check_token).text
    assert _label_of(page) == "red"
    assert "Stopped" in page
    assert "Do not use this instrument." in page
    assert 'data-status="suspended"' in page  # the failure opened a case and stopped it


def _downgrade(db_session, tenant, instrument, limits: str) -> None:
    today = _today()
    case = nonconformity.open_case(
        db_session, tenant.actor(), instrument.id, {"description": "示值漂移"}, today
    )
    nonconformity.assess(db_session, tenant.actor(), case.id, {"impact_assessment": "无影响"}, today)
    nonconformity.close(
        db_session, tenant.actor("admin"), case.id, {"disposition": "downgrade", "use_limits": limits}, today
    )
    db_session.commit()


def test_a_downgraded_instrument_shows_yellow_with_its_limits(app, client, world, db_session, labelled):
    instrument, record = labelled
    _downgrade(db_session, world.a, instrument, "仅用于0–1 MPa")
    page = _check(client, record.check_token).text
    assert _label_of(page) == "yellow"
    assert re.search(r'id="use-limits">.*仅用于0–1 MPa', page, re.S)
    login(client, world.a.metrology)
    label = client.get(f"/records/{record.id}/label").text
    assert 'data-label="yellow"' in label
    assert "仅用于0–1 MPa" in label


def test_a_signed_in_user_of_another_firm_sees_only_the_public_page(client, world, labelled):
    _instrument, record = labelled
    login(client, world.b.admin)
    response = _check(client, record.check_token)
    assert response.status_code == 200
    assert world.a.org.name in response.text
    assert "navbar" not in response.text
    assert "保管人甲" not in response.text


def _stylesheets(client, page: str) -> str:
    """Return the text of the stylesheets the page links (its print layout is in them)."""
    texts = []
    for href in re.findall(r'<link rel="stylesheet" href="(/static/[^"]+)"', page):
        response = client.get(href)
        assert response.status_code == 200, href
        texts.append(response.text)
        response.close()
    return "\n".join(texts)


def test_the_label_page_prints_the_label_with_its_code(client, world, labelled):
    instrument, record = labelled
    login(client, world.a.viewer)  # reading is enough to print
    response = client.get(f"/records/{record.id}/label")
    assert response.status_code == 200
    page = response.text
    url = f"{BASE_URL}/c/{record.check_token}"
    assert labels.qr_svg(url) in page  # the code of the absolute check URL
    assert f'data-management-no="{instrument.management_no}"' in page
    assert 'data-label="green"' in page
    assert world.a.org.name in page
    assert "JD2026-00451" in page
    assert f'data-valid-until="{(_today() + timedelta(days=300)).isoformat()}"' in page
    assert "@page { size: 60mm 40mm" in _stylesheets(client, page)
    assert 'id="label-outdated"' not in page


def test_the_label_page_of_an_outdated_record_warns(app, client, world, db_session, labelled):
    instrument, old = labelled
    _record(app, db_session, world.a, instrument, days_ago=5)
    login(client, world.a.metrology)
    assert 'id="label-outdated"' in client.get(f"/records/{old.id}/label").text


def test_the_label_of_an_intermediate_check_is_refused(app, client, world, db_session):
    check = _record(
        app, db_session, world.a, world.a.instruments[1], kind="intermediate_check", conclusion=None
    )
    login(client, world.a.metrology)
    assert client.get(f"/records/{check.id}/label").status_code == 409


def test_the_sheet_labels_each_instruments_newest_current_record(app, client, world, db_session, labelled):
    instrument, old = labelled
    newer = _record(app, db_session, world.a, instrument, days_ago=5, certificate_no="JD-NEW")
    bare = world.a.instruments[1]
    login(client, world.a.metrology)
    response = client.post("/instruments/labels", data={"ids": [str(instrument.id), str(bare.id)]})
    assert response.status_code == 200
    page = response.text
    assert labels.qr_svg(f"{BASE_URL}/c/{newer.check_token}") in page
    assert old.check_token not in page
    assert page.count('class="qr-label"') == 2
    assert "size: A4" in _stylesheets(client, page)
    assert 'id="sheet-outdated"' not in page


def test_a_freshly_imported_instrument_is_labelled_from_the_ledger(client, world, db_session):
    """An instrument without any record (e.g. just imported) gets its label from the ledger's columns."""
    bare = world.a.instruments[1]
    bare.certificate_no = "JD-LEDGER-1"
    due = bare.next_due_on
    db_session.commit()
    login(client, world.a.metrology)
    page = client.post("/instruments/labels", data={"ids": [str(bare.id)]}).text
    assert page.count('class="qr-label"') == 1
    assert f'data-management-no="{bare.management_no}"' in page
    assert f'data-label="{bare.label(_today())}"' in page
    assert f'data-valid-until="{due.isoformat() if due else ""}"' in page
    assert "JD-LEDGER-1" in page
    assert "data-unlabelled" not in page
    assert "尚未录入" not in page
    # Without a record there is no public check: the code opens the instrument in the ledger.
    assert labels.qr_svg(f"{BASE_URL}/instruments/{bare.id}") in page


def test_the_sheet_warns_of_a_label_the_ledger_no_longer_matches(app, client, world, db_session, labelled):
    instrument, _old = labelled
    instrument.certificate_no = "EDITED-BY-HAND"  # the ledger changed without a record
    db_session.commit()
    login(client, world.a.metrology)
    page = client.post("/instruments/labels", data={"ids": [str(instrument.id)]}).text
    assert re.search(rf'id="sheet-outdated">[^<]*{instrument.management_no}', page)


def test_the_sheet_refuses_foreign_ids_and_an_empty_selection(client, world, labelled):
    instrument, _record_ = labelled
    login(client, world.a.metrology)
    foreign = world.b.instruments[0].id
    assert (
        client.post("/instruments/labels", data={"ids": [str(instrument.id), str(foreign)]}).status_code
        == 404
    )
    assert client.post("/instruments/labels", data={"ids": ["x"]}).status_code == 404
    response = client.post("/instruments/labels", data={"back": "/instruments?label=green"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/instruments?label=green")


def test_the_ledger_offers_printing_the_selected_labels(client, world):
    login(client, world.a.metrology)
    page = client.get("/instruments").text
    assert re.search(r'id="print-labels" formaction="/instruments/labels"', page)


def test_another_firm_cannot_print_or_fetch_a_label(client, world, db_session, labelled):
    _instrument, record = labelled
    login(client, world.b.admin)
    assert client.get(f"/records/{record.id}/label").status_code == 404
    _token_row, token = create_api_token(db_session, world.b.actor("admin"), "b")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/records/{record.id}/label.svg", headers=headers).status_code == 404
    assert client.get(f"/api/v1/records/{record.id}", headers=headers).status_code == 404


def test_the_institute_prints_through_an_active_client_link_only(client, world, db_session, labelled):
    _instrument, record = labelled
    path = f"/clients/{world.a.org.id}/records/{record.id}/label"
    login(client, world.institute_staff)
    response = client.get(path)
    assert response.status_code == 200
    assert labels.qr_svg(f"{BASE_URL}/c/{record.check_token}") in response.text
    assert client.get(f"/records/{record.id}/label").status_code == 404  # not through its own ledger
    assert client.get(f"/clients/{world.b.org.id}/records/{record.id}/label").status_code == 404
    end_client_link(client, db_session, world.a.admin, back_as=world.institute_staff)
    assert client.get(path).status_code == 404


def test_the_api_gives_the_check_url_and_the_label_svg(client, world, db_session, labelled):
    instrument, record = labelled
    _token_row, token = create_api_token(db_session, world.a.actor(), "labels")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/records/{record.id}", headers=headers).json
    assert body["check_url"] == f"{BASE_URL}/c/{record.check_token}"
    listed = client.get(f"/api/v1/instruments/{instrument.id}/records", headers=headers).json
    assert [r["check_url"] for r in listed["items"]] == [body["check_url"]]
    response = client.get(f"/api/v1/records/{record.id}/label.svg", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    root = ET.fromstring(response.data)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert instrument.management_no in texts
    assert world.a.org.name in texts
    # Its code is the code of the check URL.
    _size, path = labels.qr_path(body["check_url"])
    assert [p.get("d") for p in root.iter("{http://www.w3.org/2000/svg}path")] == [path]
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/records/{record_id}/label.svg" in spec["paths"]
    assert spec["components"]["schemas"]["RecordOut"]["properties"]["check_url"]["format"] == "uri"


def test_the_check_route_is_the_path_labels_encode(app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("check.public_check", token="tok") == check_links.CHECK_PATH + "tok"


def test_every_record_gets_its_own_token(app, world, db_session):
    for instrument in world.a.instruments:
        _record(app, db_session, world.a, instrument)
    tokens = db_session.scalars(
        select(CalibrationRecord.check_token).where(CalibrationRecord.org_id == world.a.org.id)
    ).all()
    assert len(tokens) == len(set(tokens)) >= 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", t) for t in tokens)


def test_a_mandatory_instruments_label_is_its_verifications(app, client, world, db_session):
    instrument = make_instrument(db_session, world.a.actor(), is_mandatory=True, mandatory_use="trade")
    verification = _record(app, db_session, world.a, instrument, days_ago=60, certificate_no="JD-V")
    self_check = _record(
        app, db_session, world.a, instrument, days_ago=5, kind="self_check", certificate_no="ZJ-S"
    )
    login(client, world.a.metrology)
    page = client.post("/instruments/labels", data={"ids": [str(instrument.id)]}).text
    assert labels.qr_svg(f"{BASE_URL}/c/{verification.check_token}") in page
    assert self_check.check_token not in page

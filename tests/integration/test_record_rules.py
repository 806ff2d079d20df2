"""Issue #16: a blank record renews nothing, a calibration awaiting confirmation is never 合格,
and a backdated out-of-tolerance result still opens its nonconformity case."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from models import CalibrationRecord, Instrument, NonconformityCase
from service.clock import today_in
from service.ledger import operations as ledger_ops
from service.traceability import operations as records
from tests.api import API, auth
from tests.conftest import login


def _today():
    return today_in("Asia/Shanghai")


def _ledger_certificate(db_session, tenant, instrument) -> Instrument:
    """Give the instrument a lab, a certificate and a pass, as an imported ledger would."""
    ledger_ops.apply_change(
        db_session,
        tenant.actor(),
        instrument,
        {"lab": "河南省计量测试科学研究院", "certificate_no": "JD-REAL-1", "conclusion": "pass"},
        _today(),
        "instrument.updated",
        None,
    )
    db_session.commit()
    return instrument


def _snapshot(db_session, instrument_id):
    db_session.expire_all()
    i = db_session.get(Instrument, instrument_id)
    return (i.last_done_on, i.next_due_on, i.lab, i.certificate_no, i.conclusion, i.label(_today()))


def test_a_blank_record_form_is_refused_and_changes_nothing(client, db_session, world):
    instrument = _ledger_certificate(db_session, world.a, world.a.instruments[0])
    before = _snapshot(db_session, instrument.id)
    login(client, world.a.metrology)
    # What the form posts when nothing is typed: the kind defaults to 校准 and the date to today.
    response = client.post(
        f"/instruments/{instrument.id}/records/new",
        data={"kind": "calibration", "performed_on": _today().isoformat(), "readings-0-phase": "as_found"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'id="f-certificate_no"' in response.text
    assert response.text.count("invalid-feedback d-block") >= 2  # laboratory and certificate no.
    assert db_session.scalars(select(CalibrationRecord)).all() == []
    assert _snapshot(db_session, instrument.id) == before


def test_the_api_refuses_a_record_with_only_kind_and_date(client, db_session, world):
    instrument = _ledger_certificate(db_session, world.a, world.a.instruments[0])
    before = _snapshot(db_session, instrument.id)
    headers = auth(db_session, world.a.metrology)
    for kind in ("calibration", "verification"):
        response = client.post(
            f"{API}/instruments/{instrument.id}/records",
            headers=headers,
            json={"kind": kind, "performed_on": _today().isoformat()},
        )
        assert response.status_code == 400, response.json
        assert "certificate_no" in response.json["errors"]
        assert "lab_name" in response.json["errors"]
    assert _snapshot(db_session, instrument.id) == before


def test_an_empty_certificate_type_does_not_wipe_the_ledgers(client, db_session, world):
    instrument = world.a.instruments[0]
    ledger_ops.apply_change(
        db_session,
        world.a.actor(),
        instrument,
        {"certificate_type": "verification_certificate"},
        _today(),
        "instrument.updated",
        None,
    )
    db_session.commit()
    payload = {
        "kind": "verification",
        "performed_on": _today().isoformat(),
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": "JD-NEW-2",
        "conclusion": "pass",
    }
    records.record_result(db_session, world.a.actor(), instrument.id, payload, _today())
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Instrument, instrument.id).certificate_type == "verification_certificate"


def test_a_calibration_awaiting_confirmation_is_never_shown_qualified(client, db_session, world):
    instrument = _ledger_certificate(db_session, world.a, world.a.instruments[0])
    headers = auth(db_session, world.a.metrology)
    created = client.post(
        f"{API}/instruments/{instrument.id}/records",
        headers=headers,
        json={
            "kind": "calibration",
            "performed_on": _today().isoformat(),
            "lab_name": "河南省计量测试科学研究院",
            "certificate_no": "JZ-NEW-1",
        },
    )
    assert created.status_code == 201, created.json
    record = created.json
    shown = client.get(f"{API}/instruments/{instrument.id}", headers=headers).json
    assert (shown["conclusion"], shown["label"]) == ("pending", "yellow")

    login(client, world.a.metrology)
    page = client.get(f"/instruments/{instrument.id}").text
    badge = re.search(r'id="instrument-label">(.*?)</span></h1>', page, re.S).group(1)
    assert "待确认" in badge
    assert "合格" not in badge
    listed = client.get("/instruments").text
    assert 'data-label="pending"' in listed
    svg = client.get(f"{API}/records/{record['id']}/label.svg", headers=headers).text
    assert "待确认" in svg
    assert "合格" not in svg

    check = client.get(f"/c/{record['check_url'].rsplit('/', 1)[1]}").text
    assert 'data-label="pending"' in check
    assert "待确认" in check
    assert "合格，可以使用" not in check
    assert "可以使用" not in check

    confirmed = client.post(
        f"{API}/records/{record['id']}/confirmation", headers=headers, json={"confirmation": "fit"}
    )
    assert confirmed.status_code == 200, confirmed.json
    shown = client.get(f"{API}/instruments/{instrument.id}", headers=headers).json
    assert (shown["conclusion"], shown["label"]) == ("pass", "green")


def test_a_backdated_out_of_tolerance_result_opens_a_case(db_session, world):
    instrument = world.a.instruments[0]  # last verified 30 days ago
    earlier = _today() - timedelta(days=60)
    payload = {
        "kind": "verification",
        "performed_on": earlier.isoformat(),
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": "JD-OLD-1",
        "conclusion": "pass",
        "readings": [
            {"phase": "as_found", "point": "150", "nominal": "150", "reading": "150.05", "mpe": "0.03"}
        ],
    }
    record = records.record_result(db_session, world.a.actor(), instrument.id, payload, _today())
    db_session.commit()
    case = db_session.scalars(
        select(NonconformityCase).where(NonconformityCase.instrument_id == instrument.id)
    ).one()
    assert case.record_id == record.id
    assert case.suspect_to == earlier  # a later result has shown it good since
    db_session.expire_all()
    assert db_session.get(Instrument, instrument.id).status == "in_service"

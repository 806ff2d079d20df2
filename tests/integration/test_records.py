"""Calibration records: recording moves the ledger in one transaction; corrections; confirmations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import CalibrationRecord, Event, RecordReading
from service.actors import Actor
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.history.chain import verify_chain
from service.traceability import operations as records
from service.traceability.certificates import record_for_client
from tests import factories

TODAY = date(2026, 11, 24)


def _verification(**changes) -> dict:
    return {
        "kind": "verification",
        "performed_on": "2026-11-20",
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": "JD2026-01234",
        "certificate_type": "verification_certificate",
        "conclusion": "pass",
        "performed_by": "郭志强",
        "temperature": "20.3 ℃",
        "humidity": "46 %RH",
        "readings": [
            {
                "phase": "as_found",
                "point": "1.0 MPa",
                "unit": "MPa",
                "nominal": "1.0",
                "reading": "1.012",
                "mpe": "0.016",
            },
            {
                "phase": "as_found",
                "point": "1.6 MPa",
                "unit": "MPa",
                "nominal": "1.6",
                "reading": "1.63",
                "mpe": "0.016",
            },
        ],
    } | changes


def _record(db_session, world, instrument_id: int, **changes):
    """Record ``_verification(**changes)`` for firm A's instrument."""
    return records.record_result(db_session, world.a.actor(), instrument_id, _verification(**changes), TODAY)


def _correct(db_session, world, record_id: int, **changes):
    """Correct firm A's record with ``_verification(**changes)``."""
    return records.correct_record(db_session, world.a.actor(), record_id, _verification(**changes), TODAY)


def _events(db_session, org_id, kind):
    return list(db_session.scalars(select(Event).where(Event.org_id == org_id, Event.kind == kind)))


def test_recording_moves_dates_certificate_and_label_with_one_event(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY, conclusion="fail")
    assert instrument.label(TODAY) == "red"
    record = _record(db_session, world, instrument.id)
    db_session.commit()

    db_session.refresh(instrument)
    assert instrument.last_done_on == date(2026, 11, 20)
    assert instrument.next_due_on == date(2027, 11, 19)
    assert (instrument.certificate_no, instrument.lab) == ("JD2026-01234", "河南省计量测试科学研究院")
    assert instrument.conclusion == "pass"
    assert instrument.label(TODAY) == "green"
    assert record.next_due_on == date(2027, 11, 19)
    [event] = _events(db_session, world.a.org.id, "record.created")
    assert event.subject_id == instrument.id
    assert event.data["record_id"] == record.id
    assert event.data["changes"]["next_due_on"] == ["2026-11-19", "2027-11-19"]
    readings = db_session.scalars(select(RecordReading).where(RecordReading.record_id == record.id)).all()
    assert [(r.error, r.within_tolerance) for r in readings] == [
        (Decimal("0.012"), True),
        (Decimal("0.030"), False),
    ]
    assert verify_chain(db_session, world.a.org.id).ok


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valid_until": "2026-01-01"}, "valid_until"),
        ({"performed_on": "2026-12-01"}, "performed_on"),
        ({"conclusion": None}, "conclusion"),
        ({"kind": "calibration"}, "conclusion"),
        ({"performed_on": "2026-13-45"}, "performed_on"),
        ({"readings": [{"phase": "as_found", "reading": "abc"}]}, "readings.0.reading"),
        ({"readings": [{"phase": "as_found", "mpe": "-1"}]}, "readings.0.mpe"),
        ({"standards": [{"instrument_id": None}]}, "standards.0.name"),
        ({"lab_org_id": 999999}, "lab_org_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_records_are_refused_and_change_nothing(db_session, world, changes, field):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    before = (instrument.last_done_on, instrument.next_due_on, instrument.certificate_no)
    events = db_session.scalar(select(func.count()).select_from(Event))
    with pytest.raises(Invalid) as caught:
        _record(db_session, world, instrument.id, **changes)
    db_session.rollback()
    assert field in caught.value.field_errors
    db_session.refresh(instrument)
    assert (instrument.last_done_on, instrument.next_due_on, instrument.certificate_no) == before
    assert db_session.scalar(select(func.count()).select_from(CalibrationRecord)) == 0
    assert db_session.scalar(select(func.count()).select_from(Event)) == events


def test_a_correction_supersedes_without_deleting(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    first = _record(db_session, world, instrument.id)
    db_session.commit()
    corrected = _correct(
        db_session, world, first.id, certificate_no="JD2026-01243", correction_reason="证书编号录入错误"
    )
    db_session.commit()
    db_session.refresh(first)
    db_session.refresh(instrument)
    assert first.superseded_by_id == corrected.id
    assert corrected.supersedes_id == first.id
    assert instrument.certificate_no == "JD2026-01243"
    assert db_session.scalar(select(func.count()).select_from(CalibrationRecord)) == 2
    [event] = _events(db_session, world.a.org.id, "record.corrected")
    assert event.data["supersedes"] == first.id
    assert event.data["reason"] == "证书编号录入错误"
    with pytest.raises(Conflict):
        _correct(db_session, world, first.id, correction_reason="again")
    db_session.rollback()
    with pytest.raises(Invalid) as caught:
        _correct(db_session, world, corrected.id)
    assert "correction_reason" in caught.value.field_errors


def test_an_older_record_does_not_move_the_dates_back(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    _record(db_session, world, instrument.id, performed_on="2024-11-18", certificate_no="OLD")
    db_session.commit()
    db_session.refresh(instrument)
    assert instrument.last_done_on == date(2025, 11, 20)
    assert instrument.certificate_no is None
    assert len(_events(db_session, world.a.org.id, "record.created")) == 1  # the history still has it


def test_an_intermediate_check_does_not_renew_the_instrument(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    due = instrument.next_due_on
    record = records.record_result(
        db_session,
        world.a.actor(),
        instrument.id,
        {
            "kind": "intermediate_check",
            "performed_on": "2026-05-20",
            "conclusion": "pass",
            "certificate_type": "internal_record",
        },
        TODAY,
    )
    db_session.commit()
    db_session.refresh(instrument)
    assert instrument.next_due_on == due
    assert record.next_due_on is None


def test_a_calibration_waits_for_its_confirmation(db_session, world):
    instrument = factories.make_verified_instrument(
        db_session, world.a, TODAY, control_method="calibration", conclusion="pass"
    )
    calibration = {
        "kind": "calibration",
        "performed_on": "2026-11-20",
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": "JZ2026-00077",
        "certificate_type": "calibration_certificate",
        "uncertainty": "U = 0.02 MPa, k = 2",
    }
    record = records.record_result(db_session, world.a.actor(), instrument.id, calibration, TODAY)
    db_session.commit()
    assert record.needs_confirmation
    db_session.refresh(instrument)
    # Until confirmed it is not known fit: the ledger says so (yellow 待确认, never green 合格).
    assert (instrument.conclusion, instrument.label(TODAY)) == ("pending", "yellow")
    records.confirm_record(
        db_session,
        world.a.actor(),
        record.id,
        {"confirmation": "limited", "confirmation_note": "仅用于0~1 MPa"},
        TODAY,
    )
    db_session.commit()
    db_session.refresh(instrument)
    assert (record.confirmation, record.conclusion, record.confirmed_by_name) == (
        "limited",
        "limited",
        world.a.metrology.name,
    )
    assert instrument.label(TODAY) == "yellow"
    with pytest.raises(Conflict):
        records.confirm_record(db_session, world.a.actor(), record.id, {"confirmation": "fit"}, TODAY)
    [event] = _events(db_session, world.a.org.id, "record.confirmed")
    assert event.data["changes"]["conclusion"] == ["pending", "limited"]


def test_a_verification_is_not_confirmed(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    record = _record(db_session, world, instrument.id)
    db_session.commit()
    with pytest.raises(Conflict):
        records.confirm_record(db_session, world.a.actor(), record.id, {"confirmation": "fit"}, TODAY)


def test_coming_back_from_the_lab_puts_it_in_service(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY, status="out_for_calibration")
    _record(db_session, world, instrument.id)
    db_session.commit()
    db_session.refresh(instrument)
    assert instrument.status == "in_service"


def test_standards_carry_their_validity_on_the_day(db_session, world):
    standard = factories.make_verified_instrument(
        db_session, world.a, TODAY, name="精密压力表", management_no="BZ-1", valid_until=date(2026, 10, 31)
    )
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    payload = _verification(
        standards=[
            {"instrument_id": standard.id},
            {
                "name": "活塞式压力计",
                "certificate_no": "GJ-2026-1",
                "valid_until": "2027-06-30",
                "lab_name": "中国计量科学研究院",
            },
        ]
    )
    record = records.record_result(db_session, world.a.actor(), instrument.id, payload, TODAY)
    db_session.commit()
    used, outside = record.standards
    assert (used.standard_instrument_id, used.management_no, used.valid_until) == (
        standard.id,
        "BZ-1",
        date(2026, 10, 31),
    )
    assert used.valid_until < record.performed_on  # expired on the day: the chain warns
    assert (outside.standard_instrument_id, outside.name) == (None, "活塞式压力计")


def test_a_firm_correcting_the_institutes_result_keeps_the_institutes_standards(db_session, world):
    staff = Actor.of(world.institute_staff)
    used = factories.make_instrument(db_session, staff, TODAY, management_no="BZ-Y1", name="精密压力表")
    unused = factories.make_instrument(db_session, staff, TODAY, management_no="BZ-Y2", name="活塞式压力计")
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    db_session.commit()
    result = {"kind": "verification", "conclusion": "pass", "standards": [{"instrument_id": used.id}]}
    record = record_for_client(db_session, staff, world.a.org.id, instrument.id, result, TODAY)
    db_session.commit()

    correction = _verification(correction_reason="检定员姓名笔误", standards=[{"instrument_id": used.id}])
    corrected = records.correct_record(db_session, world.a.actor(), record.id, correction, TODAY)
    db_session.commit()
    [kept] = corrected.standards
    assert (kept.standard_org_id, kept.standard_instrument_id) == (world.institute.id, used.id)
    assert (kept.management_no, kept.name) == ("BZ-Y1", "精密压力表")

    # Only those it used: another of the institute's standards is not the firm's to name.
    again = _verification(correction_reason="x", standards=[{"instrument_id": unused.id}])
    with pytest.raises(Invalid) as caught:
        records.correct_record(db_session, world.a.actor(), corrected.id, again, TODAY)
    assert "standards.0.instrument_id" in caught.value.field_errors
    db_session.rollback()


def test_another_firms_instruments_and_standards_are_out_of_reach(db_session, world):
    theirs = factories.make_verified_instrument(db_session, world.b, TODAY)
    mine = factories.make_verified_instrument(db_session, world.a, TODAY)
    with pytest.raises(NotFound):
        _record(db_session, world, theirs.id)
    db_session.rollback()
    with pytest.raises(Invalid) as caught:
        _record(db_session, world, mine.id, standards=[{"instrument_id": theirs.id}])
    assert "standards.0.instrument_id" in caught.value.field_errors
    db_session.rollback()
    record = records.record_result(db_session, world.b.actor(), theirs.id, _verification(), TODAY)
    db_session.commit()
    with pytest.raises(NotFound):
        _correct(db_session, world, record.id, correction_reason="x")
    with pytest.raises(NotFound):
        records.confirm_record(db_session, world.a.actor(), record.id, {"confirmation": "fit"}, TODAY)


def test_viewers_cannot_record(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    with pytest.raises(Forbidden):
        records.record_result(db_session, Actor.of(world.a.viewer), instrument.id, _verification(), TODAY)


def test_the_linked_institute_can_be_named_as_the_lab(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    record = _record(db_session, world, instrument.id, lab_name=None, lab_org_id=world.institute.id)
    assert (record.lab_org_id, record.lab_name) == (world.institute.id, world.institute.name)
    db_session.rollback()
    other = factories.make_verified_instrument(db_session, world.b, TODAY)
    with pytest.raises(Invalid):  # firm B is not the institute's client
        records.record_result(
            db_session, world.b.actor(), other.id, _verification(lab_org_id=world.institute.id), TODAY
        )


def test_a_mandatory_instrument_is_renewed_only_by_a_verification(db_session, world):
    instrument = factories.make_verified_instrument(
        db_session, world.a, TODAY, is_mandatory=True, mandatory_use="safety"
    )
    before = instrument.next_due_on
    check = {"kind": "self_check", "performed_on": "2026-11-20", "conclusion": "pass"}
    record = records.record_result(db_session, world.a.actor(), instrument.id, check, TODAY)
    db_session.commit()
    db_session.refresh(instrument)
    assert (instrument.last_done_on, instrument.next_due_on) == (date(2025, 11, 20), before)
    assert record.next_due_on is None
    assert record.lab_name == world.a.org.name  # a self-check is the firm's own work
    _record(db_session, world, instrument.id)
    db_session.commit()
    db_session.refresh(instrument)
    assert instrument.last_done_on == date(2026, 11, 20)

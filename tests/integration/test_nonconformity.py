"""Nonconforming equipment: a failure opens a case, the suspect window, assessment, disposition."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Event, NonconformityCase
from service.clock import today_in
from service.errors import Conflict, Forbidden, Invalid
from service.history.chain import verify_chain
from service.ledger import operations as ledger_ops
from service.nonconformity import operations, queries
from service.traceability import operations as records
from tests import factories
from tests.api import API, auth
from tests.conftest import login

TODAY = date(2026, 11, 24)


def _verification(performed_on: str, conclusion: str, **changes) -> dict:
    return {
        "kind": "verification",
        "performed_on": performed_on,
        "lab_name": "河南省计量测试科学研究院",
        "certificate_no": f"JD-{performed_on}",
        "conclusion": conclusion,
    } | changes


def _calibration() -> dict:
    """A calibration awaiting its metrological confirmation."""
    return {
        "kind": "calibration",
        "performed_on": "2026-11-20",
        "lab_name": "某校准实验室",
        "certificate_no": "JZ-1",
    }


def _record(db_session, tenant, instrument, payload, today=TODAY):
    record = records.record_result(db_session, tenant.actor(), instrument.id, payload, today)
    db_session.commit()
    return record


def _closed_by_admin(db_session, world, case_id: int, disposition: str, **fields) -> None:
    """Close firm A's case as its administrator with ``disposition``, and commit."""
    operations.close(
        db_session, world.a.actor("admin"), case_id, {"disposition": disposition} | fields, TODAY
    )
    db_session.commit()


def _case(db_session, instrument) -> NonconformityCase | None:
    return db_session.scalar(
        select(NonconformityCase).where(NonconformityCase.instrument_id == instrument.id)
    )


def test_a_failed_verification_opens_a_case_and_stops_the_instrument(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    _record(db_session, world.a, instrument, _verification("2026-05-10", "pass"))
    failed = _record(db_session, world.a, instrument, _verification("2026-11-20", "fail"))

    case = _case(db_session, instrument)
    assert (case.state, case.source, case.record_id) == ("open", "record", failed.id)
    assert (case.suspect_from, case.suspect_to) == (date(2026, 5, 10), TODAY)
    db_session.refresh(instrument)
    assert instrument.status == "suspended"
    assert instrument.label(TODAY) == "red"
    [event] = db_session.scalars(select(Event).where(Event.kind == "nonconformity.opened")).all()
    assert event.data["changes"]["status"] == ["in_service", "suspended"]
    assert verify_chain(db_session, world.a.org.id).ok

    # A second failure while the case is open adds to it, not a second case.
    _record(db_session, world.a, instrument, _verification("2026-11-22", "fail"))
    assert len(db_session.scalars(select(NonconformityCase)).all()) == 1


def test_the_suspect_window_starts_at_the_ledger_date_when_no_record_was_good(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY, conclusion="pass")
    _record(db_session, world.a, instrument, _verification("2026-11-20", "fail"))
    assert _case(db_session, instrument).suspect_from == date(2025, 11, 20)


def test_out_of_tolerance_as_found_but_adjusted_opens_a_case_without_stopping(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    reading = {"phase": "as_found", "nominal": "1.0", "reading": "1.05", "mpe": "0.016"}
    adjusted = {"phase": "as_left", "nominal": "1.0", "reading": "1.004", "mpe": "0.016"}
    _record(
        db_session, world.a, instrument, _verification("2026-11-20", "pass", readings=[reading, adjusted])
    )
    case = _case(db_session, instrument)
    assert case.state == "open"
    db_session.refresh(instrument)
    assert instrument.status == "in_service"
    # The passing, adjusted result is the evidence an "adjust" disposition needs.
    operations.assess(db_session, world.a.actor(), case.id, {"impact_assessment": "复测了近三月产品"}, TODAY)
    _closed_by_admin(db_session, world, case.id, "adjust")
    assert case.state == "closed"


def test_an_older_failure_entered_late_opens_a_case_that_stops_nothing(db_session, world):
    # Issue #16: what it measured before the failure is suspect all the same; the newer pass stands.
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    _record(db_session, world.a, instrument, _verification("2026-11-20", "pass"))
    _record(db_session, world.a, instrument, _verification("2026-06-01", "fail"))
    case = _case(db_session, instrument)
    assert case.suspect_to == date(2026, 6, 1)
    assert (case.stopped_from, instrument.status) == (None, "in_service")


def test_a_calibration_confirmed_unfit_opens_a_case(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY, control_method="calibration")
    calibration = _record(db_session, world.a, instrument, _calibration())
    assert _case(db_session, instrument) is None
    records.confirm_record(db_session, world.a.actor(), calibration.id, {"confirmation": "unfit"}, TODAY)
    db_session.commit()
    assert _case(db_session, instrument).record_id == calibration.id
    db_session.refresh(instrument)
    assert instrument.status == "suspended"


def test_a_case_closes_only_with_an_assessment_and_a_disposition_by_an_admin(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    case = operations.open_case(db_session, world.a.actor(), instrument.id, {"description": "摔落"}, TODAY)
    db_session.commit()
    admin = world.a.actor("admin")
    with pytest.raises(Invalid) as missing:
        operations.close(db_session, admin, case.id, {}, TODAY)
    assert "disposition" in missing.value.field_errors
    db_session.rollback()
    with pytest.raises(Invalid) as unassessed:
        operations.close(db_session, admin, case.id, {"disposition": "scrap"}, TODAY)
    assert "impact_assessment" in unassessed.value.field_errors
    db_session.rollback()
    operations.assess(db_session, world.a.actor(), case.id, {"impact_assessment": "无影响"}, TODAY)
    db_session.commit()
    with pytest.raises(Forbidden):
        operations.close(db_session, world.a.actor(), case.id, {"disposition": "scrap"}, TODAY)
    db_session.rollback()
    # Adjusting needs a passing result after the failure first.
    with pytest.raises(Invalid) as unproven:
        operations.close(db_session, admin, case.id, {"disposition": "adjust"}, TODAY)
    assert "disposition" in unproven.value.field_errors
    db_session.rollback()

    operations.close(
        db_session, admin, case.id, {"disposition": "scrap", "disposition_note": "无法修复"}, TODAY
    )
    db_session.commit()
    db_session.refresh(instrument)
    assert (case.state, case.approved_by_name, instrument.status) == (
        "closed",
        world.a.admin.name,
        "scrapped",
    )
    with pytest.raises(Conflict):
        operations.close(db_session, admin, case.id, {"disposition": "scrap"}, TODAY)
    db_session.rollback()


def test_the_database_refuses_a_closed_case_without_a_disposition(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    case = operations.open_case(db_session, world.a.actor(), instrument.id, {"description": "x"}, TODAY)
    db_session.commit()
    case.state = "closed"
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()


def test_repair_then_pass_puts_it_back_and_downgrade_writes_the_limits(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    _record(db_session, world.a, instrument, _verification("2026-11-20", "fail"))
    case = _case(db_session, instrument)
    operations.assess(db_session, world.a.actor(), case.id, {"impact_assessment": "已追回批次"}, TODAY)
    _record(db_session, world.a, instrument, _verification("2026-11-23", "pass"))
    _closed_by_admin(db_session, world, case.id, "repair")
    db_session.refresh(instrument)
    assert (instrument.status, instrument.label(TODAY)) == ("in_service", "green")

    other = factories.make_verified_instrument(
        db_session, world.a, TODAY, last_done_on=date(2026, 6, 1)
    )  # not overdue: yellow shows
    second = operations.open_case(db_session, world.a.actor(), other.id, {"description": "示值漂移"}, TODAY)
    operations.assess(db_session, world.a.actor(), second.id, {"impact_assessment": "无"}, TODAY)
    db_session.commit()
    with pytest.raises(Invalid) as no_limits:
        operations.close(db_session, world.a.actor("admin"), second.id, {"disposition": "downgrade"}, TODAY)
    assert "use_limits" in no_limits.value.field_errors
    db_session.rollback()
    _closed_by_admin(db_session, world, second.id, "downgrade", use_limits="仅用于0–1 MPa")
    db_session.refresh(other)
    assert (other.status, other.label(TODAY)) == ("in_service", "yellow")
    assert queries.current_use_limits(db_session, other) == "仅用于0–1 MPa"
    # A later good result lifts the limits.
    _record(db_session, world.a, other, _verification("2026-11-24", "pass"))
    db_session.refresh(other)
    assert queries.current_use_limits(db_session, other) is None


def test_the_case_lists_who_used_the_instrument_in_the_window(db_session, world):
    tenant = world.a
    today = today_in("Asia/Shanghai")  # the history is dated by the real clock
    instrument = factories.make_verified_instrument(db_session, tenant, TODAY, location="一车间")
    second = factories.make_department(db_session, tenant.actor("admin"))
    db_session.commit()
    ledger_ops.update_instrument(
        db_session,
        tenant.actor(),
        instrument.id,
        {"department_id": second.id, "location": "二车间"},
        today,
        partial=True,
    )
    db_session.commit()
    case = operations.open_case(db_session, tenant.actor(), instrument.id, {"description": "x"}, today)
    db_session.commit()
    periods = queries.exposure(db_session, tenant.actor(), case)
    assert [(p.department, p.location) for p in periods] == [(None, "一车间"), (second.name, "二车间")]
    assert periods[0].start == date(2025, 11, 20)
    assert periods[-1].end == today


def test_cases_through_the_api_and_the_pages(client, db_session, world):
    instrument = world.a.instruments[0]
    headers = auth(db_session, world.a.metrology)
    opened = client.post(
        f"{API}/instruments/{instrument.id}/nonconformity", headers=headers, json={"description": "跌落"}
    )
    assert opened.status_code == 201, opened.json
    case_id = opened.json["id"]
    assert opened.json["exposure"]
    again = client.post(
        f"{API}/instruments/{instrument.id}/nonconformity", headers=headers, json={"description": "x"}
    )
    assert again.status_code == 409
    assert [c["id"] for c in client.get(f"{API}/nonconformity", headers=headers).json["items"]] == [case_id]
    bad = client.post(f"{API}/nonconformity/{case_id}/closing", headers=headers, json={"disposition": "burn"})
    assert bad.status_code in (400, 403)
    assessed = client.post(
        f"{API}/nonconformity/{case_id}/assessment", headers=headers, json={"impact_assessment": "无"}
    )
    assert assessed.status_code == 200
    admin = auth(db_session, world.a.admin)
    closed = client.post(
        f"{API}/nonconformity/{case_id}/closing", headers=admin, json={"disposition": "scrap"}
    )
    assert closed.json["state"] == "closed"
    assert (
        client.get(f"{API}/nonconformity?state=closed", headers=headers).json["items"][0]["disposition"]
        == "scrap"
    )
    assert client.get(f"{API}/nonconformity?state=nope", headers=headers).status_code == 400

    other = world.a.instruments[1]
    login(client, world.a.metrology)
    page = client.post(f"/instruments/{other.id}/nonconformity", data={"description": "读数异常"})
    assert page.status_code == 303
    shown = client.get(page.headers["Location"])
    assert 'data-state="open"' in shown.text
    assert 'id="exposure"' in shown.text
    assert f'data-case="{page.headers["Location"].rsplit("/", 1)[1]}"' in client.get("/nonconformity").text
    assert 'id="open-case"' in client.get(f"/instruments/{other.id}").text


def test_a_later_unfit_confirmation_of_a_mandatory_instruments_calibration_opens_a_case(db_session, world):
    instrument = factories.make_verified_instrument(
        db_session, world.a, TODAY, is_mandatory=True, mandatory_use="safety"
    )
    calibration = _record(db_session, world.a, instrument, _calibration())
    records.confirm_record(db_session, world.a.actor(), calibration.id, {"confirmation": "unfit"}, TODAY)
    db_session.commit()
    assert _case(db_session, instrument).record_id == calibration.id


def test_a_failure_while_a_case_is_open_still_stops_the_instrument(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    reading = {"phase": "as_found", "nominal": "1.0", "reading": "1.05", "mpe": "0.016"}
    _record(db_session, world.a, instrument, _verification("2026-11-20", "pass", readings=[reading]))
    db_session.refresh(instrument)
    assert instrument.status == "in_service"  # adjusted: the case leaves it in use
    _record(db_session, world.a, instrument, _verification("2026-11-23", "fail"))
    db_session.refresh(instrument)
    assert instrument.status == "suspended"
    assert _case(db_session, instrument).stopped_from == "in_service"


def test_closing_lifts_only_the_stop_the_case_made(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY, last_done_on=date(2026, 6, 1))
    request = ledger_ops.request_status_change(
        db_session, world.a.actor(), instrument.id, "suspend", "封存待修"
    )
    ledger_ops.decide_status_request(db_session, world.a.actor("admin"), request.id, True, "同意")
    case = operations.open_case(db_session, world.a.actor(), instrument.id, {"description": "x"}, TODAY)
    operations.assess(db_session, world.a.actor(), case.id, {"impact_assessment": "无"}, TODAY)
    _closed_by_admin(db_session, world, case.id, "downgrade", use_limits="仅0–1 MPa")
    db_session.refresh(instrument)
    assert instrument.status == "suspended"  # the approved suspension stands


def test_another_admin_approves_what_an_admin_reported(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    admin = world.a.actor("admin")
    case = operations.open_case(db_session, admin, instrument.id, {"description": "x"}, TODAY)
    operations.assess(db_session, admin, case.id, {"impact_assessment": "无"}, TODAY)
    db_session.commit()
    second = factories.make_user(db_session, world.a.org, "admin")
    db_session.commit()
    with pytest.raises(Forbidden):
        operations.close(db_session, admin, case.id, {"disposition": "scrap"}, TODAY)
    db_session.rollback()
    operations.close(db_session, factories.Actor.of(second), case.id, {"disposition": "scrap"}, TODAY)
    db_session.commit()
    assert case.state == "closed"


def test_an_intermediate_check_does_not_prove_a_repair(db_session, world):
    instrument = factories.make_verified_instrument(db_session, world.a, TODAY)
    _record(db_session, world.a, instrument, _verification("2026-11-20", "fail"))
    case = _case(db_session, instrument)
    operations.assess(db_session, world.a.actor(), case.id, {"impact_assessment": "无"}, TODAY)
    check = {"kind": "intermediate_check", "performed_on": "2026-11-23", "conclusion": "pass"}
    _record(db_session, world.a, instrument, check)
    with pytest.raises(Invalid):
        operations.close(db_session, world.a.actor("admin"), case.id, {"disposition": "repair"}, TODAY)
    db_session.rollback()

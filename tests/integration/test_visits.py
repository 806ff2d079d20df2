"""Visits from proposal to completion: the client's answer, results written into its ledger, boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from models import CalibrationRecord, Instrument, Notification, Visit
from service.actors import Actor
from service.errors import Conflict, Invalid, NotFound
from service.history.chain import verify_chain
from service.tenancy import operations as tenancy_ops
from service.tenancy import queries as tenancy_queries
from service.visits import operations, queries
from service.visits.operations import NewVisit
from tests import factories

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
BASE = "https://ledger.example.cn"


@pytest.fixture
def tech(db_session, world):
    admin = Actor.of(world.institute_admin)
    technician = factories.make_technician(
        db_session, admin, name="郭志强", user_id=world.institute_technician.id
    )
    other = factories.make_technician(db_session, admin, name="李明")
    db_session.commit()
    return technician, other


@pytest.fixture
def visit(db_session, world, staff, tech):
    technician, other = tech
    a0, a1, _a2 = world.a.instruments
    created = factories.make_visit(
        db_session,
        staff,
        world.a.org.id,
        {a0.id: technician.id, a1.id: other.id},
        TODAY + timedelta(days=3),
        today=TODAY,
        base_url=BASE,
        now=NOW,
    )
    db_session.commit()
    return created


def _notices(db_session, org_id):
    return db_session.scalars(
        select(Notification)
        .where(Notification.org_id == org_id, Notification.kind == "visit")
        .order_by(Notification.id)
    ).all()


def test_a_created_visit_is_proposed_and_the_client_is_told(db_session, world, visit):
    assert (visit.state, visit.firm_id, len(visit.items)) == ("proposed", world.a.org.id, 2)
    told = _notices(db_session, world.a.org.id)
    assert {(n.recipient_user_id, n.channel) for n in told} == {
        (u.id, c) for u in (world.a.admin, world.a.metrology) for c in ("in_app", "email")
    }
    assert (TODAY + timedelta(days=3)).isoformat() in told[0].subject


def test_the_client_confirms_or_asks_for_another_date(db_session, world, visit):
    firm = world.a.actor()
    with pytest.raises(Invalid) as missing:
        operations.answer(db_session, firm, visit.id, {"answer": "reschedule"}, TODAY, BASE, NOW)
    assert "requested_on" in missing.value.field_errors
    db_session.rollback()
    wanted = (TODAY + timedelta(days=10)).isoformat()
    operations.answer(
        db_session,
        firm,
        visit.id,
        {"answer": "reschedule", "requested_on": wanted, "note": "设备检修"},
        TODAY,
        BASE,
        NOW,
    )
    db_session.commit()
    assert visit.state == "reschedule_requested"
    told = _notices(db_session, world.institute.id)
    assert {n.recipient_user_id for n in told} == {world.institute_admin.id, world.institute_staff.id}
    operations.move(
        db_session, Actor.of(world.institute_staff), visit.id, {"planned_on": wanted}, TODAY, BASE, NOW
    )
    operations.answer(db_session, firm, visit.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    db_session.commit()
    assert (visit.state, visit.planned_on.isoformat()) == ("confirmed", wanted)
    with pytest.raises(Conflict):
        operations.answer(db_session, firm, visit.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    db_session.rollback()


def test_other_firms_and_institutes_see_nothing(db_session, world, visit):
    with pytest.raises(NotFound):
        queries.get_firm_visit(db_session, world.b.actor(), visit.id)
    with pytest.raises(NotFound):
        operations.answer(db_session, world.b.actor(), visit.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    assert queries.firm_visits(db_session, world.b.actor()) == []
    with pytest.raises(NotFound):
        queries.get_institute_visit(db_session, world.a.actor("admin"), visit.id)


def test_visits_go_only_to_linked_clients_and_only_with_their_instruments(db_session, world, staff, tech):
    technician, _ = tech
    b0 = world.b.instruments[0]
    with pytest.raises(NotFound):
        operations.create_visits(
            db_session, staff, [NewVisit(world.b.org.id, TODAY, {b0.id: technician.id})], TODAY, BASE, NOW
        )
    with pytest.raises(NotFound):  # firm B's instrument on a visit to firm A
        operations.create_visits(
            db_session, staff, [NewVisit(world.a.org.id, TODAY, {b0.id: technician.id})], TODAY, BASE, NOW
        )


def test_an_instrument_is_on_one_open_visit_at_a_time(db_session, world, staff, tech, visit):
    technician, _ = tech
    again = NewVisit(world.a.org.id, TODAY + timedelta(days=5), {world.a.instruments[0].id: technician.id})
    with pytest.raises(Conflict):
        operations.create_visits(db_session, staff, [again], TODAY, BASE, NOW)


def test_results_on_site_go_into_the_clients_ledger_and_complete_the_visit(db_session, world, visit, tech):
    technician, _ = tech
    operations.answer(db_session, world.a.actor(), visit.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    db_session.commit()
    first, second = visit.items
    worker = Actor.of(world.institute_technician)
    record = operations.record_item(
        db_session, worker, visit.id, first.id, {"kind": "verification", "conclusion": "pass"}, TODAY
    )
    db_session.commit()
    assert record.org_id == world.a.org.id
    assert (record.lab_org_id, record.lab_name) == (world.institute.id, world.institute.name)
    assert record.certificate_no == "JD2026-00001"
    assert record.recorded_by_name == f"{world.institute_technician.name}（{world.institute.name}）"
    instrument = db_session.get(Instrument, first.instrument_id)
    db_session.refresh(instrument)
    assert (instrument.last_done_on, instrument.certificate_no) == (TODAY, "JD2026-00001")
    assert verify_chain(db_session, world.a.org.id).ok
    assert visit.state == "confirmed"
    # The second instrument is someone else's: the technician may not enter it; staff may skip it.
    with pytest.raises(NotFound):
        operations.skip_item(db_session, worker, visit.id, second.id, {"reason": "x"})
    db_session.rollback()
    operations.skip_item(
        db_session, Actor.of(world.institute_staff), visit.id, second.id, {"reason": "现场未找到"}
    )
    db_session.commit()
    assert visit.state == "completed"
    with pytest.raises(Conflict):
        operations.record_item(
            db_session, worker, visit.id, first.id, {"kind": "verification", "conclusion": "pass"}, TODAY
        )
    db_session.rollback()


def test_certificate_numbers_run_on(db_session, world, visit):
    operations.answer(db_session, world.a.actor(), visit.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    staff = Actor.of(world.institute_staff)
    numbers = [
        operations.record_item(
            db_session, staff, visit.id, item.id, {"kind": kind, "conclusion": conclusion}, TODAY
        ).certificate_no
        for item, kind, conclusion in zip(
            visit.items, ("verification", "calibration"), ("pass", None), strict=True
        )
    ]
    assert numbers == ["JD2026-00001", "JZ2026-00001"]
    db_session.commit()
    records = db_session.scalars(
        select(CalibrationRecord)
        .where(CalibrationRecord.org_id == world.a.org.id)
        .execution_options(all_tenants=True)
    ).all()
    assert len(records) == 2


def test_no_results_before_the_client_confirms(db_session, world, visit):
    with pytest.raises(Conflict):
        operations.record_item(
            db_session,
            Actor.of(world.institute_staff),
            visit.id,
            visit.items[0].id,
            {"conclusion": "pass"},
            TODAY,
        )
    db_session.rollback()


def test_a_firm_that_ended_the_link_gets_no_new_visits(db_session, world, staff, tech):
    technician, _ = tech
    link = tenancy_queries.active_link(db_session, world.institute.id, world.a.org.id)
    link.ended_at = NOW
    db_session.commit()
    with pytest.raises(NotFound):
        operations.create_visits(
            db_session,
            staff,
            [NewVisit(world.a.org.id, TODAY, {world.a.instruments[0].id: technician.id})],
            TODAY,
            BASE,
            NOW,
        )
    assert Visit.__table__ is not None


def test_a_firm_that_ended_the_link_leaves_the_institutes_visits(db_session, world, visit):
    staff = Actor.of(world.institute_staff)
    assert [v.id for v in queries.institute_visits(db_session, staff)] == [visit.id]
    tenancy_queries.active_link(db_session, world.institute.id, world.a.org.id).ended_at = NOW
    db_session.commit()
    assert queries.institute_visits(db_session, staff) == []
    with pytest.raises(NotFound):
        queries.get_institute_visit(db_session, staff, visit.id)


def test_ending_the_link_cancels_the_planned_visits(db_session, world, visit):
    link = tenancy_queries.active_link(db_session, world.institute.id, world.a.org.id)
    tenancy_ops.end_client_link(db_session, world.a.actor("admin"), link.id)
    db_session.commit()
    db_session.refresh(visit)
    assert visit.state == "cancelled"


def test_a_visit_with_results_is_not_cancelled(db_session, world, visit):
    staff = Actor.of(world.institute_staff)
    operations.answer(db_session, world.a.actor(), visit.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    operations.record_item(db_session, staff, visit.id, visit.items[0].id, {"conclusion": "pass"}, TODAY)
    db_session.commit()
    with pytest.raises(Conflict):
        operations.cancel(db_session, staff, visit.id, TODAY, BASE, NOW)
    db_session.rollback()


def test_the_institute_numbers_and_dates_its_results_itself(db_session, world, visit):
    operations.answer(db_session, world.a.actor(), visit.id, {"answer": "confirm"}, TODAY, BASE, NOW)
    payload = {
        "conclusion": "pass",
        "certificate_no": "JD2020-00001",
        "performed_on": "2020-01-01",
        "lab_name": "x",
    }
    record = operations.record_item(
        db_session, Actor.of(world.institute_staff), visit.id, visit.items[0].id, payload, TODAY
    )
    assert (record.certificate_no, record.performed_on, record.lab_name) == (
        "JD2026-00001",
        TODAY,
        world.institute.name,
    )
    db_session.rollback()


def test_moving_back_and_forth_tells_the_client_each_time(db_session, world, visit):
    staff = Actor.of(world.institute_staff)
    first, second = visit.planned_on, visit.planned_on + timedelta(days=1)
    before = len(_notices(db_session, world.a.org.id))
    for n, day in enumerate((second, first), start=1):
        operations.move(
            db_session,
            staff,
            visit.id,
            {"planned_on": day.isoformat()},
            TODAY,
            BASE,
            NOW + timedelta(minutes=n),
        )
    db_session.commit()
    assert len(_notices(db_session, world.a.org.id)) == before + 2 * 4  # two people, two channels, twice


def test_a_passed_day_cannot_be_confirmed(db_session, world, visit):
    later = TODAY + timedelta(days=10)
    with pytest.raises(Conflict):
        operations.answer(db_session, world.a.actor(), visit.id, {"answer": "confirm"}, later, BASE, NOW)
    db_session.rollback()

"""Planning visits from the database: linked clients only, technicians' time, the CLI's JSON."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from models import Technician
from service.actors import Actor
from service.errors import Conflict
from service.visits import proposals, technicians
from tests import factories

START = date(2026, 3, 2)  # a Monday


@pytest.fixture
def staffed(db_session, world):
    admin = Actor.of(world.institute_admin)
    press = factories.make_technician(db_session, admin, name="郭志强", daily_capacity=5)
    factories.make_technician(
        db_session, admin, name="李明", disciplines=["mass", "length"], daily_capacity=5
    )
    db_session.commit()
    return admin, press


def _due(db_session, tenant, name: str, due: date, **fields):
    instrument = factories.make_instrument(
        db_session,
        tenant.actor(),
        START,
        name=name,
        interval_months=12,
        valid_until=due.isoformat(),
        **fields,
    )
    db_session.commit()
    return instrument


def test_a_proposal_covers_linked_clients_only(db_session, world, staffed):
    admin, _press = staffed
    gauge = _due(db_session, world.a, "一般压力表", START + timedelta(days=10))
    scale = _due(db_session, world.a, "电子天平", START + timedelta(days=12))
    _due(db_session, world.b, "一般压力表", START + timedelta(days=5))  # firm B is not a client
    optics = _due(db_session, world.a, "玻璃液体温度计", START + timedelta(days=7))  # nobody does temperature
    later = _due(db_session, world.a, "一般压力表", START + timedelta(days=60))
    proposal = proposals.propose(db_session, admin, START, 30)
    body = proposal.as_json()
    [visit] = body["visits"]
    assert visit["client"] == world.a.org.slug
    assert sorted(visit["instrument_ids"]) == sorted([gauge.id, scale.id])
    assert visit["date"] <= (START + timedelta(days=10)).isoformat()
    assert visit["earliest_due_on"] == (START + timedelta(days=10)).isoformat()
    assert set(visit["technicians"]) == {"郭志强", "李明"}
    assert body["unplaced"] == [
        {"instrument_id": optics.id, "reason": "No technician calibrates Temperature."}
    ]
    assert later.id not in {i for v in body["visits"] for i in v["instrument_ids"]}


def test_instruments_on_open_visits_and_booked_time_are_respected(db_session, world, staffed):
    admin, press = staffed
    first = _due(db_session, world.a, "一般压力表", START + timedelta(days=2))
    second = _due(db_session, world.a, "精密压力表", START + timedelta(days=2))
    # A visit already holds the first gauge and all of the technician's Wednesday.
    factories.make_visit(
        db_session,
        Actor.of(world.institute_staff),
        world.a.org.id,
        {first.id: press.id},
        START + timedelta(days=2),
        today=START,
        now=datetime(2026, 3, 2, tzinfo=UTC),
    )
    db_session.commit()
    loads = proposals.booked_load(db_session, admin, START, START + timedelta(days=10))
    assert loads == {(press.id, START + timedelta(days=2)): 1}
    press.daily_capacity = 1
    db_session.commit()
    body = proposals.propose(db_session, admin, START, 10).as_json()
    [proposed] = body["visits"]
    assert proposed["instrument_ids"] == [second.id]
    assert proposed["date"] == (START + timedelta(days=1)).isoformat()  # Wednesday is full


def test_days_off_keep_a_technician_out(db_session, world, staffed):
    admin, press = staffed
    _due(db_session, world.a, "一般压力表", START + timedelta(days=2))
    for n in (1, 2):
        technicians.add_day_off(db_session, admin, press.id, {"day": (START + timedelta(days=n)).isoformat()})
    db_session.commit()
    [visit] = proposals.propose(db_session, admin, START, 10).as_json()["visits"]
    assert visit["date"] == START.isoformat()


def test_firms_have_no_technicians_and_no_plans(db_session, world):
    from service.errors import Forbidden, NotFound

    with pytest.raises(NotFound):
        technicians.list_technicians(db_session, world.a.actor("admin"))
    with pytest.raises((Forbidden, NotFound)):
        proposals.propose(db_session, world.a.actor("admin"), START, 10)


def test_technicians_are_validated(db_session, world):
    from service.errors import Invalid

    admin = Actor.of(world.institute_admin)
    with pytest.raises(Invalid) as bad:
        technicians.save_technician(
            db_session, admin, {"name": "x", "disciplines": ["magic"], "daily_capacity": 0}
        )
    assert set(bad.value.field_errors) == {"disciplines", "daily_capacity"}
    with pytest.raises(Invalid):
        technicians.save_technician(
            db_session,
            admin,
            {"name": "x", "disciplines": ["mass"], "daily_capacity": 5, "user_id": world.a.admin.id},
        )
    assert db_session.scalars(select(Technician)).all() == []


def test_the_cli_prints_the_plan_as_json(app, db_session, world, staffed):
    _due(db_session, world.a, "一般压力表", START + timedelta(days=3))
    runner = app.test_cli_runner()
    args = ["visits", "plan", "--org", world.institute.slug, "--from", START.isoformat(), "--days", "14"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"visits", "unplaced"}
    assert set(body["visits"][0]) == {"client", "date", "technicians", "instrument_ids", "earliest_due_on"}
    bad = runner.invoke(
        args=["visits", "plan", "--org", world.institute.slug, "--from", "2026-02-30", "--days", "x"]
    )
    assert bad.exit_code == 2
    firm = runner.invoke(
        args=["visits", "plan", "--org", world.a.org.slug, "--from", "2026-03-02", "--days", "7"]
    )
    assert firm.exit_code == 2


def test_instruments_on_an_open_service_order_are_not_planned(app, db_session, world, staffed):
    from service.visits import operations as visit_ops
    from service.visits.operations import NewVisit

    admin, press = staffed
    gauge = _due(db_session, world.a, "一般压力表", START + timedelta(days=3))
    with app.test_request_context():  # the institute is told: a notice is rendered
        factories.make_order(
            db_session,
            world.a.actor(),
            world.institute.id,
            [gauge],
            today=START,
            base_url="https://ledger.example.cn",
            now=datetime(2026, 3, 2, tzinfo=UTC),
        )
    db_session.commit()
    assert proposals.propose(db_session, admin, START, 14).as_json()["visits"] == []
    with pytest.raises(Conflict):
        visit_ops.create_visits(
            db_session,
            admin,
            [NewVisit(world.a.org.id, START, {gauge.id: press.id})],
            START,
            "x",
            datetime.now(UTC),
        )
